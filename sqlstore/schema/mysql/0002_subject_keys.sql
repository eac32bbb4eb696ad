-- icpverify sqlstore schema, version 2, MySQL 8.0.16+ and MariaDB 10.5+: a
-- reservation carries the subject key and website of its application, and
-- slots are kept per (instance, subject key). A subject key is up to 512
-- bytes: "name:" and a canonical name of up to 256.
-- Migrate runs the steps below in order, on the connection that holds its
-- lock. A "-- step" line names a step. MySQL runs DDL outside transactions,
-- so that a migration cut short leaves its finished steps behind: Migrate
-- skips "columns" and "slot-column" when their column exists, and "keys",
-- "rekey" and "key-slots" when ${p}slots no longer has its version-1 column
-- subject; "rekey" runs in one transaction and, as the other steps, can run
-- again. After the statements of "keys", Migrate fills ${p}v1_subject_keys
-- in Go: for every subject of ${p}reservations and ${p}slots, the key the
-- Verifier gives that name (subject.Key: "name:" and the
-- canonical name), or "v1:" and the subject as it is for a name that yields
-- no key.

-- step columns
ALTER TABLE ${p}reservations
    ADD COLUMN subject_key VARBINARY(512) NOT NULL DEFAULT '',
    ADD COLUMN website     VARBINARY(256) NOT NULL DEFAULT '';

-- step slot-column
ALTER TABLE ${p}slots ADD COLUMN subject_key VARBINARY(512) NOT NULL DEFAULT '';

-- step keys
CREATE TABLE IF NOT EXISTS ${p}v1_subject_keys (
    subject     VARBINARY(256) NOT NULL,
    subject_key VARBINARY(512) NOT NULL,
    PRIMARY KEY (subject)
) ENGINE=InnoDB;

-- step rekey
-- Key the reservations and slots; merge the slots of subjects that share a
-- key on an instance, summing their holds; count each instance's slots anew.
UPDATE ${p}reservations r JOIN ${p}v1_subject_keys k ON k.subject = r.subject
    SET r.subject_key = k.subject_key
    WHERE r.subject_key = '';
UPDATE ${p}slots s JOIN ${p}v1_subject_keys k ON k.subject = s.subject
    SET s.subject_key = k.subject_key
    WHERE s.subject_key = '';
UPDATE ${p}slots s
    JOIN (SELECT instance, subject_key, SUM(holds) AS holds, MIN(subject) AS keep
          FROM ${p}slots GROUP BY instance, subject_key HAVING COUNT(*) > 1) m
    ON s.instance = m.instance AND s.subject = m.keep
    SET s.holds = m.holds;
DELETE s FROM ${p}slots s
    JOIN (SELECT instance, subject_key, MIN(subject) AS keep
          FROM ${p}slots GROUP BY instance, subject_key HAVING COUNT(*) > 1) m
    ON s.instance = m.instance AND s.subject_key = m.subject_key AND s.subject <> m.keep;
UPDATE ${p}quota q
    JOIN (SELECT q2.instance, COUNT(s.instance) AS used
          FROM ${p}quota q2 LEFT JOIN ${p}slots s ON s.instance = q2.instance
          GROUP BY q2.instance) c
    ON q.instance = c.instance
    SET q.used = c.used
    WHERE q.used <> c.used;
INSERT INTO ${p}quota (instance, used)
    SELECT s.instance, COUNT(*) FROM ${p}slots s
    WHERE NOT EXISTS (SELECT 1 FROM ${p}quota q WHERE q.instance = s.instance)
    GROUP BY s.instance;

-- step key-slots
ALTER TABLE ${p}slots
    DROP PRIMARY KEY,
    DROP COLUMN subject,
    ADD PRIMARY KEY (instance, subject_key),
    ALTER COLUMN subject_key DROP DEFAULT;

-- step cleanup
ALTER TABLE ${p}reservations ALTER COLUMN subject_key DROP DEFAULT;
DROP TABLE IF EXISTS ${p}v1_subject_keys;
