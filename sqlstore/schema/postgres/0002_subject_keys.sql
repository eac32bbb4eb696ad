-- icpverify sqlstore schema, version 2, PostgreSQL: a reservation carries
-- the subject key and website of its application, and slots are kept per
-- (instance, subject key).
-- Migrate runs the steps below in order, all in its one transaction. A
-- "-- step" line names a step; Migrate skips "columns" and "slot-column"
-- when their column exists, and "keys", "rekey" and "key-slots" when
-- ${p}slots no longer has its version-1 column subject (a step that is done,
-- which matters on MySQL only, where DDL is not transactional). After the
-- statements of "keys", Migrate fills ${p}v1_subject_keys in Go: for every
-- subject of ${p}reservations and ${p}slots, the key the Verifier gives that
-- name (subject.Key: "name:" and the canonical name), or
-- "v1:" and the subject as it is for a name that yields no key.

-- step columns
ALTER TABLE ${p}reservations
    ADD COLUMN subject_key TEXT NOT NULL DEFAULT '',
    ADD COLUMN website     TEXT NOT NULL DEFAULT '';

-- step slot-column
ALTER TABLE ${p}slots ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';

-- step keys
CREATE TABLE IF NOT EXISTS ${p}v1_subject_keys (
    subject     TEXT NOT NULL PRIMARY KEY,
    subject_key TEXT NOT NULL
);

-- step rekey
-- Key the reservations and slots; merge the slots of subjects that share a
-- key on an instance, summing their holds; count each instance's slots anew.
UPDATE ${p}reservations AS r SET subject_key = k.subject_key
    FROM ${p}v1_subject_keys AS k
    WHERE k.subject = r.subject AND r.subject_key = '';
UPDATE ${p}slots AS s SET subject_key = k.subject_key
    FROM ${p}v1_subject_keys AS k
    WHERE k.subject = s.subject AND s.subject_key = '';
UPDATE ${p}slots AS s SET holds = m.holds
    FROM (SELECT instance, subject_key, SUM(holds) AS holds, MIN(subject) AS keep
          FROM ${p}slots GROUP BY instance, subject_key HAVING COUNT(*) > 1) AS m
    WHERE s.instance = m.instance AND s.subject = m.keep;
DELETE FROM ${p}slots AS s
    USING (SELECT instance, subject_key, MIN(subject) AS keep
           FROM ${p}slots GROUP BY instance, subject_key HAVING COUNT(*) > 1) AS m
    WHERE s.instance = m.instance AND s.subject_key = m.subject_key AND s.subject <> m.keep;
UPDATE ${p}quota AS q SET used = c.used
    FROM (SELECT q2.instance, COUNT(s.instance) AS used
          FROM ${p}quota AS q2 LEFT JOIN ${p}slots AS s ON s.instance = q2.instance
          GROUP BY q2.instance) AS c
    WHERE q.instance = c.instance AND q.used <> c.used;
INSERT INTO ${p}quota (instance, used)
    SELECT s.instance, COUNT(*) FROM ${p}slots AS s
    WHERE NOT EXISTS (SELECT 1 FROM ${p}quota AS q WHERE q.instance = s.instance)
    GROUP BY s.instance;

-- step key-slots
ALTER TABLE ${p}slots DROP COLUMN subject;
ALTER TABLE ${p}slots ADD PRIMARY KEY (instance, subject_key);

-- step cleanup
ALTER TABLE ${p}reservations ALTER COLUMN subject_key DROP DEFAULT;
ALTER TABLE ${p}slots ALTER COLUMN subject_key DROP DEFAULT;
DROP TABLE IF EXISTS ${p}v1_subject_keys;
