-- icpverify sqlstore schema, version 5, SQLite: the three tables that a
-- reservation writes, quota, slots and reservations, become WITHOUT ROWID
-- tables. Each is then one B-tree ordered by its primary key, where a
-- table with a rowid is two (the table, and the index of its key), so
-- that a reservation writes, checksums and syncs about half as many pages
-- of the write-ahead log. The upgrade from version 4 rebuilds each table
-- in place with its rows, in Migrate's transaction: a crash leaves
-- version 4 as it was.

CREATE TABLE ${p}quota_v5 (
    instance TEXT    NOT NULL PRIMARY KEY,
    used     INTEGER NOT NULL CHECK (used >= 0)
) STRICT, WITHOUT ROWID;
INSERT INTO ${p}quota_v5 (instance, used) SELECT instance, used FROM ${p}quota;
DROP TABLE ${p}quota;
ALTER TABLE ${p}quota_v5 RENAME TO ${p}quota;

CREATE TABLE ${p}slots_v5 (
    instance    TEXT    NOT NULL,
    subject_key TEXT    NOT NULL,
    holds       INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (instance, subject_key)
) STRICT, WITHOUT ROWID;
INSERT INTO ${p}slots_v5 (instance, subject_key, holds) SELECT instance, subject_key, holds FROM ${p}slots;
DROP TABLE ${p}slots;
ALTER TABLE ${p}slots_v5 RENAME TO ${p}slots;

CREATE TABLE ${p}reservations_v5 (
    code        TEXT    NOT NULL PRIMARY KEY,
    instance    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    filed       INTEGER NOT NULL DEFAULT 0 CHECK (filed IN (0, 1)),
    reserved_at TEXT    NULL,
    subject_key TEXT    NOT NULL DEFAULT '',
    website     TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
INSERT INTO ${p}reservations_v5 (code, instance, account, subject, filed, reserved_at, subject_key, website)
    SELECT code, instance, account, subject, filed, reserved_at, subject_key, website FROM ${p}reservations;
DROP TABLE ${p}reservations;
ALTER TABLE ${p}reservations_v5 RENAME TO ${p}reservations;
CREATE INDEX ${p}reservations_account ON ${p}reservations (account);
