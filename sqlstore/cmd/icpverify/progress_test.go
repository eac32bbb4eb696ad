package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify/sqlstore"
)

// TestProgressOffTerminal: a file, a pipe or /dev/null (a character device
// that is no terminal) gets no bar and no terminal control characters:
// the bad rows and the summing-up line alone.
func TestProgressOffTerminal(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	for name, w := range map[string]io.Writer{"/dev/null": devnull, "a file": file, "a pipe": pw, "a buffer": &bytes.Buffer{}} {
		if p := newProgress(w, 100); p.bar != nil {
			t.Errorf("%s taken for a terminal", name)
		}
	}

	// The whole import, its standard error a pipe.
	env, _ := migrated(t, sqlstore.SQLite)
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(good("pg-1")+"\n"+good("pg-2 ")+"\n"+good("pg-3")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		out <- b
	}()
	var stdout bytes.Buffer
	code := run(t.Context(), []string{"import", path}, strings.NewReader(""), &stdout, pw, func(k string) string { return env[k] })
	pw.Close()
	got := string(<-out)
	want := "icpverify import: line 2: id \"pg-2 \" holds a space\nloaded 2, bad 1\n"
	if code != 1 || got != want {
		t.Errorf("import to a pipe: exit %d, stderr %q; want %q", code, got, want)
	}
	// And to /dev/null: nothing to read back, but nothing drawn either.
	if code := run(t.Context(), []string{"import", path}, strings.NewReader(""), &stdout, devnull, func(k string) string { return env[k] }); code != 1 {
		t.Errorf("import to /dev/null: exit %d", code)
	}
}
