-- icpverify sqlstore schema, version 8, PostgreSQL: the function
-- ${p}reserve_code, which ReserveServiceCode calls from the statement that
-- reads the code, only where the code has no reservation and the guard
-- holds on the rows read. It makes the writes of ${p}reserve (version 3,
-- 0003_reserve_routine.sql, which says why they hold the limit) and
-- answers in one BIGINT, used × 8 + outcome: outcome 1 reserved, 5 the
-- code was reserved since the statement read it (the caller runs the
-- statement again, which then reads that reservation); used is the
-- instance's number of slots afterwards. If the instance has no free slot
-- it raises SQLSTATE ICPV1, which rolls the whole statement back. A call
-- in the select list of the statement's one row costs little more than
-- the read itself when it is not made (a retry), where a subquery in a
-- LATERAL join around ${p}reserve, as versions 6 and 7 had it, cost a
-- retry about 0.3 of a SELECT 1 more. The tables are unchanged, and
-- ${p}reserve stays: Reserve calls it. The statement can run again. The
-- runtime role needs EXECUTE on the new function.

-- routine
CREATE OR REPLACE FUNCTION ${p}reserve_code(
    p_code TEXT, p_instance TEXT, p_account TEXT, p_subject TEXT,
    p_subject_key TEXT, p_website TEXT, p_at TIMESTAMPTZ, p_limit INTEGER,
    p_application TEXT)
RETURNS BIGINT
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $fn$
DECLARE
    v_holds INTEGER;
    v_used  INTEGER;
BEGIN
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at, p_application)
        ON CONFLICT (code) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 5;
    END IF;
    INSERT INTO ${p}slots AS s (instance, subject_key, holds) VALUES (p_instance, p_subject_key, 1)
        ON CONFLICT (instance, subject_key) DO UPDATE SET holds = s.holds + 1
        RETURNING s.holds INTO v_holds;
    IF v_holds > 1 THEN
        -- A slot the key held already: its quota row exists.
        SELECT u.used INTO v_used FROM ${p}quota AS u WHERE u.instance = p_instance;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'malformed quota: instance % has a slot but no quota row', p_instance
                USING ERRCODE = 'ICPV2';
        END IF;
        RETURN v_used::BIGINT * 8 + 1;
    END IF;
    INSERT INTO ${p}quota AS u (instance, used) SELECT p_instance, 1 WHERE p_limit > 0
        ON CONFLICT (instance) DO UPDATE SET used = u.used + 1 WHERE u.used < p_limit
        RETURNING u.used INTO v_used;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % is full', p_instance USING ERRCODE = 'ICPV1';
    END IF;
    RETURN v_used::BIGINT * 8 + 1;
END
$fn$;
-- end routine
