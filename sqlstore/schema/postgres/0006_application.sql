-- icpverify sqlstore schema, version 6, PostgreSQL: a reservation carries
-- the identity of its application (icpverify.Reservation.Application), 1
-- to 64 ASCII letters and digits, unique among the reservations, by which
-- the store finds it, releases it and completes it. The function
-- ${p}reserve takes it as its last parameter and stores it with a new
-- reservation; a retry that finds the code held keeps the stored one.
--
-- The upgrade gives every reservation stored before it an identity of
-- its own, 32 random lower-case hexadecimal digits, as the Verifier makes
-- them; the Verifier never made one for those rows, so no caller knows
-- them until it reads them (Reservation, LookupServiceCode, the listers).
-- Every statement can run again: the column and the index are added only
-- if missing, only rows without an identity are filled, and the function
-- of version 3, which has one parameter less, is dropped before the new
-- one is created. The runtime role needs EXECUTE on the new function.

ALTER TABLE ${p}reservations ADD COLUMN IF NOT EXISTS application TEXT NULL;
UPDATE ${p}reservations
    SET application = md5(random()::text || clock_timestamp()::text || code)
    WHERE application IS NULL;
ALTER TABLE ${p}reservations ALTER COLUMN application SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ${p}reservations_application ON ${p}reservations (application);

DROP FUNCTION IF EXISTS ${p}reserve(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TIMESTAMPTZ, INTEGER);

-- The function of version 3 (0003_reserve_routine.sql, which says what it
-- answers), with the application stored in the row it inserts.
-- routine
CREATE OR REPLACE FUNCTION ${p}reserve(
    p_code TEXT, p_instance TEXT, p_account TEXT, p_subject TEXT,
    p_subject_key TEXT, p_website TEXT, p_at TIMESTAMPTZ, p_limit INTEGER,
    p_application TEXT,
    OUT o_outcome INTEGER, OUT o_used INTEGER)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $fn$
DECLARE
    v_holds INTEGER;
    v_old   RECORD;
BEGIN
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at, p_application)
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
    o_outcome := 1;
    IF v_holds > 1 THEN
        -- A slot the key held already: its quota row exists.
        SELECT u.used INTO o_used FROM ${p}quota AS u WHERE u.instance = p_instance;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'malformed quota: instance % has a slot but no quota row', p_instance
                USING ERRCODE = 'ICPV2';
        END IF;
        RETURN;
    END IF;
    INSERT INTO ${p}quota AS u (instance, used) SELECT p_instance, 1 WHERE p_limit > 0
        ON CONFLICT (instance) DO UPDATE SET used = u.used + 1 WHERE u.used < p_limit
        RETURNING u.used INTO o_used;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % is full', p_instance USING ERRCODE = 'ICPV1';
    END IF;
END
$fn$;
-- end routine
