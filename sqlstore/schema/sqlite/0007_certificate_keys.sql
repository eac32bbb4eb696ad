-- icpverify sqlstore schema, version 7, SQLite: subjects are keyed anew.
-- A certificate keys by its number whatever type was declared (a USCC by
-- its organisation code, a 15-digit resident identity number by its
-- 18-digit form), and a name drops every default-ignorable code point and
-- the space next to CJK characters and ASCII punctuation (subject.Key), so
-- keys that version 6 kept apart may now be one. The tables do not
-- change; their rows are re-keyed in place, in Migrate's transaction.
-- After the statement of "rekeys", Migrate fills ${p}v6_subject_keys in
-- Go: every subject key of ${p}reservations and ${p}slots that this
-- version keys otherwise, with its new key. A key that yields no new one
-- stays as it is: no request can have it.

-- step rekeys
CREATE TABLE IF NOT EXISTS ${p}v6_subject_keys (
    subject_key TEXT NOT NULL PRIMARY KEY,
    new_key     TEXT NOT NULL
) STRICT;

-- step rekey-v7
-- Re-key the reservations; merge each re-keyed slot into the slot of its
-- new key on its instance, summing their holds; count each instance's
-- slots anew. (WHERE true tells SQLite's parser that ON CONFLICT is the
-- upsert's, not the join's.)
UPDATE ${p}reservations AS r SET subject_key = k.new_key
    FROM ${p}v6_subject_keys AS k
    WHERE r.subject_key = k.subject_key;
INSERT INTO ${p}slots (instance, subject_key, holds)
    SELECT s.instance, k.new_key, SUM(s.holds)
    FROM ${p}slots AS s JOIN ${p}v6_subject_keys AS k ON k.subject_key = s.subject_key
    WHERE true
    GROUP BY s.instance, k.new_key
    ON CONFLICT (instance, subject_key) DO UPDATE SET holds = ${p}slots.holds + excluded.holds;
DELETE FROM ${p}slots WHERE subject_key IN (SELECT subject_key FROM ${p}v6_subject_keys);
UPDATE ${p}quota AS q SET used = c.used
    FROM (SELECT q2.instance, COUNT(s.instance) AS used
          FROM ${p}quota AS q2 LEFT JOIN ${p}slots AS s ON s.instance = q2.instance
          GROUP BY q2.instance) AS c
    WHERE q.instance = c.instance AND q.used <> c.used;

-- step rekey-cleanup
DROP TABLE IF EXISTS ${p}v6_subject_keys;
