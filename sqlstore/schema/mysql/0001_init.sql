-- icpverify sqlstore schema, version 1, MySQL 8.0.16+ and MariaDB 10.5+.
-- ${p} is the table name prefix (default "icpverify_").
-- Keys and text are VARBINARY: compared byte for byte, without the case
-- folding and trailing-space padding of the default collations. The store
-- refuses values over 256 bytes. Times are DATETIME(6) in UTC; NULL is Go's
-- zero time.

CREATE TABLE IF NOT EXISTS ${p}instances (
    id          VARBINARY(256) NOT NULL,
    account     VARBINARY(256) NOT NULL,
    product     VARBINARY(256) NOT NULL,
    region      VARBINARY(256) NOT NULL,
    billing     VARBINARY(256) NOT NULL,
    term_months BIGINT         NOT NULL,
    public_ip   VARBINARY(256) NOT NULL,
    trial       BOOLEAN        NOT NULL,
    status      VARBINARY(256) NOT NULL,
    expires_at  DATETIME(6)    NULL,
    issued      INT            NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY ${p}instances_account (account),
    CONSTRAINT ${p}instances_issued CHECK (issued >= 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}service_codes (
    code      VARBINARY(256) NOT NULL,
    instance  VARBINARY(256) NOT NULL,
    owner     VARBINARY(256) NOT NULL,
    grantee   VARBINARY(256) NOT NULL DEFAULT '',
    revoked   BOOLEAN        NOT NULL DEFAULT FALSE,
    issued_at DATETIME(6)    NULL,
    PRIMARY KEY (code)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}quota (
    instance VARBINARY(256) NOT NULL,
    used     INT            NOT NULL,
    PRIMARY KEY (instance),
    CONSTRAINT ${p}quota_used CHECK (used >= 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}slots (
    instance VARBINARY(256) NOT NULL,
    subject  VARBINARY(256) NOT NULL,
    holds    INT            NOT NULL,
    PRIMARY KEY (instance, subject),
    CONSTRAINT ${p}slots_holds CHECK (holds >= 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}reservations (
    code        VARBINARY(256) NOT NULL,
    instance    VARBINARY(256) NOT NULL,
    account     VARBINARY(256) NOT NULL,
    subject     VARBINARY(256) NOT NULL,
    filed       BOOLEAN        NOT NULL DEFAULT FALSE,
    reserved_at DATETIME(6)    NULL,
    PRIMARY KEY (code),
    KEY ${p}reservations_account (account)
) ENGINE=InnoDB;
