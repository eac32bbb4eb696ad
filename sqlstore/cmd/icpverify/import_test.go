package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// good is a row with every required field, for the tests to vary.
func good(id string, extra ...string) string {
	fields := append([]string{`"id":` + quoteJSON(id), `"account":"acct"`, `"product":"ecs"`, `"status":"running"`}, extra...)
	return "{" + strings.Join(fields, ",") + "}"
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// migrated returns the URL of a fresh migrated database of dialect d, and
// its store.
func migrated(t *testing.T, d sqlstore.Dialect) (map[string]string, *sqlstore.Store) {
	t.Helper()
	dbURL := databaseURL(t, d)
	env := map[string]string{databaseURLEnv: dbURL}
	if r := runCmd(t, env, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d", r.code)
	}
	return env, openTestStore(t, dbURL, sqlstore.DefaultPrefix)
}

// TestImportRefuses: each row that would break later is refused, with its
// line number, and the good rows around it are loaded.
func TestImportRefuses(t *testing.T) {
	env, s := migrated(t, sqlstore.SQLite)
	ctx := context.Background()
	tests := []struct {
		name   string
		format string // "" for jsonl
		input  string
		args   []string
		want   []string // in stderr
		loaded []string // IDs stored
		absent []string // IDs not stored
	}{
		{name: "same ID, another account",
			input:  good("d-1") + "\n" + strings.Replace(good("d-1"), `"acct"`, `"other"`, 1) + "\n" + good("d-2") + "\n",
			want:   []string{"line 2: instance d-1 is on line 1 already, for another account (acct there, other here): only the first row of an instance is taken", "loaded 2, bad 1\n"},
			loaded: []string{"d-1", "d-2"}},
		{name: "same ID, another account, across batches", args: []string{"--batch", "1"},
			input:  good("d-3") + "\n\n" + strings.Replace(good("d-3"), `"acct"`, `"other"`, 1) + "\n",
			want:   []string{"line 3: instance d-3 is on line 1 already, for another account", "loaded 1, bad 1\n"},
			loaded: []string{"d-3"}},
		{name: "same ID, same account",
			input:  good("d-4") + "\n" + good("d-4", `"region":"cn-beijing"`) + "\n",
			want:   []string{"line 2: instance d-4 is on line 1 already: only the first row of an instance is taken", "loaded 1, bad 1\n"},
			loaded: []string{"d-4"}},
		{name: "same ID in CSV", format: "csv",
			input:  "id,account,product,status\nd-5,acct,ecs,running\nd-5,other,ecs,running\n",
			want:   []string{"line 3: instance d-5 is on line 2 already, for another account", "loaded 1, bad 1\n"},
			loaded: []string{"d-5"}},
		{name: "ID with spaces",
			input: good(" s-1") + "\n" + good("s-2 ") + "\n" + good("s 3") + "\n" + good("s\u00a04") + "\n" + good("s\t5") + "\n" + good("s\u30006") + "\n",
			want: []string{`line 1: id " s-1" holds a space`, `line 2: id "s-2 " holds a space`, `line 3: id "s 3" holds a space`,
				`line 4: id "s\u00a04" holds a space`, `line 5: id "s\t5" holds a space`, `line 6: id "s\u30006" holds a space`, "loaded 0, bad 6\n"},
			absent: []string{" s-1", "s-1", "s-2 ", "s 3"}},
		{name: "ID with invisible characters",
			input:  good("v\u200b1") + "\n" + good("v\u20652") + "\n" + good("v\u28003") + "\n" + good("v\u202e4") + "\n" + good("v\ufe0f5") + "\n" + good("v\u17b46") + "\n",
			want:   []string{"line 1: id \"v\\u200b1\" holds the invisible or control character U+200B", "line 2: id", "line 3: id", "line 4: id", "line 5: id", "line 6: id", "loaded 0, bad 6\n"},
			absent: []string{"v\u200b1"}},
		{name: "ID with spaces in CSV", format: "csv",
			input: "id,account,product,status\n s-7,acct,ecs,running\n",
			want:  []string{`line 2: id " s-7" holds a space`, "loaded 0, bad 1\n"}},
		{name: "account empty or spaced",
			input: `{"id":"a-1","account":"","product":"ecs","status":"running"}` + "\n" +
				`{"id":"a-2","product":"ecs","status":"running"}` + "\n" +
				strings.Replace(good("a-3"), `"acct"`, `" acct"`, 1) + "\n",
			want:   []string{"line 1: account is missing", "line 2: account is missing", `line 3: account " acct" holds a space`, "loaded 0, bad 3\n"},
			absent: []string{"a-1", "a-2", "a-3"}},
		{name: "product and status in any case, stored canonical",
			input: `{"id":"p-1","account":"acct","product":"ECS","status":"Running","billing":"SUBSCRIPTION"}` + "\n" +
				`{"id":"p-2","account":"acct","product":"vm","status":"running"}` + "\n" +
				`{"id":"p-3","account":"acct","product":"ecs","status":"on"}` + "\n" +
				`{"id":"p-4","account":"acct","product":"ec\u017f","status":"running"}` + "\n" +
				`{"id":"p-5","account":"acct","product":"ecs ","status":"running"}` + "\n" +
				`{"id":"p-6","account":"acct","product":"ecs","status":"running","billing":"monthly"}` + "\n",
			want: []string{`line 2: product vm is unknown: want "ecs", "swas", "slb", "ack", "oss" or "cdn" (in any case)`,
				`line 3: status on: want "running", "stopped" or "released"`, "line 4: product ecſ is unknown", `line 5: product "ecs " is unknown`,
				"line 6: billing monthly", "loaded 1, bad 5\n"},
			loaded: []string{"p-1"}, absent: []string{"p-2", "p-3", "p-4", "p-5", "p-6"}},
		{name: "a product of the operator's own", args: []string{"--product", "gpu"},
			input:  `{"id":"p-7","account":"acct","product":"GPU","status":"running"}` + "\n",
			want:   []string{"loaded 1, bad 0\n"},
			loaded: []string{"p-7"}},
		{name: "public IP",
			input: good("ip-1", `"public_ip":"not-an-ip"`) + "\n" + good("ip-2", `"public_ip":"2001:DB8::1"`) + "\n" +
				good("ip-3", `"public_ip":"203.0.113.01"`) + "\n" + good("ip-4", `"public_ip":"fe80::1%eth0"`) + "\n" +
				good("ip-5", `"public_ip":" 203.0.113.5"`) + "\n",
			want:   []string{"line 1: public_ip not-an-ip is not an IP address", "line 3: public_ip 203.0.113.01 is not an IP address", "line 4: public_ip", `line 5: public_ip " 203.0.113.5" is not an IP address`, "loaded 1, bad 4\n"},
			loaded: []string{"ip-2"}, absent: []string{"ip-1", "ip-3", "ip-4", "ip-5"}},
		{name: "only an ID",
			input:  `{"id":"i-only-id"}` + "\n",
			want:   []string{"line 1: account is missing; product is missing; status is missing", "loaded 0, bad 1\n"},
			absent: []string{"i-only-id"}},
		{name: "only an ID in CSV", format: "csv",
			input:  "id\ni-only-id-csv\n",
			want:   []string{"line 2: account is missing; product is missing; status is missing", "loaded 0, bad 1\n"},
			absent: []string{"i-only-id-csv"}},
		{name: "JSON named exactly, once",
			input: `{"id":"j-1","id":"j-2","account":"acct","product":"ecs","status":"running"}` + "\n" +
				`{"ID":"j-3","account":"acct","product":"ecs","status":"running"}` + "\n" +
				`{"id":"j-4","account":"acct","product":"ecs","status":"running"} {"id":"j-5"}` + "\n" +
				`["j-6"]` + "\n" + `{"id":"j-7","account":"acct","product":"ecs","status":"running","term_months":"12"}` + "\n" +
				`{"id":"j-8","account":"acct","product":"ecs","status":"running"` + "\n",
			want: []string{`line 1: field "id" twice`, "line 2: unknown field ID", "line 3: text after the JSON object", "line 4: want a JSON object",
				"line 5: term_months: want a whole number, not a JSON string", "line 6: the JSON object is cut short", "loaded 0, bad 6\n"},
			absent: []string{"j-1", "j-2", "j-3", "j-4", "j-7", "j-8"}},
		{name: "not UTF-8",
			input: `{"id":"u-1` + "\xff" + `","account":"acct","product":"ecs","status":"running"}` + "\n" + good("u-2", `"region":"cn-`+"\xc0"+`"`) + "\n",
			want:  []string{"line 1: the line is not valid UTF-8", "line 2: the line is not valid UTF-8", "loaded 0, bad 2\n"}},
		{name: "not UTF-8 in CSV", format: "csv",
			input: "id,account,product,status\nu-3\xff,acct,ecs,running\n",
			want:  []string{"line 2: the row is not valid UTF-8", "loaded 0, bad 1\n"}},
		{name: "a field too long",
			input:  good("l-1", `"region":"`+strings.Repeat("x", 257)+`"`) + "\n",
			want:   []string{"line 1: region is 257 bytes, over 256", "loaded 0, bad 1\n"},
			absent: []string{"l-1"}},
		{name: "a line too long, skipped",
			input:  good("l-2", `"region":"`+strings.Repeat("x", maxRow)+`"`) + "\n" + good("l-3") + "\n",
			want:   []string{"line 1: a row is over 65536 bytes", "loaded 1, bad 1\n"},
			loaded: []string{"l-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "" {
				format = "jsonl"
			}
			r := runCmd(t, env, tt.input, append(append([]string{"import", "--format", format}, tt.args...), "-")...)
			wantCode := 1
			if strings.HasSuffix(tt.want[len(tt.want)-1], " bad 0\n") {
				wantCode = 0
			}
			if r.code != wantCode {
				t.Errorf("exit %d, want %d", r.code, wantCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if strings.ContainsAny(r.stderr, "\x1b\r") {
				t.Errorf("stderr holds a terminal's control characters: %q", r.stderr)
			}
			for _, id := range tt.loaded {
				if _, err := s.Instance(ctx, id); err != nil {
					t.Errorf("%s not loaded: %v", id, err)
				}
			}
			for _, id := range tt.absent {
				if _, err := s.Instance(ctx, id); !errors.Is(err, icpverify.ErrNotFound) {
					t.Errorf("%s, a bad row, was loaded (%v)", id, err)
				}
			}
		})
	}

	// What was loaded is what the first of the rows said, in canonical form.
	for _, want := range []icpverify.Instance{
		{ID: "d-1", Account: "acct", Product: icpverify.ProductECS, Status: icpverify.Running},
		{ID: "d-4", Account: "acct", Product: icpverify.ProductECS, Status: icpverify.Running},
		{ID: "d-5", Account: "acct", Product: icpverify.ProductECS, Status: icpverify.Running},
		{ID: "p-1", Account: "acct", Product: icpverify.ProductECS, Status: icpverify.Running, Billing: icpverify.Subscription},
		{ID: "p-7", Account: "acct", Product: "gpu", Status: icpverify.Running},
		{ID: "ip-2", Account: "acct", Product: icpverify.ProductECS, Status: icpverify.Running, PublicIP: "2001:db8::1"},
	} {
		got, err := s.Instance(ctx, want.ID)
		if err != nil || got != want {
			t.Errorf("%s = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
}

// TestImportTransfer: a row that names another account than the
// inventory's for its instance is refused, unless --transfer lets it move
// the instance, and then the move is reported.
func TestImportTransfer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		if r := runCmd(t, env, "", "migrate"); r.code != 0 {
			t.Fatalf("migrate: exit %d", r.code)
		}
		s := openTestStore(t, dbURL, sqlstore.DefaultPrefix)
		ctx := context.Background()
		for _, id := range []string{"t-1", "t-2"} {
			if err := s.PutInstanceContext(ctx, icpverify.Instance{ID: id, Account: "first", Product: icpverify.ProductECS, Status: icpverify.Running}); err != nil {
				t.Fatal(err)
			}
		}
		owner := func(id string) string {
			t.Helper()
			inst, err := s.Instance(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return inst.Account
		}
		moving := `{"id":"t-1","account":"second","product":"ecs","status":"running"}` + "\n" +
			`{"id":"t-2","account":"first","product":"ecs","status":"stopped"}` + "\n" +
			`{"id":"t-3","account":"second","product":"ecs","status":"running"}` + "\n"
		r := runCmd(t, env, moving, "import", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "line 1: instance t-1 belongs to account first in the inventory, not second: an import moves an instance to another account only with --transfer") ||
			!strings.HasSuffix(r.stderr, "loaded 2, bad 1\n") {
			t.Errorf("import of a move: exit %d, stderr %q", r.code, r.stderr)
		}
		if owner("t-1") != "first" {
			t.Error("t-1 moved without --transfer")
		}
		if inst, err := s.Instance(ctx, "t-2"); err != nil || inst.Status != icpverify.Stopped {
			t.Errorf("t-2, of its own account, not replaced: %+v, %v", inst, err)
		}
		r = runCmd(t, env, moving, "import", "--transfer", "-")
		if r.code != 0 || !strings.Contains(r.stderr, "line 1: instance t-1 moved from account first to second\n") ||
			!strings.HasSuffix(r.stderr, "loaded 3 (1 moved to another account), bad 0\n") {
			t.Errorf("import --transfer: exit %d, stderr %q", r.code, r.stderr)
		}
		if owner("t-1") != "second" {
			t.Error("t-1 not moved with --transfer")
		}
	})
}

// TestImportReadsWhatTheStoreKeeps: a row the store refuses (a time out of
// its range) is reported by its line; the rest are loaded.
func TestImportReadsWhatTheStoreKeeps(t *testing.T) {
	env, s := migrated(t, sqlstore.SQLite)
	in := good("k-1") + "\n" + good("k-2", `"expires_at":"0000-01-01T00:00:00Z"`) + "\n" + good("k-3") + "\n"
	r := runCmd(t, env, in, "import", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "line 2: ") || !strings.HasSuffix(r.stderr, "loaded 2, bad 1\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := s.Instance(context.Background(), "k-3"); err != nil {
		t.Error(err)
	}
}

// TestImportHugeCSVRow: a CSV row without end stops the import with a
// clear error instead of filling the memory.
func TestImportHugeCSVRow(t *testing.T) {
	env, _ := migrated(t, sqlstore.SQLite)
	in := "id,account,product,status\n\"" + strings.Repeat("x", 4*maxRow)
	r := runCmd(t, env, in, "import", "--format", "csv", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "a row is over 65536 bytes") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestMigrateFirst: every subcommand but migrate, on a database without
// the tables or with older ones, says to run migrate first.
func TestMigrateFirst(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect, dbURL string) {
		env := map[string]string{databaseURLEnv: dbURL}
		for _, args := range [][]string{
			{"import", "-"}, {"code", "KGNE-XZ38-2VKX-Q788"}, {"codes", "i-1", "--account", "a"},
			{"revoke", "KGNE-XZ38-2VKX-Q788"}, {"expiring", "--account", "a"},
		} {
			r := runCmd(t, env, good("m-1")+"\n", args...)
			if r.code != 1 || !strings.Contains(r.stderr, `icpverify `+args[0]+`: the database has no icpverify tables (prefix "icpverify_"): run migrate first`) {
				t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
			}
		}
		if d != sqlstore.SQLite {
			return
		}
		// Tables of an older version.
		s := openTestStore(t, dbURL, "old_")
		if _, err := s.DB().Exec(`CREATE TABLE old_schema_version (version INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`INSERT INTO old_schema_version VALUES (3)`); err != nil {
			t.Fatal(err)
		}
		r := runCmd(t, env, "", "import", "--prefix", "old_", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "at schema version 3, older than this command's") || !strings.Contains(r.stderr, "run migrate first") {
			t.Errorf("import on version 3: exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := s.DB().Exec(`INSERT INTO old_schema_version VALUES (?)`, sqlstore.SchemaVersion+1); err != nil {
			t.Fatal(err)
		}
		r = runCmd(t, env, "", "codes", "--prefix", "old_", "i-1", "--account", "a")
		if r.code != 1 || !strings.Contains(r.stderr, "newer than this command's") {
			t.Errorf("codes on a newer version: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestParseWindow(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30d", 30 * 24 * time.Hour, ""},
		{"0d", 0, ""},
		{"36500d", 36500 * 24 * time.Hour, ""},
		{"720h", 720 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, ""},
		{"-1d", 0, "must not be negative"},
		{"-5h", 0, "must not be negative"},
		{"36501d", 0, "is over 36500d"},
		{"99999999999999999999d", 0, "is over 36500d"},
		{"876001h", 0, "is over 36500d"},
		{"9999999999h", 0, "want whole days"},
		{"", 0, "want whole days"},
		{"d", 0, "want whole days"},
		{"30x", 0, "want whole days"},
		{"1.5d", 0, "want whole days"},
		{"+3d", 0, "want whole days"},
		{"1d12h", 0, "want whole days"},
		{"３０d", 0, "want whole days"},
	} {
		got, err := parseWindow(tt.in)
		if tt.err == "" && (err != nil || got != tt.want) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("parseWindow(%q) = %v, %v; want %v, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	// Through the command: bad usage, exit 2, before any database.
	for _, in := range []string{"-1d", "36501d", "soon"} {
		r := runCmd(t, nil, "", "expiring", "--account", "a", "--within", in)
		if r.code != 2 || !strings.Contains(r.stderr, `invalid value "`+in+`" for flag -within`) {
			t.Errorf("--within %s: exit %d, stderr %q", in, r.code, r.stderr)
		}
	}
	r := runCmd(t, nil, "", "expiring", "-h")
	if !strings.Contains(r.stdout, "(default 30d)") {
		t.Errorf("expiring -h: %q", r.stdout)
	}
}

// TestImportCancelled: an import whose context ends stops, says why, and
// loads nothing more, even when no row reaches the database.
func TestImportCancelled(t *testing.T) {
	env, s := migrated(t, sqlstore.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var in, stdout, stderr strings.Builder
	for i := range 10 {
		in.WriteString(fmt.Sprintf(`{"id":"x-%d"}`, i) + "\n") // bad rows, which load nothing
	}
	in.WriteString(good("x-good") + "\n")
	// The context ends as the input is first read: after the database
	// answered.
	stdin := &cancelling{r: strings.NewReader(in.String()), cancel: cancel}
	code := run(ctx, []string{"import", "-"}, stdin, &stdout, &stderr, func(k string) string { return env[k] })
	if code != 1 || !strings.Contains(stderr.String(), "stopped at line 1: context canceled") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if _, err := s.Instance(context.Background(), "x-good"); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("x-good loaded after the context ended: %v", err)
	}
	// Ended before: the database is not even asked.
	code = run(ctx, []string{"import", "-"}, strings.NewReader(in.String()), &stdout, &stderr, func(k string) string { return env[k] })
	if code != 1 || !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// cancelling is a reader that ends a context when it is first read.
type cancelling struct {
	r      io.Reader
	cancel func()
}

func (c *cancelling) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}
