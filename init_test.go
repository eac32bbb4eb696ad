package icpverify

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestNothingAtInit builds a program that only imports the package and
// package catalog, and runs it with GODEBUG=inittrace=1: the package's init
// may allocate what its sentinel errors need, and no more; package catalog
// and the messages behind both allocate nothing at init (the built-in
// messages are made on first use).
func TestNothingAtInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.go": "package main\n\nimport (\n\t_ \"github.com/icpfiling/icpverify\"\n\t_ \"github.com/icpfiling/icpverify/catalog\"\n)\n\nfunc main() {}\n",
		"go.mod": "module inittrace\n\ngo 1.26.0\n\nrequire github.com/icpfiling/icpverify v0.0.0\n\n" +
			"replace github.com/icpfiling/icpverify => " + strconv.Quote(root) + "\n",
		"go.sum": string(sum),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "inittrace")
	build := exec.Command(gobin, "build", "-mod=mod", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("running: %v\n%s", err, out)
	}
	// A package with nothing to do at init has no line at all.
	if m := regexp.MustCompile(`(?m)^init github\.com/icpfiling/icpverify @.*, (\d+) bytes, (\d+) allocs$`).FindSubmatch(out); m != nil {
		bytes, _ := strconv.Atoi(string(m[1]))
		allocs, _ := strconv.Atoi(string(m[2]))
		t.Logf("init: %d bytes, %d allocs", bytes, allocs)
		if bytes >= 2048 || allocs >= 50 {
			t.Errorf("the package's init allocates %d bytes in %d allocations; want under 2 KB and 50", bytes, allocs)
		}
	}
	for _, pkg := range []string{"catalog", "internal/messages", "codeformat", "subject", "internal/fold"} {
		m := regexp.MustCompile(`(?m)^init github\.com/icpfiling/icpverify/` + regexp.QuoteMeta(pkg) + ` @.*, (\d+) bytes, (\d+) allocs$`).FindSubmatch(out)
		if m != nil && (string(m[1]) != "0" || string(m[2]) != "0") {
			t.Errorf("package %s allocates at init: %s", pkg, m[0])
		}
	}
}
