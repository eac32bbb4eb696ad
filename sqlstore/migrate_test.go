package sqlstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/icpfiling/icpverify/sqlstore"
)

// TestMigrate runs Migrate twice, then from 4 goroutines on 4 pools at once
// on a fresh database, and checks that each version is recorded once.
func TestMigrate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		t.Run("Twice", func(t *testing.T) {
			db := newDatabase(t, d)
			s := db.store(t) // migrates once
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			checkVersions(t, s, sqlstore.DefaultPrefix)
		})
		t.Run("Concurrent", func(t *testing.T) {
			db := newDatabase(t, d)
			var stores []*sqlstore.Store
			for range 4 {
				s, err := sqlstore.New(db.open(t), d)
				if err != nil {
					t.Fatal(err)
				}
				stores = append(stores, s)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, s := range stores {
				wg.Go(func() {
					<-start
					if err := s.Migrate(ctx); err != nil {
						t.Errorf("concurrent Migrate: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			checkVersions(t, stores[0], sqlstore.DefaultPrefix)
		})
		t.Run("Prefixes", func(t *testing.T) {
			db := newDatabase(t, d)
			a := db.store(t, sqlstore.WithTablePrefix("a_"))
			b := db.store(t, sqlstore.WithTablePrefix(""))
			checkVersions(t, a, "a_")
			checkVersions(t, b, "")
			if err := a.PutInstanceContext(ctx, eligible("i-1", "acct")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Instance(ctx, "i-1"); err == nil {
				t.Error("an instance stored under prefix a_ is found without prefix")
			}
			if _, err := a.Instance(ctx, "i-1"); err != nil {
				t.Error(err)
			}
		})
		t.Run("Newer", func(t *testing.T) {
			db := newDatabase(t, d)
			s := db.store(t)
			if _, err := s.DB().ExecContext(ctx, "INSERT INTO "+sqlstore.DefaultPrefix+"schema_version (version) VALUES (99)"); err != nil {
				t.Fatal(err)
			}
			err := s.Migrate(ctx)
			if err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("Migrate on a newer schema = %v; want an error that says so", err)
			}
		})
	})
}

// checkVersions checks that the versions recorded are 1 to SchemaVersion,
// each once.
func checkVersions(t *testing.T, s *sqlstore.Store, prefix string) {
	t.Helper()
	var n, lo, hi int
	err := s.DB().QueryRowContext(context.Background(), "SELECT COUNT(*), MIN(version), MAX(version) FROM "+prefix+"schema_version").Scan(&n, &lo, &hi)
	if err != nil {
		t.Fatal(err)
	}
	if n != sqlstore.SchemaVersion || lo != 1 || hi != sqlstore.SchemaVersion {
		t.Errorf("%sschema_version has %d rows, versions %d to %d; want %d rows, versions 1 to %d",
			prefix, n, lo, hi, sqlstore.SchemaVersion, sqlstore.SchemaVersion)
	}
}
