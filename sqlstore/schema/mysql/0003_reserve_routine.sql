-- icpverify sqlstore schema, version 3, MySQL 8.0.16+ and MariaDB 10.5+: the
-- procedure ${p}reserve, which makes a reservation in one CALL, in a
-- transaction of its own that it begins and ends itself, so that a first
-- reservation is one round trip and holds its row locks only until that
-- COMMIT. Version 2's tables are unchanged: the upgrade from version 2 only
-- creates the procedure (dropped first if it exists, so that it can run
-- again). The migrating role needs CREATE ROUTINE and ALTER ROUTINE, the
-- runtime role EXECUTE; the procedure runs with the caller's rights (SQL
-- SECURITY INVOKER).
--
-- It answers one row (outcome, used): outcome 1 reserved, 2 held (the code
-- is reserved, unfiled, for the same application on the same instance), 3
-- full (the subject key needs a new slot and the instance has none free:
-- rolled back, nothing stored), 4 taken (reserved otherwise, or filed), 0
-- the code's reservation went away between the insert that found it and
-- the read of it (the caller runs it again); used is the instance's number
-- of slots afterwards. Every decision is read from a write on one row
-- named by its primary key, or from a locking read, which reads the latest
-- committed row at any isolation level. An error rolls the transaction
-- back and is passed on (a deadlock, a lock wait timeout or a Galera
-- certification conflict, 1213, is retried by the caller).

DROP PROCEDURE IF EXISTS ${p}reserve;
-- routine
CREATE PROCEDURE ${p}reserve(
    IN p_code VARBINARY(256), IN p_instance VARBINARY(256), IN p_account VARBINARY(256),
    IN p_subject VARBINARY(256), IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256),
    IN p_at DATETIME(6), IN p_limit BIGINT)
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_dup, v_filed, v_holds, v_used, v_outcome INT DEFAULT 0;
    DECLARE v_instance, v_account, v_website VARBINARY(256);
    DECLARE v_key VARBINARY(512);
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    START TRANSACTION;
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at);
    IF v_dup = 1 THEN
        SELECT COUNT(*), MAX(instance), MAX(account), MAX(subject_key), MAX(website), MAX(filed)
            INTO v_dup, v_instance, v_account, v_key, v_website, v_filed
            FROM ${p}reservations WHERE code = p_code LOCK IN SHARE MODE;
        SET v_outcome = CASE WHEN v_dup = 0 THEN 0
            WHEN v_filed = 0 AND v_instance = p_instance AND v_account = p_account
                AND v_key = p_subject_key AND v_website = p_website THEN 2
            ELSE 4 END;
        SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        COMMIT;
    ELSE
        INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (p_instance, p_subject_key, 1)
            ON DUPLICATE KEY UPDATE holds = holds + 1;
        SELECT holds INTO v_holds FROM ${p}slots
            WHERE instance = p_instance AND subject_key = p_subject_key FOR UPDATE;
        SET v_outcome = 1;
        IF v_holds = 1 THEN
            INSERT INTO ${p}quota (instance, used) VALUES (p_instance, 0) ON DUPLICATE KEY UPDATE used = used;
            UPDATE ${p}quota SET used = used + 1 WHERE instance = p_instance AND used < p_limit;
            IF ROW_COUNT() = 0 THEN
                SET v_outcome = 3;
            END IF;
        END IF;
        SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance FOR UPDATE;
        IF v_outcome = 3 THEN
            ROLLBACK;
        ELSE
            COMMIT;
        END IF;
    END IF;
    SELECT v_outcome AS outcome, v_used AS used;
END;
-- end routine
