package sqlstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/subject"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, icpverify.ErrNotFound) }

// newApp returns a new application identity, as the Verifier makes them:
// 32 lower-case hexadecimal digits.
func newApp() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// nameKey returns the subject key the Verifier gives a subject named name,
// without a certificate.
func nameKey(t testing.TB, name string) string {
	t.Helper()
	key, ok := subject.Key(name, subject.ID{})
	if !ok {
		t.Fatalf("subject.Key(%q) yields no key", name)
	}
	return key
}

// certOf returns a certificate for the subject of that name, as the tests
// give it: one per canonical name, so that names the rules key as one get
// one certificate.
func certOf(name string) subject.ID {
	key, ok := subject.Key(name, subject.ID{})
	if !ok {
		return subject.ID{}
	}
	sum := sha256.Sum256([]byte(key))
	return subject.ID{Type: subject.CertOther, Number: "T" + hex.EncodeToString(sum[:8])}
}

// keyOf returns the subject key the Verifier gives the subject of req.
func keyOf(t testing.TB, req icpverify.Request) string {
	t.Helper()
	key, ok := subject.Key(req.Subject, req.SubjectID)
	if !ok {
		t.Fatalf("subject.Key(%q, %+v) yields no key", req.Subject, req.SubjectID)
	}
	return key
}

// certKey returns the subject key the Verifier gives the subject of that
// name with its certificate (see certOf).
func certKey(t testing.TB, name string) string {
	t.Helper()
	return keyOf(t, icpverify.Request{Subject: name, SubjectID: certOf(name)})
}

// errgroup runs functions in goroutines and keeps the first error.
type errgroup struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

func (g *errgroup) Go(f func() error) {
	g.wg.Go(func() {
		if err := f(); err != nil {
			g.mu.Lock()
			if g.first == nil {
				g.first = err
			}
			g.mu.Unlock()
		}
	})
}

func (g *errgroup) Wait() error {
	g.wg.Wait()
	return g.first
}

// appOf returns the Application of the reservation of code in s.
func appOf(t testing.TB, s *sqlstore.Store, code string) string {
	t.Helper()
	r, err := s.Reservation(context.Background(), code)
	if err != nil {
		t.Fatalf("Reservation(%s): %v", code, err)
	}
	return r.Application
}

// upgradedApplication matches the Application that schema version 6
// gives a reservation stored before it: 32 lower-case hexadecimal digits.
var upgradedApplication = regexp.MustCompile(`^[0-9a-f]{32}$`)

// checkUpgradedApplication checks that r, stored before schema version 6,
// has the Application the upgrade gave it, and that Application finds r
// by it.
func checkUpgradedApplication(t testing.TB, s *sqlstore.Store, r icpverify.Reservation) {
	t.Helper()
	if !upgradedApplication.MatchString(r.Application) {
		t.Errorf("reservation %s: Application %q after the upgrade; want 32 lower-case hexadecimal digits", r.Code, r.Application)
		return
	}
	got, err := s.Application(context.Background(), r.Application)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("Application(%q) = %+v, %v; want %+v", r.Application, got, err, r)
	}
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, ... if d
// is Postgres.
func rebind(d sqlstore.Dialect, q string) string {
	if d != sqlstore.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// storeAt returns a store on a new database of dialect d, migrated to
// schema version v only, and the pool it uses, to write rows as that
// version did.
func storeAt(t *testing.T, d sqlstore.Dialect, v int) (*sql.DB, *sqlstore.Store) {
	t.Helper()
	pool := newDatabase(t, d).open(t)
	s, err := sqlstore.New(pool, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MigrateTo(context.Background(), v); err != nil {
		t.Fatalf("MigrateTo(%d): %v", v, err)
	}
	return pool, s
}
