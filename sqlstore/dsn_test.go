package sqlstore_test

import (
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/icpfiling/icpverify/sqlstore"
)

// TestWithParam checks that the tests add parameters to DSNs as users
// write them, with parameters or without, and that the drivers' own
// parsers read them back with what they had.
func TestWithParam(t *testing.T) {
	for _, dsn := range []string{
		"root@tcp(127.0.0.1:3306)/test",
		"root@tcp(127.0.0.1:3306)/test?parseTime=true&interpolateParams=true",
		"icp:p%40ss@unix(/run/mysqld/mysqld.sock)/icp?loc=UTC",
	} {
		got := withParam(t, sqlstore.MySQL, dsn, "tx_isolation", "'READ-COMMITTED'")
		cfg, err := mysql.ParseDSN(got)
		if err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		want, _ := mysql.ParseDSN(dsn)
		if cfg.Params["tx_isolation"] != "'READ-COMMITTED'" || cfg.DBName != want.DBName ||
			cfg.Addr != want.Addr || cfg.ParseTime != want.ParseTime || cfg.InterpolateParams != want.InterpolateParams {
			t.Errorf("withParam(%q) = %q: parsed as %+v", dsn, got, cfg)
		}
	}
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:5432/test",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable",
	} {
		got := withParam(t, sqlstore.Postgres, withSearchPath(t, dsn, "s1"), "default_transaction_isolation", "repeatable read")
		cfg, err := pgx.ParseConfig(got)
		if err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if p := cfg.RuntimeParams; p["default_transaction_isolation"] != "repeatable read" || p["search_path"] != "s1" ||
			cfg.Database != "test" || cfg.User != "postgres" {
			t.Errorf("withParam(%q) = %q: parsed as %v, database %q, user %q", dsn, got, p, cfg.Database, cfg.User)
		}
	}
}
