package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// strangerCodes seeds s with an instance of another account and a code it
// issued, and returns that code and a well-formed code that s does not
// hold, issued from a throwaway memory store.
func strangerCodes(t testing.TB, s *sqlstore.Store) (absent, other string) {
	t.Helper()
	ctx := context.Background()
	owner := randomName("owner-")
	inst := eligible("i-"+owner, owner)
	if err := s.PutInstanceContext(ctx, inst); err != nil {
		t.Fatalf("PutInstance: %v", err)
	}
	code, err := icpverify.New(s, s).IssueServiceCode(ctx, inst.ID, owner)
	if err != nil {
		t.Fatalf("IssueServiceCode: %v", err)
	}
	mem := icpverify.NewMemoryStore()
	if err := mem.PutInstanceContext(context.Background(), inst); err != nil {
		t.Fatalf("MemoryStore.PutInstanceContext: %v", err)
	}
	elsewhere, err := icpverify.New(mem, mem).IssueServiceCode(ctx, inst.ID, owner)
	if err != nil {
		t.Fatalf("IssueServiceCode on a memory store: %v", err)
	}
	var ok bool
	if other, ok = codeformat.Normalize(code); !ok {
		t.Fatalf("issued code %q is not well formed", code)
	}
	if absent, ok = codeformat.Normalize(elsewhere); !ok {
		t.Fatalf("issued code %q is not well formed", elsewhere)
	}
	if _, err := s.ServiceCode(ctx, absent); !errors.Is(err, icpverify.ErrNotFound) {
		t.Fatalf("the absent code: ServiceCode = %v; want ErrNotFound", err)
	}
	return absent, other
}

// strangerRequest is a stranger's request with code.
func strangerRequest(code string) icpverify.Request {
	return icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: "stranger", Subject: "Stranger Ltd", SubjectID: certOf("Stranger Ltd")}
}

// refusedAsUnknown fails t unless err refuses a code as one that does not
// exist.
func refusedAsUnknown(t testing.TB, what string, err error) {
	t.Helper()
	var e *icpverify.Error
	if !errors.As(err, &e) || e.Reason != icpverify.ReasonCodeNotFound {
		t.Fatalf("%s: %v; want a refusal with %s", what, err, icpverify.ReasonCodeNotFound)
	}
}

// TestStrangerRoundTrips checks that a stranger's Verify and Check make
// the same round trips to the store for a well-formed code that does not
// exist as for a code of another account, so that how long the refusal
// takes does not tell the stranger whether the code exists. It runs with
// the store passed twice (its one-call lookup) and behind a separate
// InstanceStore value (the plain reads).
func TestStrangerRoundTrips(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db := newDatabase(t, d)
		absent, other := strangerCodes(t, db.store(t))
		pool, f := db.openFaults(t)
		// One connection: a statement prepared once is not prepared again
		// on another connection.
		pool.SetMaxOpenConns(1)
		s := db.storeOn(t, pool)
		ctx := context.Background()
		for _, two := range []bool{false, true} {
			mode := "one store"
			var v *icpverify.Verifier
			if two {
				mode = "two stores"
				v = icpverify.New(instancesOnly{s}, s)
			} else {
				v = icpverify.New(s, s)
			}
			t.Run(mode, func(t *testing.T) {
				for _, op := range []struct {
					name string
					call func(context.Context, icpverify.Request) (icpverify.Result, error)
				}{{"Verify", v.Verify}, {"Check", v.Check}} {
					trips := func(code, which string) []string {
						var err error
						got := f.trips.during(func() { _, err = op.call(ctx, strangerRequest(code)) })
						refusedAsUnknown(t, op.name+" of "+which, err)
						return got
					}
					// The first calls prepare the statements.
					trips(absent, "the absent code")
					trips(other, "another account's code")
					for range 2 {
						a := trips(absent, "the absent code")
						o := trips(other, "another account's code")
						if len(a) == 0 {
							t.Fatalf("%s of the absent code: no round trips recorded", op.name)
						}
						if len(a) != len(o) || !slices.Equal(a, o) {
							t.Fatalf("%s: %d round trips for the absent code, %d for another account's:\nabsent: %q\nother:  %q",
								op.name, len(a), len(o), a, o)
						}
						t.Logf("%s: %d round trips each", op.name, len(a))
					}
				}
			})
		}
	})
}

// timingEnv enables TestStrangerTimingReport.
const timingEnv = "ICPVERIFY_TIMING"

// TestStrangerTimingReport measures, without asserting anything, how long
// a stranger's Verify takes for a well-formed code that does not exist and
// for another account's code, with the store passed twice: 1,000 samples
// of each, taken in turn, and their medians logged. It runs only with
// ICPVERIFY_TIMING=1.
func TestStrangerTimingReport(t *testing.T) {
	if os.Getenv(timingEnv) != "1" {
		t.Skip(timingEnv + " not set to 1; set it to measure a stranger's Verify of an absent code and of another account's code")
	}
	const samples = 1000
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		absent, other := strangerCodes(t, s)
		v := icpverify.New(s, s)
		ctx := context.Background()
		codes := [2]string{absent, other}
		var took [2][]time.Duration
		for i := range 2*samples + 20 {
			which := i % 2
			start := time.Now()
			_, err := v.Verify(ctx, strangerRequest(codes[which]))
			elapsed := time.Since(start)
			refusedAsUnknown(t, "Verify", err)
			if i >= 20 { // the first calls prepare the statements
				took[which] = append(took[which], elapsed)
			}
		}
		median := func(ds []time.Duration) float64 {
			slices.Sort(ds)
			return float64(ds[len(ds)/2]) / float64(time.Microsecond)
		}
		t.Logf("a stranger's Verify, median of %d each: absent code %.1f µs, another account's code %.1f µs",
			samples, median(took[0]), median(took[1]))
	})
}
