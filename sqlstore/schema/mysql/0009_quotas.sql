-- icpverify sqlstore schema, version 9, MySQL and MariaDB: the quotas a
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
-- is full; on a Galera cluster two nodes that take the last place both
-- write the key's row, and one fails certification and is run again. Keys
-- and members are VARBINARY(512), as subject keys. A reservation's column
-- quotas is the number of quotas it was made with (0 for one made without,
-- as every reservation before this version, and every one that the
-- procedure ${p}reserve makes, which is unchanged); deregistered is set by
-- Deregister, which frees the slot and places of a filed reservation and
-- keeps the reservation. MySQL runs DDL outside transactions: Migrate
-- skips "quota-columns" once the column deregistered exists (one ALTER
-- adds both), and the tables are created only if missing.

-- step quota-columns
ALTER TABLE ${p}reservations
    ADD COLUMN deregistered BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN quotas       INT     NOT NULL DEFAULT 0;

-- step quota-tables
CREATE TABLE IF NOT EXISTS ${p}quota_keys (
    qkey    VARBINARY(512) NOT NULL,
    members INT            NOT NULL,
    PRIMARY KEY (qkey),
    CONSTRAINT ${p}quota_keys_members CHECK (members >= 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}quota_places (
    qkey   VARBINARY(512) NOT NULL,
    member VARBINARY(512) NOT NULL,
    holds  INT            NOT NULL,
    PRIMARY KEY (qkey, member),
    CONSTRAINT ${p}quota_places_holds CHECK (holds >= 0)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ${p}reservation_quotas (
    code        VARBINARY(256) NOT NULL,
    qkey        VARBINARY(512) NOT NULL,
    member      VARBINARY(512) NOT NULL,
    until_filed BOOLEAN        NOT NULL,
    PRIMARY KEY (code, qkey)
) ENGINE=InnoDB;
