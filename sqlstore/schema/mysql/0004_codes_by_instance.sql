-- icpverify sqlstore schema, version 4, MySQL and MariaDB: an index of the
-- codes by their instance, in the order ListServiceCodes reads them, so
-- that an owner's console lists an instance's codes without reading every
-- code. MySQL has no CREATE INDEX IF NOT EXISTS: Migrate skips the step
-- "codes-index" once the index exists, so that a migration cut short can run
-- again.

-- step codes-index
ALTER TABLE ${p}service_codes ADD INDEX ${p}service_codes_instance (instance, issued_at, code);
