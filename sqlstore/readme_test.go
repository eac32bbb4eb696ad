package sqlstore_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEShowsSchema checks that README.md shows each schema file as it
// is.
func TestREADMEShowsSchema(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(os.DirFS("."), "schema/*/*.sql")
	if err != nil || len(files) < 3 {
		t.Fatalf("schema files: %v, %v", files, err)
	}
	for _, f := range files {
		text, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```sql\n"+strings.TrimRight(string(text), "\n")+"\n```") {
			t.Errorf("README.md does not show %s as it is", f)
		}
	}
}
