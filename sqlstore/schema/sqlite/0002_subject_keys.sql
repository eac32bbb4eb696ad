-- icpverify sqlstore schema, version 2, SQLite: a reservation carries the
-- subject key and website of its application, and slots are kept per
-- (instance, subject key).
-- Migrate runs the steps below in order, all in its one transaction. A
-- "-- step" line names a step; Migrate skips "columns" when its column
-- exists, and "keys" and "rekey" when ${p}slots no longer has its version-1
-- column subject (a step that is done, which matters on MySQL only, where
-- DDL is not transactional). After the statements of "keys", Migrate fills
-- ${p}v1_subject_keys in Go: for every subject of ${p}reservations and
-- ${p}slots, the key the Verifier gives that name (subject.Key:
-- "name:" and the canonical name), or "v1:" and the subject as it is for a
-- name that yields no key. SQLite cannot drop a column of a primary key:
-- "rekey" builds the new ${p}slots in its place. It cannot drop a column's
-- default either: subject_key keeps the default '' that ADD COLUMN needs,
-- which the store never relies on.

-- step columns
ALTER TABLE ${p}reservations ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';
ALTER TABLE ${p}reservations ADD COLUMN website TEXT NOT NULL DEFAULT '';

-- step keys
CREATE TABLE IF NOT EXISTS ${p}v1_subject_keys (
    subject     TEXT NOT NULL PRIMARY KEY,
    subject_key TEXT NOT NULL
) STRICT;

-- step rekey
-- Key the reservations; build the slots per key, summing the holds of
-- subjects that share a key on an instance; count each instance's slots
-- anew.
UPDATE ${p}reservations AS r SET subject_key = k.subject_key
    FROM ${p}v1_subject_keys AS k
    WHERE k.subject = r.subject AND r.subject_key = '';
CREATE TABLE ${p}slots_v2 (
    instance    TEXT    NOT NULL,
    subject_key TEXT    NOT NULL,
    holds       INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (instance, subject_key)
) STRICT;
INSERT INTO ${p}slots_v2 (instance, subject_key, holds)
    SELECT s.instance, k.subject_key, SUM(s.holds)
    FROM ${p}slots AS s JOIN ${p}v1_subject_keys AS k ON k.subject = s.subject
    GROUP BY s.instance, k.subject_key;
DROP TABLE ${p}slots;
ALTER TABLE ${p}slots_v2 RENAME TO ${p}slots;
UPDATE ${p}quota AS q SET used = c.used
    FROM (SELECT q2.instance, COUNT(s.instance) AS used
          FROM ${p}quota AS q2 LEFT JOIN ${p}slots AS s ON s.instance = q2.instance
          GROUP BY q2.instance) AS c
    WHERE q.instance = c.instance AND q.used <> c.used;
INSERT INTO ${p}quota (instance, used)
    SELECT s.instance, COUNT(*) FROM ${p}slots AS s
    WHERE NOT EXISTS (SELECT 1 FROM ${p}quota AS q WHERE q.instance = s.instance)
    GROUP BY s.instance;

-- step cleanup
DROP TABLE IF EXISTS ${p}v1_subject_keys;
