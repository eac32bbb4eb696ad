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
-- the key's members (members < limit), which leaves it as it is where the
-- key is full; on a Galera cluster two nodes that take the last place both
-- write the key's row, and one fails certification and is run again. Keys
-- and members are VARBINARY(512), as subject keys. A reservation's column
-- quotas is the number of quotas it was made with (0 for one made without,
-- as every reservation before this version, and every one that the
-- procedure ${p}reserve makes, which is unchanged); deregistered is set by
-- Deregister, which frees the slot and places of a filed reservation and
-- keeps the reservation. Reserve makes a reservation with quotas by one
-- call of the procedure ${p}reserve_quotas, and Release, Complete and
-- Deregister free its places by one call of ${p}free_places (step
-- "quotas-routine"). MySQL runs DDL outside transactions: Migrate skips
-- "quota-columns" once the column deregistered exists (one ALTER adds
-- both), the tables are created only if missing, and the procedures are
-- dropped and created again.

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

-- step quotas-routine
-- The procedure ${p}reserve_quotas, which Reserve calls for a reservation
-- with quotas: one round trip, in a transaction it begins and commits
-- itself, as ${p}reserve (0008_reserve_code.sql), whose statements and
-- answers it has, with the number of quotas stored. Then, for each quota
-- in the order of p_meta (the caller's: the byte order of the keys), the
-- upsert of the member's place, whose ROW_COUNT() tells a new member (1),
-- and, for a new member only, one upsert of the key's row that creates it
-- or counts the member where the limit allows, leaving the new number of
-- members, or 0 where the key is full, in LAST_INSERT_ID(); then the
-- place recorded in ${p}reservation_quotas. Keys not full after a full
-- one are still taken, so that every full key is seen. It answers 1 and
-- the instance's slots afterwards, 3 and the slots now if the instance is
-- full, 5 and the smallest index in Reservation.Quotas of the keys found
-- full, rolling back for those two, or as ${p}reserve for a code reserved
-- already. The keys and the members are concatenated in p_keys and
-- p_members; p_meta has for each quota 27 digits: its index (10), its
-- limit (10; 0 for any limit of 0 or less), 1 if it is UntilFiled else 0,
-- and the lengths in bytes of its key (3) and member (3). It is dropped
-- first if it exists, so that the step can run again.
DROP PROCEDURE IF EXISTS ${p}reserve_quotas;
-- routine
CREATE PROCEDURE ${p}reserve_quotas(
    IN p_code VARBINARY(256), IN p_instance VARBINARY(256), IN p_account VARBINARY(256),
    IN p_subject VARBINARY(256), IN p_subject_key VARBINARY(512), IN p_website VARBINARY(256),
    IN p_at DATETIME(6), IN p_limit BIGINT, IN p_application VARBINARY(64),
    IN p_keys LONGBLOB, IN p_members LONGBLOB, IN p_meta LONGBLOB)
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_dup, v_filed, v_used, v_outcome INT DEFAULT 0;
    DECLARE v_instance, v_account, v_website VARBINARY(256);
    DECLARE v_key, v_qkey, v_member VARBINARY(512);
    DECLARE v_n, v_i, v_index, v_klen, v_mlen INT DEFAULT 0;
    DECLARE v_first INT DEFAULT -1;
    DECLARE v_kpos, v_mpos INT DEFAULT 1;
    DECLARE v_qlimit BIGINT;
    DECLARE v_until BOOLEAN;
    DECLARE CONTINUE HANDLER FOR 1062 SET v_dup = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    SET v_n = LENGTH(p_meta) DIV 27;
    START TRANSACTION;
    INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application, quotas)
        VALUES (p_code, p_instance, p_account, p_subject, p_subject_key, p_website, FALSE, p_at, p_application, v_n);
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
        WHILE v_outcome = 1 AND v_i < v_n DO
            SET v_index = CAST(SUBSTRING(p_meta, v_i * 27 + 1, 10) AS UNSIGNED);
            SET v_qlimit = CAST(SUBSTRING(p_meta, v_i * 27 + 11, 10) AS UNSIGNED);
            SET v_until = SUBSTRING(p_meta, v_i * 27 + 21, 1) = '1';
            SET v_klen = CAST(SUBSTRING(p_meta, v_i * 27 + 22, 3) AS UNSIGNED);
            SET v_mlen = CAST(SUBSTRING(p_meta, v_i * 27 + 25, 3) AS UNSIGNED);
            SET v_qkey = SUBSTRING(p_keys, v_kpos, v_klen), v_member = SUBSTRING(p_members, v_mpos, v_mlen);
            SET v_kpos = v_kpos + v_klen, v_mpos = v_mpos + v_mlen, v_i = v_i + 1;
            INSERT INTO ${p}quota_places (qkey, member, holds) VALUES (v_qkey, v_member, 1)
                ON DUPLICATE KEY UPDATE holds = holds + 1;
            IF ROW_COUNT() = 1 THEN
                -- A new member: count it, or leave 0 if the key is full.
                INSERT INTO ${p}quota_keys (qkey, members) VALUES (v_qkey, LAST_INSERT_ID(IF(v_qlimit > 0, 1, 0)))
                    ON DUPLICATE KEY UPDATE
                    members = IF(members < v_qlimit, LAST_INSERT_ID(members + 1), members + 0 * LAST_INSERT_ID(0));
                IF LAST_INSERT_ID() = 0 AND (v_first < 0 OR v_index < v_first) THEN
                    SET v_first = v_index;
                END IF;
            END IF;
            INSERT INTO ${p}reservation_quotas (code, qkey, member, until_filed) VALUES (p_code, v_qkey, v_member, v_until);
        END WHILE;
        IF v_first >= 0 THEN
            SET v_outcome = 5, v_used = v_first;
        END IF;
        IF v_outcome = 3 THEN
            ROLLBACK;
            SELECT COALESCE(MAX(used), 0) INTO v_used FROM ${p}quota WHERE instance = p_instance LOCK IN SHARE MODE;
        ELSEIF v_outcome = 5 THEN
            ROLLBACK;
        ELSE
            COMMIT;
        END IF;
    END IF;
    SELECT v_outcome AS outcome, v_used AS used;
END;
-- end routine

-- The procedure ${p}free_places, which Release, Complete and Deregister
-- call in their transaction, where the reservation of p_code is locked:
-- it frees the places the reservation holds (only those of its quotas
-- UntilFiled if p_until_filed is set) and forgets them. For each, in the
-- byte order of the keys, as ${p}reserve_quotas takes them: one
-- reservation less on the member's place, and if that was its last, the
-- place deleted and one member less on the key. It signals SQLSTATE 45000
-- where the rows do not agree. It is dropped first if it exists, so that
-- the step can run again.
DROP PROCEDURE IF EXISTS ${p}free_places;
-- routine
CREATE PROCEDURE ${p}free_places(IN p_code VARBINARY(256), IN p_until_filed BOOLEAN)
MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE v_done, v_n INT DEFAULT 0;
    DECLARE v_qkey, v_member VARBINARY(512);
    DECLARE v_places CURSOR FOR SELECT qkey, member FROM ${p}reservation_quotas
        WHERE code = p_code AND (until_filed OR NOT p_until_filed) ORDER BY qkey;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = 1;
    OPEN v_places;
    places: LOOP
        FETCH v_places INTO v_qkey, v_member;
        IF v_done = 1 THEN
            LEAVE places;
        END IF;
        SET v_n = v_n + 1;
        UPDATE ${p}quota_places SET holds = holds - 1 WHERE qkey = v_qkey AND member = v_member;
        IF ROW_COUNT() <> 1 THEN
            SIGNAL SQLSTATE '45000'
                SET MESSAGE_TEXT = 'malformed quota: a reservation holds a place under a quota key that is not stored';
        END IF;
        DELETE FROM ${p}quota_places WHERE qkey = v_qkey AND member = v_member AND holds <= 0;
        IF ROW_COUNT() = 1 THEN
            UPDATE ${p}quota_keys SET members = members - 1 WHERE qkey = v_qkey AND members > 0;
            IF ROW_COUNT() <> 1 THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'malformed quota: a quota key has a place but no members';
            END IF;
        END IF;
    END LOOP;
    CLOSE v_places;
    IF v_n > 0 THEN
        DELETE FROM ${p}reservation_quotas WHERE code = p_code AND (until_filed OR NOT p_until_filed);
    END IF;
END;
-- end routine
