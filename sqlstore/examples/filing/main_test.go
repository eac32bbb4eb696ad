package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify/sqlstore"
)

// TestRun runs the flow on a SQLite file and checks its story.
func TestRun(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "icp.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	if err := run(context.Background(), &out, db, sqlstore.SQLite, sqlstore.DefaultPrefix); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"issue a sixth code: refused, code_limit",
		"(a retry: nothing changed)",
		"refused, code_in_use",
		"refused, quota_reached",
		"release the filed code: refused, code_used",
		"3 of 3 subjects hold a slot",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
