package main

import (
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/icpfiling/icpverify/sqlstore"
)

// TestMySQLDriverDSN: the command takes the MySQL driver's own DSN, which
// sqlstore's callers open, as well as mysql:// URLs.
func TestMySQLDriverDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn                string
		net, addr, db, usr string
		interpolate        bool
	}{
		{"root@tcp(127.0.0.1:3306)/test", "tcp", "127.0.0.1:3306", "test", "root", true},
		{"root:p@ss:w/rd@tcp(db.example:3307)/icp?parseTime=true", "tcp", "db.example:3307", "icp", "root", true},
		{"icp@unix(/run/mysqld/mysqld.sock)/icp?interpolateParams=false", "unix", "/run/mysqld/mysqld.sock", "icp", "icp", false},
		{"root@/icp", "tcp", "127.0.0.1:3306", "icp", "root", true},
		{"mysql:secret@tcp(h:3306)/icp", "tcp", "h:3306", "icp", "mysql", true},
	} {
		got, err := parseDatabaseURL(tc.dsn)
		if err != nil {
			t.Errorf("%q: %v", tc.dsn, err)
			continue
		}
		c := got.connector
		if got.dialect != sqlstore.MySQL || c == nil || c.Net != tc.net || c.Addr != tc.addr || c.DBName != tc.db || c.User != tc.usr || c.InterpolateParams != tc.interpolate {
			t.Errorf("%q: %+v", tc.dsn, c)
		}
	}
	if got, _ := parseDatabaseURL("root:p@ss:w/rd@tcp(db.example:3307)/icp"); got.connector == nil || got.connector.Passwd != "p@ss:w/rd" {
		t.Errorf("password with @, : and /: %+v", got.connector)
	}
	// Bad DSNs: usage errors that show no password.
	for _, tc := range []struct{ dsn, msg string }{
		{"root:hunter2@tcp(127.0.0.1:3306)/", "names no database"},
		{"root:hunter2@tcp(127.0.0.1:3306)/icp?parseTime=maybe", "MySQL DSN \"root:xxxxx@tcp(127.0.0.1:3306)/icp?parseTime=maybe\""},
		{"root:hunter2@carrier-pigeon(x)/icp", "unsupported database URL scheme"},
		{"rel/path.db", "has no scheme"},
	} {
		r := runCmd(t, map[string]string{databaseURLEnv: tc.dsn}, "", "migrate")
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.dsn, r.code, r.stderr, tc.msg)
		}
	}
	// A server that does not answer: exit 1, the password hidden.
	r := runCmd(t, nil, "", "migrate", "--database-url", "root:hunter2@tcp(127.0.0.1:1)/icp")
	if r.code != 1 || !strings.Contains(r.stderr, "connecting to root:xxxxx@tcp(127.0.0.1:1)/icp") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("unreachable server: exit %d, stderr %q", r.code, r.stderr)
	}

	// The server of the tests, through its DSN as the library's tests
	// take it.
	base := os.Getenv(mysqlEnv)
	if base == "" {
		t.Skip(mysqlEnv + " not set")
	}
	dbURL := databaseURL(t, sqlstore.MySQL) // a fresh database, dropped after
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = dbURL[strings.LastIndexByte(dbURL, '/')+1 : strings.IndexByte(dbURL, '?')]
	env := map[string]string{databaseURLEnv: cfg.FormatDSN()}
	if r := runCmd(t, env, "", "migrate"); r.code != 0 || !strings.Contains(r.stdout, "schema version before: 0\n") {
		t.Fatalf("migrate through %q: exit %d, stderr %q", redact(cfg.FormatDSN()), r.code, r.stderr)
	}
	if r := runCmd(t, env, good("dsn-1")+"\n", "import", "-"); r.code != 0 || r.stderr != "loaded 1, bad 0\n" {
		t.Errorf("import through the DSN: exit %d, stderr %q", r.code, r.stderr)
	}
}
