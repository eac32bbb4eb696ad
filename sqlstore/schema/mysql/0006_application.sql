-- icpverify sqlstore schema, version 6, MySQL and MariaDB: a reservation
-- carries the identity of its application
-- (icpverify.Reservation.Application), 1 to 64 ASCII letters and digits,
-- unique among the reservations, by which the store finds it, releases it
-- and completes it. It is VARBINARY, compared byte for byte, as the other
-- keys. The procedure ${p}reserve takes it as its last parameter and
-- stores it with a new reservation; a retry that finds the code held
-- keeps the stored one.
--
-- The upgrade gives every reservation stored before it an identity of
-- its own, 32 random lower-case hexadecimal digits, as the Verifier makes
-- them; the Verifier never made one for those rows, so no caller knows
-- them until it reads them (Reservation, LookupServiceCode, the listers).
-- MySQL runs DDL outside transactions: Migrate skips "application-column"
-- once the column exists and "application-index" once the index does;
-- "application-fill" fills only rows without an identity, and
-- "application-not-null" can run again.

-- step application-column
ALTER TABLE ${p}reservations ADD COLUMN application VARBINARY(64) NULL;

-- step application-fill
UPDATE ${p}reservations SET application = LOWER(MD5(CONCAT(RAND(), code, UUID())))
    WHERE application IS NULL;

-- step application-not-null
ALTER TABLE ${p}reservations MODIFY COLUMN application VARBINARY(64) NOT NULL;

-- step application-index
ALTER TABLE ${p}reservations ADD UNIQUE INDEX ${p}reservations_application (application);

-- step application-routine
-- The procedure of version 3 (0003_reserve_routine.sql, which says what it
-- answers), with the application stored in the row it inserts, and one
-- outcome more: 6, the insert met another code's reservation with the
-- same application (nothing stored).
DROP PROCEDURE IF EXISTS ${p}reserve;
-- routine
CREATE PROCEDURE ${p}reserve(
    IN p_code VARBINARY(256), IN p_instance VARBINARY(256), IN p_account VARBINARY(256),
    IN p_subject VARBINARY(256), IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256),
    IN p_at DATETIME(6), IN p_limit BIGINT, IN p_application VARBINARY(64))
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_dup, v_filed, v_holds, v_used, v_outcome INT DEFAULT 0;
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
