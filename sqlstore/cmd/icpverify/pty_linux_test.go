package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/icpfiling/icpverify/sqlstore"
)

// openPTY opens a pseudo-terminal of cols columns: the side a program
// writes to, and the side that reads what it wrote.
func openPTY(t *testing.T, cols uint16) (term, reader *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return s, m
}

// TestProgressOnTerminal: on a terminal, import draws the progress
// library's bar (percentage, bytes, time), as wide as the terminal, prints
// bad rows above it, and leaves the summing-up line alone at the end.
func TestProgressOnTerminal(t *testing.T) {
	env, _ := migrated(t, sqlstore.SQLite)
	var in strings.Builder
	for i := range 2000 {
		if i == 1000 {
			in.WriteString(good("tty-bad ") + "\n")
		}
		in.WriteString(good(fmt.Sprintf("tty-%d", i)) + "\n")
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cols  uint16
		args  []string
		stdin string
	}{
		{"a file", 100, []string{"import", "--batch", "100", path}, ""},
		{"the standard input, of unknown size", 100, []string{"import", "--batch", "100", "-"}, in.String()},
		{"a terminal of no width", 0, []string{"import", path}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tty, reader := openPTY(t, tc.cols)
			if !isTerminal(tty) {
				t.Fatal("a pseudo-terminal not taken for a terminal")
			}
			out := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(reader) // EIO once the terminal is closed
				out <- b
			}()
			var stdout bytes.Buffer
			code := run(t.Context(), tc.args, strings.NewReader(tc.stdin), &stdout, tty, func(k string) string { return env[k] })
			tty.Close()
			got := strings.ReplaceAll(string(<-out), "\r\n", "\n") // the terminal's ONLCR
			t.Logf("%q", got)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, want := range []string{"\x1b[2K\r", "loaded 0, bad 0", "icpverify import: line 1001: id \"tty-bad \" holds a space\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("terminal lacks %q", want)
				}
			}
			if !strings.HasSuffix(got, "\x1b[2K\rloaded 2000, bad 1\n") {
				t.Errorf("terminal does not end with the bar cleared and the summary")
			}
			if tc.args[len(tc.args)-1] != "-" && !regexp.MustCompile(`\d+% \|`).MatchString(got) {
				t.Errorf("no percentage bar")
			}
			if tc.cols > 0 {
				escape := regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
				widest := 0
				for _, line := range strings.FieldsFunc(escape.ReplaceAllString(got, ""), func(r rune) bool { return r == '\r' || r == '\n' }) {
					widest = max(widest, len([]rune(line)))
				}
				// A bar of known length fills the terminal.
				if widest > int(tc.cols) || tc.stdin == "" && widest < int(tc.cols)-10 {
					t.Errorf("the widest line is %d wide on a terminal of %d", widest, tc.cols)
				}
			}
		})
	}
}
