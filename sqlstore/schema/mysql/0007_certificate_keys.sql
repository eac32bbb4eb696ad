-- icpverify sqlstore schema, version 7, MySQL 8.0.16+ and MariaDB 10.5+:
-- subjects are keyed anew. A certificate keys by its number whatever type
-- was declared (a USCC by its organisation code, a 15-digit resident
-- identity number by its 18-digit form), and a name drops every
-- default-ignorable code point and the space next to CJK characters and
-- ASCII punctuation (subject.Key), so keys that version 6 kept apart may
-- now be one. The tables do not change; their rows are re-keyed in place.
-- After the statement of "rekeys", Migrate fills ${p}v6_subject_keys in
-- Go: every subject key of ${p}reservations and ${p}slots that this
-- version keys otherwise, with its new key. A key that yields no new one
-- stays as it is: no request can have it. "rekey-v7" runs in one
-- transaction; a migration cut short runs every step again, and finds the
-- keys re-keyed already: this version's keys are their own.

-- step rekeys
CREATE TABLE IF NOT EXISTS ${p}v6_subject_keys (
    subject_key VARBINARY(512) NOT NULL,
    new_key     VARBINARY(512) NOT NULL,
    PRIMARY KEY (subject_key)
) ENGINE=InnoDB;

-- step rekey-v7
-- Re-key the reservations; merge each re-keyed slot into the slot of its
-- new key on its instance, summing their holds; count each instance's
-- slots anew.
UPDATE ${p}reservations r JOIN ${p}v6_subject_keys k ON k.subject_key = r.subject_key
    SET r.subject_key = k.new_key;
INSERT INTO ${p}slots (instance, subject_key, holds)
    SELECT m.instance, m.new_key, m.holds
    FROM (SELECT s.instance, k.new_key, SUM(s.holds) AS holds
          FROM ${p}slots s JOIN ${p}v6_subject_keys k ON k.subject_key = s.subject_key
          GROUP BY s.instance, k.new_key) m
    ON DUPLICATE KEY UPDATE holds = ${p}slots.holds + VALUES(holds);
DELETE FROM ${p}slots WHERE subject_key IN (SELECT subject_key FROM ${p}v6_subject_keys);
UPDATE ${p}quota q
    JOIN (SELECT q2.instance, COUNT(s.instance) AS used
          FROM ${p}quota q2 LEFT JOIN ${p}slots s ON s.instance = q2.instance
          GROUP BY q2.instance) c
    ON q.instance = c.instance
    SET q.used = c.used
    WHERE q.used <> c.used;

-- step rekey-cleanup
DROP TABLE IF EXISTS ${p}v6_subject_keys;
