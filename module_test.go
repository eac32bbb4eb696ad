package icpverify_test

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestModulesBuildOutside serves the library's modules of this repository
// (the root, sqlstore and icpotel), as published, from a file-based module
// proxy, and builds a program outside the repository that imports them, as
// a user's would: a replace directive or a requirement on an unpublished
// version of the root would fail it.
func TestModulesBuildOutside(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	nested := []string{"sqlstore", "icpotel"}
	var version string
	for _, dir := range nested {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?m)^replace\b`).Match(mod) {
			t.Fatalf("%s/go.mod has a replace directive, which a user's build ignores", dir)
		}
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/icpfiling/icpverify (v\S+)$`).FindSubmatch(mod)
		if m == nil {
			t.Fatalf("%s/go.mod does not require github.com/icpfiling/icpverify", dir)
		}
		if version == "" {
			version = string(m[1])
		} else if string(m[1]) != version {
			t.Fatalf("%s/go.mod requires the root at %s, %s/go.mod at %s", dir, m[1], nested[0], version)
		}
	}

	proxy := t.TempDir()
	serveModule(t, proxy, "github.com/icpfiling/icpverify", version, ".")
	consumer := t.TempDir()
	var sums bytes.Buffer
	requires := "\tgithub.com/icpfiling/icpverify " + version + "\n"
	for _, dir := range append([]string{"."}, nested...) {
		if dir != "." {
			serveModule(t, proxy, "github.com/icpfiling/icpverify/"+dir, version, dir)
			requires += "\tgithub.com/icpfiling/icpverify/" + dir + " " + version + "\n"
		}
		b, err := os.ReadFile(filepath.Join(dir, "go.sum"))
		if err != nil {
			t.Fatal(err)
		}
		sums.Write(b)
	}
	writeFile(t, filepath.Join(consumer, "go.sum"), sums.Bytes())
	writeFile(t, filepath.Join(consumer, "go.mod"), []byte("module example.com/consumer\n\ngo 1.26.0\n\nrequire (\n"+requires+")\n"))
	writeFile(t, filepath.Join(consumer, "main.go"), []byte(`package main

import (
	"database/sql"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icpotel"
	"github.com/icpfiling/icpverify/sqlstore"
)

func main() {
	var db *sql.DB
	store, err := sqlstore.New(db, sqlstore.Postgres)
	if err == nil {
		_ = icpverify.New(store, store, icpverify.WithObserver(icpotel.New()))
	}
}
`))

	modcache := t.TempDir()
	upstream := "file://" + filepath.ToSlash(filepath.Join(goEnv(t, gobin, "GOMODCACHE"), "cache", "download"))
	cmd := exec.Command(gobin, "build", "-o", os.DevNull, ".")
	cmd.Dir = consumer
	cmd.Env = append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+modcache,
		"GOPROXY=file://"+filepath.ToSlash(proxy)+","+upstream+","+goEnv(t, gobin, "GOPROXY"),
		"GONOSUMDB=github.com/icpfiling",
		"GONOPROXY=", "GOPRIVATE=",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a program that imports the modules at %s: %v\n%s", version, err, out)
	}
}

// goEnv returns the value of a go environment variable.
func goEnv(t *testing.T, gobin, name string) string {
	t.Helper()
	out, err := exec.Command(gobin, "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// serveModule writes the module in dir at version into a file-based module
// proxy: the files a published module holds, without nested modules.
func serveModule(t *testing.T, proxy, modPath, version, dir string) {
	t.Helper()
	at := filepath.Join(proxy, filepath.FromSlash(modPath), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(at, "list"), []byte(version+"\n"))
	writeFile(t, filepath.Join(at, version+".info"), []byte(`{"Version":"`+version+`","Time":"2026-11-30T00:00:00Z"}`))
	writeFile(t, filepath.Join(at, version+".mod"), gomod)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (d.Name() == ".git" || exists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir // not part of this module
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(modPath + "@" + version + "/" + path.Clean(filepath.ToSlash(rel)))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("zipping %s: %v", modPath, err)
	}
	writeFile(t, filepath.Join(at, version+".zip"), buf.Bytes())
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
