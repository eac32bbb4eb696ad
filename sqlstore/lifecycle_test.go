package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// instancesOnly is a Store seen only as an icpverify.InstanceStore: a
// value other than the Store, so that a Verifier made with it and the Store
// reads instances and codes through the InstanceStore methods and not
// through the Store's one-call lookup.
type instancesOnly struct{ s *sqlstore.Store }

func (o instancesOnly) Instance(ctx context.Context, id string) (icpverify.Instance, error) {
	return o.s.Instance(ctx, id)
}

func (o instancesOnly) ServiceCode(ctx context.Context, code string) (icpverify.ServiceCode, error) {
	return o.s.ServiceCode(ctx, code)
}

func (o instancesOnly) AddServiceCode(ctx context.Context, sc icpverify.ServiceCode, limit int) (int, bool, error) {
	return o.s.AddServiceCode(ctx, sc, limit)
}

func (o instancesOnly) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	return o.s.GrantServiceCode(ctx, code, owner, grantee)
}

func (o instancesOnly) RevokeServiceCode(ctx context.Context, code string) error {
	return o.s.RevokeServiceCode(ctx, code)
}

// racePolicy is the default policy of ECS with room for every code and
// subject of a race test on one instance.
var racePolicy = func() icpverify.Policy {
	p := icpverify.DefaultPolicy(icpverify.ProductECS)
	p.CodeLimit, p.SubjectLimit = 10_000, 10_000
	return p
}()

// racesPerKind is the number of races of each kind (a revocation, a
// withdrawn grant) that TestRevocationRacesVerify runs per dialect and
// way of building the Verifier.
const racesPerKind = 150

// TestRevocationRacesVerify races Verify with the revocation of its code,
// and a grantee's Verify with the withdrawal of the grant, each time on a
// fresh code, both calls let go at once. Whichever wins, once both have
// returned the code must hold no unfiled reservation: Verify confirms a
// new reservation by reading the code again, and the revoker and the
// withdrawal read the code's reservation after writing the code, so one
// of the two sees the other.
//
// It runs with one store passed twice (the store's one-call lookup and
// reservation) and with the store behind a separate InstanceStore value
// (the plain reads and Reserve), on every dialect configured, and on a
// Galera cluster with the racing calls on different nodes.
func TestRevocationRacesVerify(t *testing.T) {
	for _, d := range append(slices.Clone(dialects), 0) {
		name := "galera"
		if d != 0 {
			name = d.String()
		}
		t.Run(name, func(t *testing.T) {
			var db *database
			if d == 0 {
				db = newGaleraDatabase(t)
			} else {
				db = newDatabase(t, d)
			}
			// The Verify side and the revoking side: on Galera, on
			// different nodes; elsewhere, one store.
			sv := db.store(t)
			sr := sv
			if d == 0 {
				sr = db.store(t)
			}
			for _, two := range []bool{false, true} {
				mode := "one store"
				if two {
					mode = "two stores"
				}
				t.Run(mode, func(t *testing.T) {
					build := func(s *sqlstore.Store) *icpverify.Verifier {
						opt := icpverify.WithPolicy(icpverify.ProductECS, racePolicy)
						if two {
							return icpverify.New(instancesOnly{s}, s, opt)
						}
						return icpverify.New(s, s, opt)
					}
					runRevocationRaces(t, sv, build(sv), build(sr))
				})
			}
		})
	}
}

// raceTally counts the outcomes of the races of one kind.
type raceTally struct {
	passed, refused int // Verify's answers
	leaked          []string
}

// runRevocationRaces runs racesPerKind races of each kind: vv verifies,
// vr revokes or withdraws the grant; s seeds the instance and reads the
// reservations after each race.
func runRevocationRaces(t *testing.T, s *sqlstore.Store, vv, vr *icpverify.Verifier) {
	ctx := context.Background()
	tag := randomName("")
	owner, grantee := "owner-"+tag, "grantee-"+tag
	inst := "i-race-" + tag
	if err := s.PutInstanceContext(ctx, eligible(inst, owner)); err != nil {
		t.Fatalf("PutInstance: %v", err)
	}
	issue := func() string {
		t.Helper()
		code, err := vr.IssueServiceCode(ctx, inst, owner)
		if err != nil {
			t.Fatalf("IssueServiceCode: %v", err)
		}
		return code
	}

	// spread is how long a Verify takes here: the racing calls are let
	// go up to that long apart, either way, so that each wins often.
	var took []time.Duration
	for i := range 5 {
		req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: issue(), Account: owner,
			Subject: fmt.Sprintf("warm-up %s %d", tag, i), SubjectID: certOf(fmt.Sprintf("warm-up %s %d", tag, i))}
		start := time.Now()
		if _, err := vv.Verify(ctx, req); err != nil {
			t.Fatalf("Verify (warm-up): %v", err)
		}
		took = append(took, time.Since(start))
		if err := vr.RevokeServiceCode(ctx, req.ServiceCode); err != nil {
			t.Fatalf("RevokeServiceCode (warm-up): %v", err)
		}
	}
	slices.Sort(took)
	spread := took[len(took)/2]

	began := time.Now()
	for _, grant := range []bool{false, true} {
		var tally raceTally
		for i := range racesPerKind {
			code := issue()
			applicant := owner
			if grant {
				if err := vr.GrantServiceCode(ctx, code, owner, grantee); err != nil {
					t.Fatalf("GrantServiceCode: %v", err)
				}
				applicant = grantee
			}
			req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: applicant,
				Subject: fmt.Sprintf("subject %s %v %d", tag, grant, i), SubjectID: certOf(fmt.Sprintf("subject %s %v %d", tag, grant, i))}
			delay := time.Duration(rand.Int64N(int64(spread) + 1))
			verifyLater := rand.IntN(2) == 0
			var verr, rerr error
			gate := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				<-gate
				if verifyLater {
					pause(delay)
				}
				_, verr = vv.Verify(ctx, req)
			})
			wg.Go(func() {
				<-gate
				if !verifyLater {
					pause(delay)
				}
				if grant {
					rerr = vr.GrantServiceCode(ctx, code, owner, "")
				} else {
					rerr = vr.RevokeServiceCode(ctx, code)
				}
			})
			close(gate)
			wg.Wait()

			switch {
			case verr == nil:
				tally.passed++
			case errors.Is(verr, icpverify.ErrServiceCodeInvalid):
				tally.refused++
			default:
				t.Errorf("race %d: Verify returned a failure, neither a pass nor a refusal: %v", i, verr)
			}
			if rerr != nil {
				t.Errorf("race %d: revoking or withdrawing the grant: %v", i, rerr)
			}
			r, err := s.Reservation(ctx, code)
			switch {
			case errors.Is(err, icpverify.ErrNotFound):
			case err != nil:
				t.Errorf("race %d: Reservation: %v", i, err)
			case !r.Filed:
				tally.leaked = append(tally.leaked, fmt.Sprintf("%s for %s (Verify %s)",
					codeformat.Mask(nil, code), r.Account, outcomeOf(verr)))
			}
		}
		kind := "revocation"
		if grant {
			kind = "withdrawn grant"
		}
		t.Logf("%s: of %d races, Verify passed before it in %d and was refused in %d; %d left an unfiled reservation",
			kind, racesPerKind, tally.passed, tally.refused, len(tally.leaked))
		if n := len(tally.leaked); n > 0 {
			t.Errorf("%s: %d of %d races left an unfiled reservation on a code its applicant may no longer use, e.g. %v",
				kind, n, racesPerKind, tally.leaked[:min(n, 3)])
		}
	}
	t.Logf("%d races in %v; calls let go up to %v apart", 2*racesPerKind, time.Since(began).Round(time.Millisecond), spread)
}

// pause waits about d, yielding first.
func pause(d time.Duration) {
	runtime.Gosched()
	if d <= 0 {
		return
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		runtime.Gosched()
	}
}

// outcomeOf describes what Verify returned.
func outcomeOf(err error) string {
	if err == nil {
		return "passed"
	}
	return "refused: " + err.Error()
}
