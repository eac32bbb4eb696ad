-- icpverify sqlstore schema, version 9, PostgreSQL: the quotas a
-- reservation counts toward beside its subject slot
-- (icpverify.Reservation.Quotas), and deregistered filings.
-- ${p}quota_keys holds, per quota key, the number of members that hold a
-- place under it, members; ${p}quota_places, per (key, member), the number
-- of reservations that count the member, holds (a member's place is freed
-- with its last reservation); ${p}reservation_quotas, the places each
-- reservation took and still holds, so that Release, Complete and
-- Deregister free exactly those. A place is taken as a slot is, by a write
-- on one row that decides: the upsert of the member's place (a new row is
-- a new member), then, for a new member only, the conditional increment of
-- the key's members (members < limit), which changes no row where the key
-- is full. A reservation's column quotas is the number of quotas it was
-- made with (0 for one made without, as every reservation before this
-- version, and every one that ${p}reserve and ${p}reserve_code make,
-- which are unchanged); deregistered is set by Deregister, which frees
-- the slot and places of a filed reservation and keeps the reservation.
-- Every statement can run again.

ALTER TABLE ${p}reservations ADD COLUMN IF NOT EXISTS deregistered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE ${p}reservations ADD COLUMN IF NOT EXISTS quotas INTEGER NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS ${p}quota_keys (
    qkey    TEXT    NOT NULL PRIMARY KEY,
    members INTEGER NOT NULL CHECK (members >= 0)
);

CREATE TABLE IF NOT EXISTS ${p}quota_places (
    qkey   TEXT    NOT NULL,
    member TEXT    NOT NULL,
    holds  INTEGER NOT NULL CHECK (holds >= 0),
    PRIMARY KEY (qkey, member)
);

CREATE TABLE IF NOT EXISTS ${p}reservation_quotas (
    code        TEXT    NOT NULL,
    qkey        TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    until_filed BOOLEAN NOT NULL,
    PRIMARY KEY (code, qkey)
);
