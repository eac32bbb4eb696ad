package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/subject"
)

// The servers the tests use, as sqlstore's own tests take them; a test of
// a server whose variable is unset is skipped. SQLite always runs.
const (
	postgresEnv = "ICPVERIFY_POSTGRES_DSN"
	mysqlEnv    = "ICPVERIFY_MYSQL_DSN"
)

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command with args, stdin and the environment env.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	r := result{code, stdout.String(), stderr.String()}
	t.Logf("icpverify %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// databaseURL returns the URL of a fresh, empty database of the dialect,
// dropped when the test ends, or skips t.
func databaseURL(t *testing.T, d sqlstore.Dialect) string {
	t.Helper()
	ctx := context.Background()
	switch d {
	case sqlstore.Postgres:
		base := os.Getenv(postgresEnv)
		if base == "" {
			t.Skip(postgresEnv + " not set")
		}
		if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
			t.Skip(postgresEnv + " is not a URL; the command takes postgres:// URLs")
		}
		admin := openAdmin(t, "pgx", base)
		schema := randomName("icpv_cmd_")
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("creating schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("dropping schema %s: %v", schema, err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("%s: %v", postgresEnv, err)
		}
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "search_path=" + schema
		return u.String()
	case sqlstore.MySQL:
		base := os.Getenv(mysqlEnv)
		if base == "" {
			t.Skip(mysqlEnv + " not set")
		}
		cfg, err := mysql.ParseDSN(base)
		if err != nil {
			t.Fatalf("%s: %v", mysqlEnv, err)
		}
		admin := openAdmin(t, "mysql", base)
		name := randomName("icpv_cmd_")
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("creating database: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
				t.Errorf("dropping database %s: %v", name, err)
			}
		})
		return mysqlURL(cfg, name)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "icp.db")
}

// mysqlURL returns the command's URL of the database name on the server
// of cfg, over TCP or a unix socket.
func mysqlURL(cfg *mysql.Config, name string) string {
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else if cfg.User != "" {
		u.User = url.User(cfg.User)
	}
	q := url.Values{}
	for k, v := range cfg.Params {
		q.Set(k, v)
	}
	q.Set("parseTime", "true")
	if cfg.Net == "unix" {
		u.Host = "localhost"
		q.Set("socket", cfg.Addr)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func openAdmin(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return db
}

// forEachDialect runs f per dialect, with a fresh database's URL.
func forEachDialect(t *testing.T, f func(t *testing.T, d sqlstore.Dialect, dbURL string)) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL, sqlstore.SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			f(t, d, databaseURL(t, d))
		})
	}
}

// openTestStore opens the store at dbURL as the command does, to set up and
// check data.
func openTestStore(t *testing.T, dbURL, prefix string) *sqlstore.Store {
	t.Helper()
	s, closeFn, err := (&dbFlags{url: dbURL, prefix: prefix}).open(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatalf("opening %s: %v", dbURL, err)
	}
	t.Cleanup(closeFn)
	return s
}

func TestMigrate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		newest := fmt.Sprint(sqlstore.SchemaVersion)
		r := runCmd(t, env, "", "migrate")
		if r.code != 0 || !strings.Contains(r.stdout, "schema version before: 0\n") ||
			!strings.Contains(r.stdout, "schema version after:  "+newest+"\n") {
			t.Fatalf("first migrate: exit %d, stdout %q", r.code, r.stdout)
		}
		r = runCmd(t, env, "", "migrate")
		if r.code != 0 || !strings.Contains(r.stdout, "schema version before: "+newest+"\n") ||
			!strings.Contains(r.stdout, "schema version after:  "+newest+"\n") {
			t.Fatalf("second migrate: exit %d, stdout %q", r.code, r.stdout)
		}
		// Another prefix is another set of tables, given by the flag,
		// which wins over the environment.
		r = runCmd(t, map[string]string{databaseURLEnv: "bogus:"}, "", "migrate", "--database-url", dbURL, "--prefix", "other_")
		if r.code != 0 || !strings.Contains(r.stdout, "schema version before: 0\n") {
			t.Fatalf("migrate --prefix other_: exit %d, stdout %q", r.code, r.stdout)
		}
		r = runCmd(t, env, "", "migrate", "--prefix", "Bad-Prefix")
		if r.code != 2 || !strings.Contains(r.stderr, "invalid table prefix") {
			t.Fatalf("migrate --prefix Bad-Prefix: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

const jsonlInput = `{"id":"i-1","account":"acct","product":"ecs","region":"cn-hangzhou","billing":"subscription","term_months":12,"public_ip":"203.0.113.1","trial":false,"status":"running","expires_at":"2027-06-01T00:00:00Z"}
{"id":"i-2","account":"acct","product":"ecs","region":"cn-beijing","billing":"pay-as-you-go","status":"stopped"}

{"id":"i-3","account":"acct","product":"ecs","status":"running","expires_at":"next tuesday"}
{"id":"i-4","account":"acct","product":"swas","status":"running","trial":true}
{"id":"i-5","account":"acct","product":"ecs","status":"running","region":"bad\u0000nul"}
`

const csvInput = `id,account,product,region,billing,term_months,public_ip,trial,status,expires_at
c-1,acct,ecs,cn-hangzhou,subscription,12,203.0.113.2,false,running,2027-06-01T08:00:00+08:00
c-2,acct,ecs,cn-shanghai,subscription,twelve,,false,running,
c-3,acct,ecs,cn-shanghai,pay-as-you-go,0,,true,released,
`

func TestImport(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		if r := runCmd(t, env, "", "migrate"); r.code != 0 {
			t.Fatalf("migrate: exit %d", r.code)
		}
		s := openTestStore(t, dbURL, sqlstore.DefaultPrefix)
		ctx := context.Background()

		// JSON Lines from the standard input, with two bad rows.
		r := runCmd(t, env, jsonlInput, "import", "-", "--batch", "2")
		if r.code != 1 {
			t.Errorf("import jsonl: exit %d, want 1", r.code)
		}
		for _, want := range []string{"line 4: expires_at", "line 6: ", "loaded 3, bad 2\n"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("import jsonl: stderr %q lacks %q", r.stderr, want)
			}
		}
		got, err := s.Instance(ctx, "i-1")
		if err != nil {
			t.Fatalf("i-1: %v", err)
		}
		want := icpverify.Instance{ID: "i-1", Account: "acct", Product: icpverify.ProductECS, Region: "cn-hangzhou",
			Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.1", Status: icpverify.Running,
			ExpiresAt: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)}
		if got != want {
			t.Errorf("i-1 = %+v, want %+v", got, want)
		}
		for _, id := range []string{"i-2", "i-4"} {
			if _, err := s.Instance(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		for _, id := range []string{"i-3", "i-5"} {
			if _, err := s.Instance(ctx, id); err == nil {
				t.Errorf("%s, a bad row, was loaded", id)
			}
		}

		// CSV from a file, its format from the extension, with a bad row.
		path := filepath.Join(t.TempDir(), "instances.csv")
		if err := os.WriteFile(path, []byte(csvInput), 0o600); err != nil {
			t.Fatal(err)
		}
		r = runCmd(t, env, "", "import", path)
		if r.code != 1 || !strings.Contains(r.stderr, "line 3: term_months") || !strings.Contains(r.stderr, "loaded 2, bad 1\n") {
			t.Errorf("import csv: exit %d, stderr %q", r.code, r.stderr)
		}
		c1, err := s.Instance(ctx, "c-1")
		if err != nil || !c1.ExpiresAt.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) || c1.TermMonths != 12 {
			t.Errorf("c-1 = %+v, %v", c1, err)
		}
		if c3, err := s.Instance(ctx, "c-3"); err != nil || !c3.Trial || c3.Status != icpverify.Released {
			t.Errorf("c-3 = %+v, %v", c3, err)
		}
		if _, err := s.Instance(ctx, "c-2"); err == nil {
			t.Error("c-2, a bad row, was loaded")
		}

		// All good: exit 0. --format overrides the extension.
		r = runCmd(t, env, "id,account,product,status\nc-9,acct,ecs,running\n", "import", "--format", "csv", "-")
		if r.code != 0 || r.stderr != "loaded 1, bad 0\n" {
			t.Errorf("import of good rows: exit %d, stderr %q", r.code, r.stderr)
		}
		// A header with an unknown column stops the import.
		r = runCmd(t, env, "id,colour\nc-10,red\n", "import", "--format", "csv", "-")
		if r.code != 1 || !strings.Contains(r.stderr, `unknown column "colour"`) {
			t.Errorf("import with a bad header: exit %d, stderr %q", r.code, r.stderr)
		}
		r = runCmd(t, env, "", "import", "--format", "xml", "-")
		if r.code != 2 {
			t.Errorf("import --format xml: exit %d, want 2", r.code)
		}
		r = runCmd(t, env, "", "import", filepath.Join(t.TempDir(), "missing.jsonl"))
		if r.code != 1 {
			t.Errorf("import of a missing file: exit %d, want 1", r.code)
		}
	})
}

func TestCodes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		if r := runCmd(t, env, "", "migrate"); r.code != 0 {
			t.Fatalf("migrate: exit %d", r.code)
		}
		s := openTestStore(t, dbURL, sqlstore.DefaultPrefix)
		ctx := context.Background()
		expires := time.Now().UTC().Add(120 * 24 * time.Hour).Truncate(time.Second)
		if err := s.PutInstanceContext(ctx, icpverify.Instance{ID: "i-bp1cmd", Account: "acct", Product: icpverify.ProductECS,
			Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.10",
			Status: icpverify.Running, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		v := icpverify.New(s, s)
		bound, err := v.IssueServiceCode(ctx, "i-bp1cmd", "acct")
		if err != nil {
			t.Fatal(err)
		}
		free, err := v.IssueServiceCode(ctx, "i-bp1cmd", "acct")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: bound,
			Account: "acct", Subject: "Hangzhou Example Co., Ltd.", SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}}); err != nil {
			t.Fatal(err)
		}

		r := runCmd(t, env, "", "code", bound)
		if r.code != 0 {
			t.Fatalf("code: exit %d", r.code)
		}
		for _, want := range []string{"code:        " + bound + "\n", "state:       bound (1)\n", "instance:    i-bp1cmd\n",
			"subject:     Hangzhou Example Co., Ltd.\n", "certificate: 600037341\n", "subject_key: id:600037341\n",
			"filed:       false\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("code: stdout lacks %q", want)
			}
		}
		r = runCmd(t, env, "", "code", "--json", free)
		var st codeStatusJSON
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || st.State != "unbound" || st.Code != free || st.Owner != "acct" {
			t.Errorf("code --json: exit %d, %+v, %v", r.code, st, err)
		}
		r = runCmd(t, env, "", "code", "XXXX-NOT-A-CODE")
		if r.code != 1 || !strings.Contains(r.stderr, "code_malformed") {
			t.Errorf("code of a malformed code: exit %d, stderr %q", r.code, r.stderr)
		}

		r = runCmd(t, env, "", "codes", "i-bp1cmd", "--account", "acct")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "CODE ") || !strings.Contains(r.stdout, bound) || !strings.Contains(r.stdout, free) ||
			!strings.Contains(r.stdout, "CERTIFICATE") || !strings.Contains(r.stdout, "600037341") {
			t.Errorf("codes: exit %d, stdout %q", r.code, r.stdout)
		}
		r = runCmd(t, env, "", "codes", "--json", "--account=acct", "i-bp1cmd")
		var list []codeStatusJSON
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 || len(list) != 2 {
			t.Errorf("codes --json: exit %d, %+v, %v", r.code, list, err)
		}
		// The operator is told what the applicant is not.
		if r := runCmd(t, env, "", "codes", "i-bp1cmd", "--account", "stranger"); r.code != 1 ||
			!strings.Contains(r.stderr, "i-bp1cmd is owned by another account, acct, not stranger") || strings.Contains(r.stderr, "instance_not_found") {
			t.Errorf("codes for a stranger: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := runCmd(t, env, "", "codes", "i-nosuch", "--account", "acct"); r.code != 1 ||
			!strings.Contains(r.stderr, "i-nosuch: no such instance in the inventory") || strings.Contains(r.stderr, "instance_not_found") {
			t.Errorf("codes of a missing instance: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := runCmd(t, env, "", "codes", "i-bp1cmd"); r.code != 2 {
			t.Errorf("codes without --account: exit %d, want 2", r.code)
		}

		// The instance expires in 120 days: not within the default 30.
		r = runCmd(t, env, "", "expiring", "--account", "acct")
		if r.code != 0 || strings.Contains(r.stdout, "i-bp1cmd") {
			t.Errorf("expiring: exit %d, stdout %q", r.code, r.stdout)
		}
		r = runCmd(t, env, "", "expiring", "--account", "acct", "--within", "3000h")
		if r.code != 0 || !strings.Contains(r.stdout, "i-bp1cmd") || !strings.Contains(r.stdout, codeformat.Mask(nil, bound)) ||
			!strings.Contains(r.stdout, expires.Format(time.RFC3339)) || !strings.Contains(r.stdout, "600037341") {
			t.Errorf("expiring --within 3000h: exit %d, stdout %q", r.code, r.stdout)
		}
		// Days, as well as Go durations.
		r = runCmd(t, env, "", "expiring", "--account", "acct", "--within", "30d")
		if r.code != 0 || strings.Contains(r.stdout, "i-bp1cmd") {
			t.Errorf("expiring --within 30d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = runCmd(t, env, "", "expiring", "--account", "acct", "--within", "121d")
		if r.code != 0 || !strings.Contains(r.stdout, "i-bp1cmd") {
			t.Errorf("expiring --within 121d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = runCmd(t, env, "", "expiring", "--account", "acct", "--within", "3000h", "--json")
		var exp []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &exp); err != nil || len(exp) != 1 || exp[0]["instance"] != "i-bp1cmd" ||
			exp[0]["certificate"] != "600037341" {
			t.Errorf("expiring --json: %v, %v", exp, err)
		}

		r = runCmd(t, env, "", "revoke", bound)
		if r.code != 0 {
			t.Fatalf("revoke: exit %d", r.code)
		}
		st2, err := v.ServiceCodeStatus(ctx, bound)
		if err != nil || st2.State != icpverify.CodeInvalid || st2.Invalid != icpverify.ReasonCodeRevoked || st2.Subject != "" {
			t.Errorf("after revoke: %+v, %v", st2, err)
		}
		r = runCmd(t, env, "", "code", bound)
		if !strings.Contains(r.stdout, "state:       invalid (3)\n") || !strings.Contains(r.stdout, "invalid:     code_revoked\n") {
			t.Errorf("code after revoke: stdout %q", r.stdout)
		}
		if r := runCmd(t, env, "", "revoke"); r.code != 2 {
			t.Errorf("revoke without a code: exit %d, want 2", r.code)
		}
	})
}

// TestCodeDeregistered: code shows a filing that was deregistered as
// such, in text and in JSON.
func TestCodeDeregistered(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		if r := runCmd(t, env, "", "migrate"); r.code != 0 {
			t.Fatalf("migrate: exit %d", r.code)
		}
		s := openTestStore(t, dbURL, sqlstore.DefaultPrefix)
		ctx := context.Background()
		if err := s.PutInstanceContext(ctx, icpverify.Instance{ID: "i-bp1dereg", Account: "acct", Product: icpverify.ProductECS,
			Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.11",
			Status: icpverify.Running, ExpiresAt: time.Now().Add(120 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		v := icpverify.New(s, s)
		code, err := v.IssueServiceCode(ctx, "i-bp1dereg", "acct")
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
			Account: "acct", Subject: "Hangzhou Example Co., Ltd.", SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}})
		if err != nil {
			t.Fatal(err)
		}
		r := icpverify.Reservation{Code: code, Application: res.Application}
		if _, err := s.Complete(ctx, r); err != nil {
			t.Fatal(err)
		}
		if out := runCmd(t, env, "", "code", code); out.code != 0 || !strings.Contains(out.stdout, "filed:       true\n") {
			t.Errorf("code of a filing: exit %d, stdout %q", out.code, out.stdout)
		}
		if _, err := s.Deregister(ctx, r); err != nil {
			t.Fatal(err)
		}
		if out := runCmd(t, env, "", "code", code); out.code != 0 || !strings.Contains(out.stdout, "filed:       true, deregistered\n") {
			t.Errorf("code of a deregistered filing: exit %d, stdout %q", out.code, out.stdout)
		}
		out := runCmd(t, env, "", "code", "--json", code)
		var st codeStatusJSON
		if err := json.Unmarshal([]byte(out.stdout), &st); err != nil || out.code != 0 || !st.Filed || !st.Deregistered {
			t.Errorf("code --json of a deregistered filing: exit %d, %+v, %v", out.code, st, err)
		}
	})
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		r := runCmd(t, nil, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: icpverify [--database-url URL] [--prefix PREFIX] <subcommand>") || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{{"import", "-h"}, {"import", "--help"}, {"help", "import"}} {
		r := runCmd(t, nil, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: icpverify import") || !strings.Contains(r.stdout, "-format") || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"migrate", "--no-such-flag"}, {"help", "frobnicate"}, {"code"}} {
		r := runCmd(t, nil, "", args...)
		if r.code != 2 || r.stderr == "" || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCmd(t, nil, "", "frobnicate"); !strings.Contains(r.stderr, `unknown subcommand "frobnicate"`) {
		t.Errorf("unknown subcommand: stderr %q", r.stderr)
	}
}

func TestDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		url, msg string
	}{
		{"", "no database"},
		{"oracle://scott:tiger@db/orcl", `unsupported database URL scheme "oracle"`},
		{"localhost:5432", `unsupported database URL scheme "localhost"`},
		{"just-a-name", "has no scheme"},
		{"sqlite:", "names no file"},
		{"sqlite://host/file.db", "sqlite:///absolute/path"},
		{"sqlite:x.db?mode=ro", "without parameters"},
		{"mysql://root@db", "mysql://user:pass@host:port/DATABASE"},
		{"mysql:///icp", "names no host"},
		{"mysql://root@db.example/icp?socket=/run/mysqld/mysqld.sock", "names both a host and a socket"},
		{"postgres://u:hunter2@db:bad/x", "database URL"},
	} {
		r := runCmd(t, map[string]string{databaseURLEnv: tc.url}, "", "migrate")
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tc.url, r.code, r.stderr, tc.msg)
		}
	}
	// A well-formed URL of a server that does not answer: exit 1, the
	// password hidden.
	r := runCmd(t, nil, "", "migrate", "--database-url", "mysql://u:hunter2@127.0.0.1:1/icp")
	if r.code != 1 || !strings.Contains(r.stderr, "connecting to mysql://u:xxxxx@127.0.0.1:1/icp") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("unreachable server: exit %d, stderr %q", r.code, r.stderr)
	}
	// The parsed targets.
	for _, tc := range []struct {
		url  string
		want target
	}{
		{"sqlite:rel/icp.db", target{dialect: sqlstore.SQLite, driver: "sqlite", dsn: "file:rel/icp.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"}},
		{"sqlite:///abs/icp.db", target{dialect: sqlstore.SQLite, driver: "sqlite", dsn: "file:/abs/icp.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"}},
		{"postgresql://u@h/db?sslmode=disable", target{dialect: sqlstore.Postgres, driver: "pgx", dsn: "postgresql://u@h/db?sslmode=disable"}},
	} {
		got, err := parseDatabaseURL(tc.url)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
	got, err := parseDatabaseURL("mysql://us%40er:p%3Ass@db.example/icp?parseTime=true&tls=skip-verify")
	if err != nil {
		t.Fatal(err)
	}
	c := got.connector
	if got.dialect != sqlstore.MySQL || c.User != "us@er" || c.Passwd != "p:ss" || c.Addr != "db.example:3306" || c.DBName != "icp" ||
		c.Net != "tcp" || !c.ParseTime || !c.InterpolateParams || c.TLSConfig != "skip-verify" {
		t.Errorf("mysql URL: %+v", c)
	}
}

// TestMySQLSocket: a mysql:// URL with ?socket= reaches the server over
// its unix socket, with or without the host localhost.
func TestMySQLSocket(t *testing.T) {
	for _, raw := range []string{"mysql://root@localhost/icp?socket=/run/mysqld/mysqld.sock&parseTime=true", "mysql://root@/icp?socket=/run/mysqld/mysqld.sock"} {
		got, err := parseDatabaseURL(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if c := got.connector; c.Net != "unix" || c.Addr != "/run/mysqld/mysqld.sock" || c.DBName != "icp" || c.User != "root" || c.Params["socket"] != "" {
			t.Errorf("%q: %+v", raw, c)
		}
	}
	base := os.Getenv(mysqlEnv)
	if base == "" {
		t.Skip(mysqlEnv + " not set")
	}
	admin := openAdmin(t, "mysql", base)
	var socket string
	if err := admin.QueryRow("SELECT @@socket").Scan(&socket); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socket); err != nil {
		t.Skipf("the server's socket %s is not on this machine: %v", socket, err)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Addr = "unix", socket
	dbURL := databaseURL(t, sqlstore.MySQL)
	name := strings.TrimPrefix(strings.SplitN(dbURL, "?", 2)[0][strings.LastIndex(strings.SplitN(dbURL, "?", 2)[0], "/"):], "/")
	r := runCmd(t, nil, "", "migrate", "--database-url", mysqlURL(cfg, name))
	if r.code != 0 || !strings.Contains(r.stdout, "schema version after:  "+fmt.Sprint(sqlstore.SchemaVersion)) {
		t.Fatalf("migrate over the socket %s: exit %d, stderr %q", socket, r.code, r.stderr)
	}
}

// TestFlagsBeforeSubcommand: --database-url and --prefix may come before
// the subcommand's name; other flags there, or no subcommand, are bad
// usage.
func TestFlagsBeforeSubcommand(t *testing.T) {
	dbURL := databaseURL(t, sqlstore.SQLite)
	for _, args := range [][]string{
		{"--database-url", dbURL, "migrate"},
		{"--database-url=" + dbURL, "--prefix", "first_", "migrate"},
		{"-prefix=first_", "migrate", "--database-url", dbURL},
	} {
		r := runCmd(t, nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "schema version after:  "+fmt.Sprint(sqlstore.SchemaVersion)) {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	s := openTestStore(t, dbURL, "first_")
	if err := s.PutInstanceContext(context.Background(), icpverify.Instance{ID: "i-1", Account: "a", Status: icpverify.Running}); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, nil, "", "--prefix", "first_", "--database-url", dbURL, "codes", "i-1", "--account", "a")
	if r.code != 0 {
		t.Errorf("codes with flags first: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--json", "code", "X"}, "flag --json must follow the subcommand"},
		{[]string{"--database-url", dbURL}, "no subcommand"},
		{[]string{"--prefix"}, "flag --prefix needs a value"},
		{[]string{"--database-url", dbURL, "nonsense"}, `unknown subcommand "nonsense"`},
	} {
		r := runCmd(t, nil, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
	if r := runCmd(t, nil, "", "--database-url", dbURL, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: icpverify") {
		t.Errorf("--help after a flag: exit %d", r.code)
	}
}
