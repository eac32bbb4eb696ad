-- icpverify sqlstore schema, version 9, SQLite: the quotas a reservation
-- counts toward beside its subject slot (icpverify.Reservation.Quotas),
-- and deregistered filings. ${p}quota_keys holds, per quota key, the
-- number of members that hold a place under it, members; ${p}quota_places,
-- per (key, member), the number of reservations that count the member,
-- holds (a member's place is freed with its last reservation);
-- ${p}reservation_quotas, the places each reservation took and still
-- holds, so that Release, Complete and Deregister free exactly those. They
-- are WITHOUT ROWID tables, as version 5 made the tables a reservation
-- writes. A reservation's column quotas is the number of quotas it was
-- made with (0 for one made without, as every reservation before this
-- version); deregistered is set by Deregister, which frees the slot and
-- places of a filed reservation and keeps the reservation. The upgrade
-- runs in Migrate's transaction; it skips "quota-columns" once the column
-- deregistered exists.

-- step quota-columns
ALTER TABLE ${p}reservations ADD COLUMN deregistered INTEGER NOT NULL DEFAULT 0 CHECK (deregistered IN (0, 1));
ALTER TABLE ${p}reservations ADD COLUMN quotas INTEGER NOT NULL DEFAULT 0;

-- step quota-tables
CREATE TABLE IF NOT EXISTS ${p}quota_keys (
    qkey    TEXT    NOT NULL PRIMARY KEY,
    members INTEGER NOT NULL CHECK (members >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ${p}quota_places (
    qkey   TEXT    NOT NULL,
    member TEXT    NOT NULL,
    holds  INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (qkey, member)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ${p}reservation_quotas (
    code        TEXT    NOT NULL,
    qkey        TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    until_filed INTEGER NOT NULL CHECK (until_filed IN (0, 1)),
    PRIMARY KEY (code, qkey)
) STRICT, WITHOUT ROWID;
