-- icpverify sqlstore schema, version 5, MySQL 8.0.16+ and MariaDB 10.5+: the
-- procedure ${p}reserve_code, which reads a service code and, where the
-- code has no reservation and the Verifier's guard holds, reserves it, in
-- one CALL: a first reservation is then one round trip in all, and a retry
-- one read. It needs ${p}reserve_into, version 3's ${p}reserve with OUT
-- parameters instead of a result, so that one procedure can call it.
-- Version 4's tables and ${p}reserve are unchanged: the upgrade from
-- version 4 only creates the two procedures (dropped first if they exist,
-- so that it can run again). The rights are those of version 3.
--
-- ${p}reserve_code answers one row, none for a code it does not hold: the
-- columns of the store's lookup of a code, then outcome and used. outcome
-- is 0 if it reserved nothing, because the code is reserved or the guard
-- does not hold; otherwise ${p}reserve's: 1 reserved, 2 held, 3 full, 4
-- taken, 5 the code's reservation went away meanwhile (the caller runs the
-- call again). Its read is the lookup's locking read, a statement of its
-- own, so that it never reads a reservation that is not committed and
-- holds no lock into the reservation. The guard only chooses whether to
-- try: every decision about the quota is made by ${p}reserve_into, as by
-- ${p}reserve.

DROP PROCEDURE IF EXISTS ${p}reserve_into;
-- routine
CREATE PROCEDURE ${p}reserve_into(
    IN p_code VARBINARY(256), IN p_instance VARBINARY(256), IN p_account VARBINARY(256),
    IN p_subject VARBINARY(256), IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256),
    IN p_at DATETIME(6), IN p_limit BIGINT, OUT o_outcome INT, OUT o_used INT)
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_dup, v_filed, v_holds INT DEFAULT 0;
    DECLARE v_instance, v_account, v_website VARBINARY(256);
    DECLARE v_key VARBINARY(512);
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    SET o_outcome = 0, o_used = 0;
    START TRANSACTION;
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at);
    IF v_dup = 1 THEN
        SELECT COUNT(*), MAX(instance), MAX(account), MAX(subject_key), MAX(website), MAX(filed)
            INTO v_dup, v_instance, v_account, v_key, v_website, v_filed
            FROM ${p}reservations WHERE code = p_code LOCK IN SHARE MODE;
        SET o_outcome = CASE WHEN v_dup = 0 THEN 5
            WHEN v_filed = 0 AND v_instance = p_instance AND v_account = p_account
                AND v_key = p_subject_key AND v_website = p_website THEN 2
            ELSE 4 END;
        SELECT COALESCE(MAX(used), 0) INTO o_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        COMMIT;
    ELSE
        INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (p_instance, p_subject_key, 1)
            ON DUPLICATE KEY UPDATE holds = holds + 1;
        SELECT holds INTO v_holds FROM ${p}slots
            WHERE instance = p_instance AND subject_key = p_subject_key FOR UPDATE;
        SET o_outcome = 1;
        IF v_holds = 1 THEN
            INSERT INTO ${p}quota (instance, used) VALUES (p_instance, 0) ON DUPLICATE KEY UPDATE used = used;
            UPDATE ${p}quota SET used = used + 1 WHERE instance = p_instance AND used < p_limit;
            IF ROW_COUNT() = 0 THEN
                SET o_outcome = 3;
            END IF;
        END IF;
        SELECT COALESCE(MAX(used), 0) INTO o_used FROM ${p}quota WHERE instance = p_instance FOR UPDATE;
        IF o_outcome = 3 THEN
            ROLLBACK;
        ELSE
            COMMIT;
        END IF;
    END IF;
END;
-- end routine

DROP PROCEDURE IF EXISTS ${p}reserve_code;
-- routine
CREATE PROCEDURE ${p}reserve_code(
    IN p_code VARBINARY(256), IN p_account VARBINARY(256), IN p_subject VARBINARY(256),
    IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256), IN p_at DATETIME(6), IN p_limit BIGINT,
    IN p_running VARBINARY(256), IN p_product VARBINARY(256), IN p_expires_after DATETIME(6),
    IN p_issued_after DATETIME(6), IN p_public_ip BOOLEAN)
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_found, v_try INT DEFAULT 0;
    DECLARE i_id, i_account, i_product, i_region, i_billing, i_public_ip, i_status VARBINARY(256);
    DECLARE i_term BIGINT;
    DECLARE i_trial BOOLEAN;
    DECLARE i_expires, sc_issued, r_at DATETIME(6);
    DECLARE sc_code, sc_instance, sc_owner, sc_grantee VARBINARY(256);
    DECLARE sc_revoked BOOLEAN;
    DECLARE r_code, r_instance, r_account, r_subject, r_website VARBINARY(256);
    DECLARE r_key VARBINARY(512);
    DECLARE r_filed BOOLEAN;
    DECLARE v_used, v_outcome, v_after INT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_found = 0;
    SET v_found = 1;
    SELECT COALESCE(i.id, ''), COALESCE(i.account, ''), COALESCE(i.product, ''),
        COALESCE(i.region, ''), COALESCE(i.billing, ''), COALESCE(i.term_months, 0),
        COALESCE(i.public_ip, ''), COALESCE(i.trial, FALSE), COALESCE(i.status, ''), i.expires_at,
        sc.code, sc.instance, sc.owner, sc.grantee, sc.revoked, sc.issued_at,
        COALESCE(r.code, ''), COALESCE(r.instance, ''), COALESCE(r.account, ''), COALESCE(r.subject, ''),
        COALESCE(r.subject_key, ''), COALESCE(r.website, ''),
        COALESCE(r.filed, FALSE), r.reserved_at, COALESCE(u.used, 0),
        r.code IS NULL AND i.id IS NOT NULL AND p_account <> '' AND NOT sc.revoked
            AND (i.account = p_account OR sc.grantee = p_account AND sc.owner = i.account)
            AND i.status = p_running AND i.product = p_product
            AND (i.expires_at IS NULL OR p_expires_after IS NULL OR i.expires_at > p_expires_after)
            AND (p_issued_after IS NULL OR sc.issued_at > p_issued_after)
            AND (NOT p_public_ip OR i.public_ip <> '')
        INTO i_id, i_account, i_product, i_region, i_billing, i_term, i_public_ip, i_trial, i_status, i_expires,
            sc_code, sc_instance, sc_owner, sc_grantee, sc_revoked, sc_issued,
            r_code, r_instance, r_account, r_subject, r_key, r_website, r_filed, r_at, v_used, v_try
        FROM ${p}service_codes sc
        LEFT JOIN ${p}instances i ON i.id = sc.instance
        LEFT JOIN ${p}reservations r ON r.code = sc.code
        LEFT JOIN ${p}quota u ON u.instance = r.instance
        WHERE sc.code = p_code LOCK IN SHARE MODE;
    IF v_found = 1 THEN
        IF v_try THEN
            CALL ${p}reserve_into(p_code, sc_instance, p_account, p_subject, p_subject_key, p_website,
                p_at, p_limit, v_outcome, v_after);
        END IF;
        SELECT i_id, i_account, i_product, i_region, i_billing, i_term, i_public_ip, i_trial, i_status, i_expires,
            sc_code, sc_instance, sc_owner, sc_grantee, sc_revoked, sc_issued,
            r_code, r_instance, r_account, r_subject, r_key, r_website, r_filed, r_at, v_used, v_outcome, v_after;
    END IF;
END;
-- end routine
