-- icpverify sqlstore schema, version 1, SQLite 3.37+ (STRICT tables).
-- ${p} is the table name prefix (default "icpverify_").
-- Times are TEXT in UTC, "2006-01-02T15:04:05.000000Z" (microseconds, so
-- they sort as they compare); NULL is Go's zero time.

CREATE TABLE IF NOT EXISTS ${p}instances (
    id          TEXT    NOT NULL PRIMARY KEY,
    account     TEXT    NOT NULL,
    product     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    billing     TEXT    NOT NULL,
    term_months INTEGER NOT NULL,
    public_ip   TEXT    NOT NULL,
    trial       INTEGER NOT NULL CHECK (trial IN (0, 1)),
    status      TEXT    NOT NULL,
    expires_at  TEXT    NULL,
    issued      INTEGER NOT NULL DEFAULT 0 CHECK (issued >= 0)
) STRICT;

CREATE INDEX IF NOT EXISTS ${p}instances_account ON ${p}instances (account);

CREATE TABLE IF NOT EXISTS ${p}service_codes (
    code      TEXT    NOT NULL PRIMARY KEY,
    instance  TEXT    NOT NULL,
    owner     TEXT    NOT NULL,
    grantee   TEXT    NOT NULL DEFAULT '',
    revoked   INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    issued_at TEXT    NULL
) STRICT;

CREATE TABLE IF NOT EXISTS ${p}quota (
    instance TEXT    NOT NULL PRIMARY KEY,
    used     INTEGER NOT NULL CHECK (used >= 0)
) STRICT;

CREATE TABLE IF NOT EXISTS ${p}slots (
    instance TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    holds    INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (instance, subject)
) STRICT;

CREATE TABLE IF NOT EXISTS ${p}reservations (
    code        TEXT    NOT NULL PRIMARY KEY,
    instance    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    filed       INTEGER NOT NULL DEFAULT 0 CHECK (filed IN (0, 1)),
    reserved_at TEXT    NULL
) STRICT;

CREATE INDEX IF NOT EXISTS ${p}reservations_account ON ${p}reservations (account);
