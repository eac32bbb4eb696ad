-- icpverify sqlstore schema, version 3, PostgreSQL: the function
-- ${p}reserve, which makes a reservation in one statement, so that a first
-- reservation is one round trip in autocommit and holds its row locks only
-- until that statement's commit. Version 2's tables are unchanged: the
-- upgrade from version 2 only creates the function (CREATE OR REPLACE, so
-- that it can run again).
--
-- It returns (outcome, used): outcome 1 reserved, 2 held (the code is
-- reserved, unfiled, for the same application on the same instance), 4
-- taken (reserved otherwise, or filed), 0 the code's reservation went away
-- between the insert that found it and the read of it (the caller runs it
-- again); used is the instance's number of slots afterwards. If the subject
-- key needs a new slot and the instance has none free it raises SQLSTATE
-- ICPV1, which rolls the whole statement back: nothing is stored. Every
-- decision is read from a write on one row named by its primary key; at
-- READ COMMITTED each statement of the function sees the rows committed
-- before it began, at REPEATABLE READ and SERIALIZABLE a concurrent change
-- fails it with a serialization error, which the caller retries. It runs
-- with the caller's rights (SECURITY INVOKER) and finds its tables on the
-- caller's search_path, as the store's other statements do.

-- routine
CREATE OR REPLACE FUNCTION ${p}reserve(
    p_code TEXT, p_instance TEXT, p_account TEXT, p_subject TEXT,
    p_subject_key TEXT, p_website TEXT, p_at TIMESTAMPTZ, p_limit INTEGER,
    OUT o_outcome INTEGER, OUT o_used INTEGER)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $fn$
DECLARE
    v_holds INTEGER;
    v_old   RECORD;
BEGIN
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at)
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
