-- icpverify sqlstore schema, version 4, SQLite: an index of the codes by
-- their instance, in the order ListServiceCodes reads them, so that an
-- owner's console lists an instance's codes without reading every code.
CREATE INDEX IF NOT EXISTS ${p}service_codes_instance
    ON ${p}service_codes (instance, issued_at, code);
