-- icpverify sqlstore schema, version 6, SQLite: a reservation carries the
-- identity of its application (icpverify.Reservation.Application), 1 to
-- 64 ASCII letters and digits, unique among the reservations, by which the
-- store finds it, releases it and completes it.
--
-- SQLite cannot add a NOT NULL column without a default: the upgrade
-- rebuilds ${p}reservations in place, WITHOUT ROWID as version 5 made it,
-- in Migrate's transaction, and gives every reservation stored before it
-- an identity of its own, 32 random lower-case hexadecimal digits, as the
-- Verifier makes them; the Verifier never made one for those rows, so no
-- caller knows them until it reads them (Reservation, LookupServiceCode,
-- the listers). Migrate skips the step once the column exists.

-- step application-column
CREATE TABLE ${p}reservations_v6 (
    code        TEXT    NOT NULL PRIMARY KEY,
    instance    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    filed       INTEGER NOT NULL DEFAULT 0 CHECK (filed IN (0, 1)),
    reserved_at TEXT    NULL,
    subject_key TEXT    NOT NULL DEFAULT '',
    website     TEXT    NOT NULL DEFAULT '',
    application TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO ${p}reservations_v6 (code, instance, account, subject, filed, reserved_at, subject_key, website, application)
    SELECT code, instance, account, subject, filed, reserved_at, subject_key, website, lower(hex(randomblob(16)))
    FROM ${p}reservations;
DROP TABLE ${p}reservations;
ALTER TABLE ${p}reservations_v6 RENAME TO ${p}reservations;
CREATE INDEX ${p}reservations_account ON ${p}reservations (account);
CREATE UNIQUE INDEX ${p}reservations_application ON ${p}reservations (application);
