package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// TestReplicas races 64 goroutines on 4 replicas (each its own *sql.DB pool
// on the same database; on SQLite the same file) over 50 products with a
// limit of 5 subjects and 400 subjects, then releases every reservation
// from 64 goroutines again, and checks the quota against what the callers
// were told and against the rows.
func TestReplicas(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		opsPer := 40 // Reserve calls per goroutine
		if testing.Short() {
			opsPer = 10
		}
		raceReplicas(t, newDatabase(t, d), opsPer)
	})
}

// TestIsolationLevels runs a shorter TestReplicas, then TestQuotaRace,
// with every session at each isolation level the server offers: the
// scheme must not depend on it.
func TestIsolationLevels(t *testing.T) {
	levels := map[sqlstore.Dialect][]string{
		sqlstore.Postgres: {"read committed", "repeatable read", "serializable"},
		sqlstore.MySQL:    {"READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE"},
	}
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			skipUnlessAvailable(t, d)
			for _, level := range levels[d] {
				t.Run(strings.ReplaceAll(level, " ", "-"), func(t *testing.T) {
					t.Run("replicas", func(t *testing.T) { raceReplicas(t, levelDatabase(t, d, level), 10) })
					t.Run("quota", func(t *testing.T) { raceQuota(t, levelDatabase(t, d, level), false) })
				})
			}
		})
	}
}

// levelDatabase makes a fresh namespace of dialect d whose sessions run at
// the isolation level level.
func levelDatabase(t *testing.T, d sqlstore.Dialect, level string) *database {
	t.Helper()
	db := newDatabase(t, d)
	var show string
	if d == sqlstore.Postgres {
		db.dsn = withParam(t, d, db.dsn, "default_transaction_isolation", level)
		show = "SHOW default_transaction_isolation"
	} else {
		// MariaDB names it tx_isolation, MySQL 8
		// transaction_isolation.
		variable := "transaction_isolation"
		var version string
		if err := db.admin.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(version, "MariaDB") {
			variable = "tx_isolation"
		}
		db.dsn = withParam(t, d, db.dsn, variable, "'"+level+"'")
		show = "SELECT @@" + variable
	}
	var got string
	if err := db.open(t).QueryRow(show).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(got, level) {
		t.Fatalf("sessions run at %q, want %q", got, level)
	}
	return db
}

// raceReplicas is TestReplicas on db, with opsPer calls per goroutine.
func raceReplicas(t *testing.T, db *database, opsPer int) {
	const (
		replicas   = 4
		goroutines = 64
		products   = 50
		limit      = 5
		subjects   = 400
		codesPer   = 16 // service codes per product
	)
	d := db.d
	ctx := context.Background()

	// Migrate from all replicas at once.
	stores := make([]*sqlstore.Store, replicas)
	for i := range stores {
		s, err := sqlstore.New(db.open(t), d)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Products 0-9 have a demand of 1 to 4 subjects of their own; the
	// others are open to all 400.
	tag := randomName("")
	subject := func(i int) string { return fmt.Sprintf("subject-%s-%03d", tag, i) }
	pool := make([][]string, products)
	ids := make([]string, products)
	codes := make([][]string, products)
	for p := range products {
		ids[p] = fmt.Sprintf("i-%s-%02d", tag, p)
		if p < 10 {
			for j := range p%4 + 1 {
				pool[p] = append(pool[p], fmt.Sprintf("own-%s-%02d-%d", tag, p, j))
			}
		} else {
			for j := range subjects {
				pool[p] = append(pool[p], subject(j))
			}
		}
		for j := range codesPer {
			codes[p] = append(codes[p], fmt.Sprintf("C%s%02d%02d", tag, p, j))
		}
	}
	var setup errgroup
	for w := range 8 {
		setup.Go(func() error {
			for p := w; p < products; p += 8 {
				if err := stores[p%replicas].PutInstanceContext(ctx, eligible(ids[p], "owner-"+tag)); err != nil {
					return err
				}
				for j := range codesPer {
					_, added, err := stores[j%replicas].AddServiceCode(ctx, icpverify.ServiceCode{Code: codes[p][j], Instance: ids[p], Owner: "owner-" + tag}, 1000)
					if err != nil || !added {
						return fmt.Errorf("AddServiceCode: %v, %w", added, err)
					}
				}
			}
			return nil
		})
	}
	if err := setup.Wait(); err != nil {
		t.Fatal(err)
	}

	type call struct {
		p             int
		code, subject string
		out           icpverify.Outcome
		used          int
	}
	results := make([][]call, goroutines)
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			<-start
			s := stores[g%replicas]
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for range opsPer {
				p := rng.IntN(products)
				c := call{p: p, code: codes[p][rng.IntN(codesPer)], subject: pool[p][rng.IntN(len(pool[p]))]}
				r := application(c.code, c.subject)
				r.Instance, r.ReservedAt, r.Application = ids[p], time.Now(), newApp()
				var err error
				c.out, c.used, err = s.Reserve(ctx, r, limit)
				if err != nil {
					t.Errorf("Reserve: %v", err)
					return
				}
				if c.used < 0 || c.used > limit {
					t.Errorf("Reserve reported used %d, limit %d", c.used, limit)
				}
				results[g] = append(results[g], c)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// What the callers were told.
	holders := make([]map[string]bool, products) // subjects told Reserved
	demand := make([]map[string]bool, products)  // subjects not told Taken
	full := make([]bool, products)
	owner := map[string]string{} // code -> subject told Reserved
	reserved := 0
	counts := map[icpverify.Outcome]int{}
	for p := range products {
		holders[p], demand[p] = map[string]bool{}, map[string]bool{}
	}
	for _, rs := range results {
		for _, c := range rs {
			counts[c.out]++
			switch c.out {
			case icpverify.Reserved:
				if prev, ok := owner[c.code]; ok {
					t.Errorf("code %s was Reserved twice, for %s and %s", c.code, prev, c.subject)
				}
				owner[c.code] = c.subject
				holders[c.p][c.subject] = true
				demand[c.p][c.subject] = true
				reserved++
			case icpverify.Held:
				demand[c.p][c.subject] = true
			case icpverify.Full:
				demand[c.p][c.subject] = true
				full[c.p] = true
			}
		}
	}
	// A Held or Taken is consistent with the code's one owner.
	for _, rs := range results {
		for _, c := range rs {
			o, ok := owner[c.code]
			switch {
			case c.out == icpverify.Held && (!ok || o != c.subject):
				t.Errorf("code %s Held for %s, but Reserved for %q", c.code, c.subject, o)
			case c.out == icpverify.Taken && (!ok || o == c.subject):
				t.Errorf("code %s Taken for %s, but Reserved for %q", c.code, c.subject, o)
			}
		}
	}
	t.Logf("%s: outcomes %v over %d calls", d, counts, goroutines*opsPer)
	for p := range products {
		want := min(limit, len(demand[p]))
		if len(holders[p]) != want {
			t.Errorf("product %d: %d subjects hold a slot, want min(%d, demand %d)", p, len(holders[p]), limit, len(demand[p]))
		}
		if full[p] && len(holders[p]) != limit {
			t.Errorf("product %d: a call was told Full, but only %d subjects hold a slot", p, len(holders[p]))
		}
		for _, sub := range pool[p] {
			used, held, err := stores[p%replicas].Usage(ctx, ids[p], application("", sub).SubjectKey)
			if err != nil {
				t.Fatal(err)
			}
			if used != len(holders[p]) || held != holders[p][sub] {
				t.Errorf("product %d: Usage(%s) = %d, %v; want %d, %v", p, sub, used, held, len(holders[p]), holders[p][sub])
				break
			}
		}
	}
	raw := stores[0].DB()
	checkRows(t, raw, reserved, len(owner))
	apps := map[string]string{} // code -> Application stored
	for code, sub := range owner {
		r, err := stores[1].Reservation(ctx, code)
		if err != nil || r.Subject != sub {
			t.Errorf("Reservation(%s) = %+v, %v; want subject %s", code, r, err, sub)
		}
		apps[code] = r.Application
	}

	// Release every reservation twice, concurrently, from all replicas,
	// among releases of each code for another application (a retry's
	// Application, for another website), which free nothing.
	var all []icpverify.Reservation
	for code, sub := range owner {
		r := application(code, sub)
		r.Application = apps[code]
		other := r
		other.Website, other.Application = "other.example.com", newApp()
		all = append(all, r, r, other)
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	released := make([]int, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			s := stores[g%replicas]
			for i := g; i < len(all); i += goroutines {
				_, err := s.Release(ctx, all[i])
				switch {
				case err == nil && all[i].Website != "":
					t.Errorf("Release of %s for another website succeeded", all[i].Code)
				case err == nil:
					released[g]++
				case !errorsIsNotFound(err):
					t.Errorf("Release: %v", err)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range released {
		total += n
	}
	if total != len(owner) {
		t.Errorf("%d Release calls succeeded, want %d (one per reservation)", total, len(owner))
	}
	checkRows(t, raw, 0, 0)
	for p := range products {
		if used, _, err := stores[0].Usage(ctx, ids[p], "x"); err != nil || used != 0 {
			t.Errorf("product %d after releasing all: used %d, %v; want 0", p, used, err)
		}
	}
}

// application returns the reservation of code that raceReplicas makes for
// subject, without its instance and time: its own account, and a subject
// key that is not the subject's name.
func application(code, subject string) icpverify.Reservation {
	return icpverify.Reservation{Code: code, Account: "acct-" + subject, Subject: subject, SubjectKey: "key:" + subject}
}

// checkRows checks the tables against each other: every slot is counted on
// its quota row, every reservation but a deregistered one on its subject
// key's slot, no key has two slots on an instance, and there are
// wantReservations reservations.
func checkRows(t *testing.T, db *sql.DB, wantReservations, wantCodes int) {
	t.Helper()
	ctx := context.Background()
	one := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	p := sqlstore.DefaultPrefix
	if n := one("SELECT COUNT(*) FROM " + p + "reservations"); n != wantReservations {
		t.Errorf("%d reservation rows, want %d (the calls told Reserved)", n, wantReservations)
	}
	if n := one("SELECT COUNT(DISTINCT code) FROM " + p + "reservations"); n != wantCodes {
		t.Errorf("%d reserved codes, want %d", n, wantCodes)
	}
	if n := one("SELECT COUNT(*) FROM (SELECT instance, subject_key FROM " + p + "slots GROUP BY instance, subject_key HAVING COUNT(*) > 1) x"); n != 0 {
		t.Errorf("%d subject keys hold two slots of one instance", n)
	}
	// Quota rows that disagree with the count of their slots.
	if n := one(`SELECT COUNT(*) FROM ` + p + `quota q WHERE q.used <> (SELECT COUNT(*) FROM ` + p + `slots s WHERE s.instance = q.instance)`); n != 0 {
		t.Errorf("%d quota rows disagree with their slots", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `slots s WHERE s.instance NOT IN (SELECT instance FROM ` + p + `quota)`); n != 0 {
		t.Errorf("%d slots have no quota row", n)
	}
	// Slots that disagree with the count of their reservations; a
	// deregistered reservation holds none.
	if n := one(`SELECT COUNT(*) FROM ` + p + `slots s WHERE s.holds <> (SELECT COUNT(*) FROM ` + p + `reservations r WHERE r.instance = s.instance AND r.subject_key = s.subject_key AND r.deregistered = FALSE)`); n != 0 {
		t.Errorf("%d slots disagree with their reservations", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `reservations r WHERE r.deregistered = FALSE AND NOT EXISTS (SELECT 1 FROM ` + p + `slots s WHERE r.instance = s.instance AND r.subject_key = s.subject_key)`); n != 0 {
		t.Errorf("%d reservations have no slot", n)
	}
}
