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
-- Reserve makes a reservation with quotas by one call of the function
-- ${p}reserve_quotas below; Release, Complete and Deregister free its
-- places by one call of ${p}free_places. Every statement can run again.

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

-- The function ${p}reserve_quotas, which Reserve calls for a reservation
-- with quotas: the writes of ${p}reserve (0006_application.sql, whose
-- answers it gives for a code reserved already) with the number of quotas
-- stored, then for each quota, in the order of the arrays (the caller
-- passes them in the byte order of the keys, with p_index the position of
-- each in Reservation.Quotas), the upsert of the member's place and, for
-- a new member only, the conditional upsert of the key's members; then
-- the places recorded in ${p}reservation_quotas. It answers o_outcome 1
-- and the instance's slots afterwards; 3 and the slots now if the
-- instance is full; or 5 and the smallest p_index of the keys found full;
-- for those two the writes are rolled back first, by the block's
-- exception handler, which the function raises itself (a subtransaction).
-- Keys not full after a full one are still taken, so that every full key
-- is seen. It runs only at READ COMMITTED, where a row written by another
-- transaction is waited for and read again; elsewhere it raises SQLSTATE
-- ICPV4 before any write, and the caller runs it again in a transaction
-- at READ COMMITTED (at REPEATABLE READ or SERIALIZABLE every call that
-- met a key row written since its snapshot would fail and be retried, and
-- a key's row is written by every new member). It can be created again.
-- The runtime role needs EXECUTE on it.
-- routine
CREATE OR REPLACE FUNCTION ${p}reserve_quotas(
    p_code TEXT, p_instance TEXT, p_account TEXT, p_subject TEXT,
    p_subject_key TEXT, p_website TEXT, p_at TIMESTAMPTZ, p_limit INTEGER,
    p_application TEXT, p_keys TEXT[], p_members TEXT[], p_limits BIGINT[],
    p_until_filed BOOLEAN[], p_index INTEGER[],
    OUT o_outcome INTEGER, OUT o_used INTEGER)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $fn$
DECLARE
    v_holds INTEGER;
    v_first INTEGER := -1;
    v_old   RECORD;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'reserve_quotas runs at READ COMMITTED' USING ERRCODE = 'ICPV4';
    END IF;
    BEGIN
        INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application, quotas)
            VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at, p_application,
                cardinality(p_keys))
            ON CONFLICT (code) DO NOTHING;
        IF NOT FOUND THEN
            SELECT r.instance, r.account, r.subject_key, r.website, r.filed INTO v_old
                FROM ${p}reservations AS r WHERE r.code = p_code;
            IF NOT FOUND THEN
                o_outcome := 0;
            ELSIF NOT v_old.filed AND v_old.instance = p_instance AND v_old.account = p_account
                    AND v_old.subject_key = p_subject_key AND v_old.website = p_website THEN
                o_outcome := 2;
            ELSE
                o_outcome := 4;
            END IF;
            o_used := COALESCE((SELECT u.used FROM ${p}quota AS u WHERE u.instance = p_instance), 0);
            RETURN;
        END IF;
        INSERT INTO ${p}slots AS s (instance, subject_key, holds) VALUES (p_instance, p_subject_key, 1)
            ON CONFLICT (instance, subject_key) DO UPDATE SET holds = s.holds + 1
            RETURNING s.holds INTO v_holds;
        IF v_holds > 1 THEN
            SELECT u.used INTO o_used FROM ${p}quota AS u WHERE u.instance = p_instance;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'malformed quota: instance % has a slot but no quota row', p_instance
                    USING ERRCODE = 'ICPV2';
            END IF;
        ELSE
            INSERT INTO ${p}quota AS u (instance, used) SELECT p_instance, 1 WHERE p_limit > 0
                ON CONFLICT (instance) DO UPDATE SET used = u.used + 1 WHERE u.used < p_limit
                RETURNING u.used INTO o_used;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'instance % is full', p_instance USING ERRCODE = 'ICPV1';
            END IF;
        END IF;
        FOR i IN 1 .. cardinality(p_keys) LOOP
            INSERT INTO ${p}quota_places AS pl (qkey, member, holds) VALUES (p_keys[i], p_members[i], 1)
                ON CONFLICT (qkey, member) DO UPDATE SET holds = pl.holds + 1
                RETURNING pl.holds INTO v_holds;
            CONTINUE WHEN v_holds > 1;
            INSERT INTO ${p}quota_keys AS k (qkey, members) SELECT p_keys[i], 1 WHERE p_limits[i] > 0
                ON CONFLICT (qkey) DO UPDATE SET members = k.members + 1 WHERE k.members < p_limits[i];
            IF NOT FOUND AND (v_first < 0 OR p_index[i] < v_first) THEN
                v_first := p_index[i];
            END IF;
        END LOOP;
        IF v_first >= 0 THEN
            RAISE EXCEPTION 'quota % is full', v_first USING ERRCODE = 'ICPV3';
        END IF;
        INSERT INTO ${p}reservation_quotas (code, qkey, member, until_filed)
            SELECT p_code, q.k, q.m, q.u FROM unnest(p_keys, p_members, p_until_filed) AS q(k, m, u);
        o_outcome := 1;
    EXCEPTION
        WHEN SQLSTATE 'ICPV1' THEN
            o_outcome := 3;
            o_used := COALESCE((SELECT u.used FROM ${p}quota AS u WHERE u.instance = p_instance), 0);
        WHEN SQLSTATE 'ICPV3' THEN
            o_outcome := 5;
            o_used := v_first;
    END;
END
$fn$;
-- end routine

-- The function ${p}free_places, which Release, Complete and Deregister
-- call in their transaction, where the reservation of p_code is locked:
-- it frees the places the reservation holds (only those of its quotas
-- UntilFiled if p_until_filed is set) and forgets them. For each, in the
-- byte order of the keys, as ${p}reserve_quotas takes them: one
-- reservation less on the member's place, and if that was its last, the
-- place deleted and one member less on the key. It answers the number of
-- places freed, and raises SQLSTATE ICPV2 where the rows do not agree. It
-- can be created again. The runtime role needs EXECUTE on it.
-- routine
CREATE OR REPLACE FUNCTION ${p}free_places(p_code TEXT, p_until_filed BOOLEAN)
RETURNS INTEGER
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $fn$
DECLARE
    v_place RECORD;
    v_holds INTEGER;
    v_n     INTEGER := 0;
BEGIN
    FOR v_place IN SELECT rq.qkey, rq.member FROM ${p}reservation_quotas AS rq
            WHERE rq.code = p_code AND (rq.until_filed OR NOT p_until_filed)
            ORDER BY rq.qkey COLLATE "C" LOOP
        v_n := v_n + 1;
        UPDATE ${p}quota_places AS pl SET holds = pl.holds - 1
            WHERE pl.qkey = v_place.qkey AND pl.member = v_place.member
            RETURNING pl.holds INTO v_holds;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'malformed quota: a reservation holds a place under quota key % that is not stored',
                v_place.qkey USING ERRCODE = 'ICPV2';
        END IF;
        CONTINUE WHEN v_holds > 0;
        DELETE FROM ${p}quota_places AS pl WHERE pl.qkey = v_place.qkey AND pl.member = v_place.member;
        UPDATE ${p}quota_keys AS k SET members = k.members - 1 WHERE k.qkey = v_place.qkey AND k.members > 0;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'malformed quota: quota key % has a place but no members', v_place.qkey
                USING ERRCODE = 'ICPV2';
        END IF;
    END LOOP;
    IF v_n > 0 THEN
        DELETE FROM ${p}reservation_quotas AS rq WHERE rq.code = p_code AND (rq.until_filed OR NOT p_until_filed);
    END IF;
    RETURN v_n;
END
$fn$;
-- end routine
