-- icpverify sqlstore schema, version 8, MySQL and MariaDB: the procedure
-- ${p}reserve of version 6 (0006_application.sql; 0003_reserve_routine.sql
-- says what it answers) in fewer statements, with the same parameters and
-- answers. A first reservation runs six statements where versions 6 and 7 ran
-- nine: the slot's upsert tells by its ROW_COUNT() whether the slot is new
-- (1 inserted, 2 updated; holds changes whenever the row is there, so the
-- count does not depend on the client's CLIENT_FOUND_ROWS flag), and only
-- then one upsert of the quota row both creates it and counts the slot
-- where the limit allows: it leaves the new count, or 0 where the
-- instance has no free slot, in LAST_INSERT_ID() instead of a locking read
-- after it. The locking read of the slot, the insert that made sure the
-- quota row existed and the read of the count are gone. Every decision is
-- still read from a write on one row, under its row lock, on the row's
-- latest committed version at any isolation level. The upgrade replaces
-- the procedure (dropped first if it exists, so that it can run again);
-- the tables are unchanged.

DROP PROCEDURE IF EXISTS ${p}reserve;
-- routine
CREATE PROCEDURE ${p}reserve(
    IN p_code VARBINARY(256), IN p_instance VARBINARY(256), IN p_account VARBINARY(256),
    IN p_subject VARBINARY(256), IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256),
    IN p_at DATETIME(6), IN p_limit BIGINT, IN p_application VARBINARY(64))
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_dup, v_filed, v_used, v_outcome INT DEFAULT 0;
    DECLARE v_instance, v_account, v_website VARBINARY(256);
    DECLARE v_key VARBINARY(512);
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    START TRANSACTION;
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at, p_application);
    IF v_dup = 1 THEN
        SELECT COUNT(*), MAX(instance), MAX(account), MAX(subject_key), MAX(website), MAX(filed)
            INTO v_dup, v_instance, v_account, v_key, v_website, v_filed
            FROM ${p}reservations WHERE code = p_code LOCK IN SHARE MODE;
        SET v_outcome = CASE WHEN v_dup = 0 THEN 0
            WHEN v_filed = 0 AND v_instance = p_instance AND v_account = p_account
                AND v_key = p_subject_key AND v_website = p_website THEN 2
            ELSE 4 END;
        IF v_dup = 0 THEN
            SELECT COUNT(*) INTO v_dup FROM ${p}reservations
                WHERE application = p_application LOCK IN SHARE MODE;
            IF v_dup > 0 THEN
                SET v_outcome = 6;
            END IF;
        END IF;
        SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        COMMIT;
    ELSE
        SET v_outcome = 1;
        INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (p_instance, p_subject_key, 1)
            ON DUPLICATE KEY UPDATE holds = holds + 1;
        IF ROW_COUNT() = 1 THEN
            -- A new slot: count it, or leave 0 if the instance is full.
            INSERT INTO ${p}quota (instance, used) VALUES (p_instance, LAST_INSERT_ID(IF(p_limit > 0, 1, 0)))
                ON DUPLICATE KEY UPDATE
                used = IF(used < p_limit, LAST_INSERT_ID(used + 1), used + 0 * LAST_INSERT_ID(0));
            SET v_used = LAST_INSERT_ID();
            IF v_used = 0 THEN
                SET v_outcome = 3;
            END IF;
        ELSE
            SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        END IF;
        IF v_outcome = 3 THEN
            ROLLBACK;
            SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        ELSE
            COMMIT;
        END IF;
    END IF;
    SELECT v_outcome AS outcome, v_used AS used;
END;
-- end routine
