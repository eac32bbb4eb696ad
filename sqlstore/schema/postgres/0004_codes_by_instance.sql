-- icpverify sqlstore schema, version 4, PostgreSQL: an index of the codes
-- by their instance, in the order ListServiceCodes reads them (issue time,
-- the zero time first, then the code byte for byte), so that an owner's
-- console lists an instance's codes without reading every code.
CREATE INDEX IF NOT EXISTS ${p}service_codes_instance
    ON ${p}service_codes (instance, issued_at ASC NULLS FIRST, code COLLATE "C");
