-- icpverify sqlstore schema, version 1, PostgreSQL.
-- ${p} is the table name prefix (default "icpverify_").
-- Times are TIMESTAMPTZ, microsecond precision; NULL is Go's zero time.

CREATE TABLE IF NOT EXISTS ${p}instances (
    id          TEXT        NOT NULL PRIMARY KEY,
    account     TEXT        NOT NULL,
    product     TEXT        NOT NULL,
    region      TEXT        NOT NULL,
    billing     TEXT        NOT NULL,
    term_months BIGINT      NOT NULL,
    public_ip   TEXT        NOT NULL,
    trial       BOOLEAN     NOT NULL,
    status      TEXT        NOT NULL,
    expires_at  TIMESTAMPTZ NULL,
    issued      INTEGER     NOT NULL DEFAULT 0 CHECK (issued >= 0)
);

CREATE INDEX IF NOT EXISTS ${p}instances_account ON ${p}instances (account);

CREATE TABLE IF NOT EXISTS ${p}service_codes (
    code      TEXT        NOT NULL PRIMARY KEY,
    instance  TEXT        NOT NULL,
    owner     TEXT        NOT NULL,
    grantee   TEXT        NOT NULL DEFAULT '',
    revoked   BOOLEAN     NOT NULL DEFAULT FALSE,
    issued_at TIMESTAMPTZ NULL
);

CREATE TABLE IF NOT EXISTS ${p}quota (
    instance TEXT    NOT NULL PRIMARY KEY,
    used     INTEGER NOT NULL CHECK (used >= 0)
);

CREATE TABLE IF NOT EXISTS ${p}slots (
    instance TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    holds    INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (instance, subject)
);

CREATE TABLE IF NOT EXISTS ${p}reservations (
    code        TEXT        NOT NULL PRIMARY KEY,
    instance    TEXT        NOT NULL,
    account     TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    filed       BOOLEAN     NOT NULL DEFAULT FALSE,
    reserved_at TIMESTAMPTZ NULL
);

CREATE INDEX IF NOT EXISTS ${p}reservations_account ON ${p}reservations (account);
