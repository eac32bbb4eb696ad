package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/storetest"
)

// The suite is checked by running it against stores broken on purpose, each
// in a child process (a failing subtest cannot be observed from the same
// test binary), and checking which subtests fail, pass or skip.

// base is a MemoryStore, which is a storetest.Store, listers included.
type base struct{ icpverify.MemoryStore }

func newBase() base { return base{icpverify.NewMemoryStore()} }

// Broken stores.
type (
	ignoresContext     struct{ base }
	plainNotFound      struct{ base }
	zeroTimeNotZero    struct{ base }
	heldAsReserved     struct{ base }
	duplicateNotExists struct{ base }
	completeTwiceFails struct{ base }
	releaseReturnsZero struct{ base }
	listsNoExpiry      struct{ base }
	usageNeverHeld     struct{ base }
	slotsByName        struct{ base }
	releasesAnyone     struct{ base }
	releasesByContent  struct{ base }
	heldOverwritesApp  struct{ base }
	revokeIgnored      struct{ base }
	codesNeverRevoked  struct{ base }
	codesUnordered     struct{ base }
	guardIgnored       struct{ reserver }
	reservesReserved   struct{ reserver }
)

// reserver is a MemoryStore that is a CodeReserver too: it looks a code up,
// then reserves it if the guard holds.
type reserver struct{ base }

func (s reserver) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	return lookThenReserve(ctx, s.base, r, limit, func(rec icpverify.CodeRecord) bool {
		return g.Allows(r.Account, rec.Code, rec.Instance)
	})
}

// guardIgnored reserves a code whatever the guard.
func (s guardIgnored) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, _ icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	return lookThenReserve(ctx, s.base, r, limit, func(icpverify.CodeRecord) bool { return true })
}

// lookThenReserve looks r's code up in s and, if it has no reservation and
// allow says so, reserves it with s.Reserve.
func lookThenReserve(ctx context.Context, s icpverify.CodeReserver, r icpverify.Reservation, limit int, allow func(icpverify.CodeRecord) bool) (icpverify.CodeRecord, icpverify.Outcome, error) {
	rec, err := s.LookupServiceCode(ctx, r.Code)
	if err != nil || rec.Reservation.Code != "" || !allow(rec) {
		return rec, 0, err
	}
	r.Instance = rec.Code.Instance
	got, used, err := s.Reserve(ctx, r, limit)
	rec.Used = used
	return rec, got, err
}

// reservesReserved calls Reserve for a code reserved already, and reports
// what it says.
func (s reservesReserved) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	rec, got, err := s.reserver.ReserveServiceCode(ctx, r, limit, g)
	if err == nil && got == 0 && rec.Reservation.Code != "" {
		r.Instance = rec.Code.Instance
		got, rec.Used, err = s.Reserve(ctx, r, limit)
	}
	return rec, got, err
}

// codesNeverRevoked lists revoked codes as valid.
func (s codesNeverRevoked) ListServiceCodes(ctx context.Context, instance string, limit int) ([]icpverify.ServiceCode, error) {
	list, err := s.base.ListServiceCodes(ctx, instance, limit)
	for i := range list {
		list[i].Revoked = false
	}
	return list, err
}

// codesUnordered lists codes last issued first, and cuts the list at limit
// after reading them in that order.
func (s codesUnordered) ListServiceCodes(ctx context.Context, instance string, limit int) ([]icpverify.ServiceCode, error) {
	list, err := s.base.ListServiceCodes(ctx, instance, 1000)
	slices.Reverse(list)
	return list[:min(len(list), max(limit, 0))], err
}

// slotsByName keeps slots by the subject's display name, not its key.
func (s slotsByName) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	r.SubjectKey = r.Subject
	return s.base.Reserve(ctx, r, limit)
}

// releasesAnyone releases a code's reservation whoever it is for.
func (s releasesAnyone) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil {
		r = old
	}
	return s.base.Release(ctx, r)
}

// releasesByContent releases a code's reservation for the same account,
// subject key and website (the same application), whatever
// its Application: the rule before applications had an identity.
func (s releasesByContent) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil && old.Account == r.Account && old.SubjectKey == r.SubjectKey && old.Website == r.Website {
		r.Application = old.Application
	}
	return s.base.Release(ctx, r)
}

// heldOverwritesApp answers a retry Held, as it should, but stores the
// retry's Application in the reservation it holds: it releases the
// reservation and reserves it again, unchanged but for its Application.
func (s heldOverwritesApp) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	o, used, err := s.base.Reserve(ctx, r, limit)
	if err != nil || o != icpverify.Held {
		return o, used, err
	}
	old, err := s.base.Reservation(ctx, r.Code)
	if err != nil || old.Application == r.Application {
		return o, used, err
	}
	if _, err := s.base.Release(ctx, old); err != nil {
		return 0, 0, err
	}
	old.Application = r.Application
	if _, _, err := s.base.Reserve(ctx, old, math.MaxInt); err != nil {
		return 0, 0, err
	}
	return o, used, nil
}

// revokeIgnored does not revoke.
func (s revokeIgnored) RevokeServiceCode(ctx context.Context, code string) error {
	_, err := s.base.ServiceCode(ctx, code)
	return err
}

func (s ignoresContext) Usage(_ context.Context, instance, subject string) (int, bool, error) {
	return s.base.Usage(context.Background(), instance, subject)
}

func (s plainNotFound) Reservation(ctx context.Context, code string) (icpverify.Reservation, error) {
	r, err := s.base.Reservation(ctx, code)
	if errors.Is(err, icpverify.ErrNotFound) {
		err = errors.New("no such reservation")
	}
	return r, err
}

func (s zeroTimeNotZero) Instance(ctx context.Context, id string) (icpverify.Instance, error) {
	inst, err := s.base.Instance(ctx, id)
	if err == nil && inst.ExpiresAt.IsZero() {
		inst.ExpiresAt = time.Unix(0, 0)
	}
	return inst, err
}

func (s heldAsReserved) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	o, used, err := s.base.Reserve(ctx, r, limit)
	if o == icpverify.Held {
		o = icpverify.Reserved
	}
	return o, used, err
}

func (s duplicateNotExists) AddServiceCode(ctx context.Context, sc icpverify.ServiceCode, limit int) (int, bool, error) {
	issued, added, err := s.base.AddServiceCode(ctx, sc, limit)
	if err != nil {
		err = fmt.Errorf("adding code: %v", err) // loses the sentinel
	}
	return issued, added, err
}

func (s completeTwiceFails) Complete(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil && old.Filed {
		return icpverify.Reservation{}, errors.New("already filed")
	}
	return s.base.Complete(ctx, r)
}

func (s releaseReturnsZero) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	_, err := s.base.Release(ctx, r)
	return icpverify.Reservation{}, err
}

// listsNoExpiry lists instances without their end of term.
func (s listsNoExpiry) ListInstances(ctx context.Context, account string, limit int) ([]icpverify.Instance, error) {
	list, err := s.base.ListInstances(ctx, account, limit)
	for i := range list {
		list[i].ExpiresAt = time.Time{}
	}
	return list, err
}

func (s usageNeverHeld) Usage(ctx context.Context, instance, subject string) (int, bool, error) {
	used, _, err := s.base.Usage(ctx, instance, subject)
	return used, false, err
}

// Stores that keep the contracts in ways the suite must accept.
type (
	// coarseTimes keeps times to the microsecond, in UTC.
	coarseTimes struct{ base }
	// noListers is no InstanceLister.
	noListers struct {
		storetest.Store
	}
)

func coarse(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Round(time.Microsecond).UTC()
}

func (s coarseTimes) PutInstanceContext(ctx context.Context, inst icpverify.Instance) error {
	inst.ExpiresAt = coarse(inst.ExpiresAt)
	return s.base.PutInstanceContext(ctx, inst)
}

func (s coarseTimes) AddServiceCode(ctx context.Context, sc icpverify.ServiceCode, limit int) (int, bool, error) {
	sc.IssuedAt = coarse(sc.IssuedAt)
	return s.base.AddServiceCode(ctx, sc, limit)
}

func (s coarseTimes) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	r.ReservedAt = coarse(r.ReservedAt)
	return s.base.Reserve(ctx, r, limit)
}

// mutant is a store and what the suite must say of it.
type mutant struct {
	name  string
	store func() storetest.Store
	fail  []string // subtests that must fail; none: the suite must pass
	skip  []string // subtests that must be skipped
}

var mutants = []mutant{
	{name: "IgnoresContext", store: func() storetest.Store { return ignoresContext{newBase()} },
		fail: []string{"Context/Cancelled"}},
	{name: "PlainNotFound", store: func() storetest.Store { return plainNotFound{newBase()} },
		fail: []string{"Reserve/NotFound", "Reserve/Full", "Release/FreesSlot", "Complete/NotFound"}},
	{name: "ZeroTimeNotZero", store: func() storetest.Store { return zeroTimeNotZero{newBase()} },
		fail: []string{"Instance/RoundTrip", "Instance/Replace"}},
	{name: "HeldAsReserved", store: func() storetest.Store { return heldAsReserved{newBase()} },
		fail: []string{"Reserve/Retry", "Reserve/RetryConcurrent"}},
	{name: "DuplicateNotExists", store: func() storetest.Store { return duplicateNotExists{newBase()} },
		fail: []string{"ServiceCode/Duplicate", "ServiceCode/UniquePerStore", "ServiceCode/NotFound"}},
	{name: "CompleteTwiceFails", store: func() storetest.Store { return completeTwiceFails{newBase()} },
		fail: []string{"Complete/Filed"}},
	{name: "ReleaseReturnsZero", store: func() storetest.Store { return releaseReturnsZero{newBase()} },
		fail: []string{"Release/FreesSlot", "Release/Concurrent", "Release/Filed"}},
	{name: "ListsNoExpiry", store: func() storetest.Store { return listsNoExpiry{newBase()} },
		fail: []string{"ListInstances/Account"}},
	{name: "UsageNeverHeld", store: func() storetest.Store { return usageNeverHeld{newBase()} },
		fail: []string{"Reserve/Retry", "Release/SharedSlot", "Complete/Filed"}},
	{name: "SlotsByName", store: func() storetest.Store { return slotsByName{newBase()} },
		fail: []string{"Reserve/SubjectKey"}},
	{name: "ReleasesAnyone", store: func() storetest.Store { return releasesAnyone{newBase()} },
		fail: []string{"Release/OtherApplication"}},
	{name: "ReleasesByContent", store: func() storetest.Store { return releasesByContent{newBase()} },
		fail: []string{"Release/OtherApplication"}},
	{name: "HeldOverwritesApp", store: func() storetest.Store { return heldOverwritesApp{newBase()} },
		fail: []string{"Reserve/Retry"}},
	{name: "RevokeIgnored", store: func() storetest.Store { return revokeIgnored{newBase()} },
		fail: []string{"ServiceCode/Revoke"}},
	{name: "CodesNeverRevoked", store: func() storetest.Store { return codesNeverRevoked{newBase()} },
		fail: []string{"ListServiceCodes/RoundTrip"}},
	{name: "CodesUnordered", store: func() storetest.Store { return codesUnordered{newBase()} },
		fail: []string{"ListServiceCodes/RoundTrip", "ListServiceCodes/Limit"}},
	{name: "GuardIgnored", store: func() storetest.Store { return guardIgnored{reserver{newBase()}} },
		fail: []string{"ReserveServiceCode/Guard"}},
	{name: "ReservesReserved", store: func() storetest.Store { return reservesReserved{reserver{newBase()}} },
		fail: []string{"ReserveServiceCode/Reserved"}},
	{name: "IgnoresQuotas", store: func() storetest.Store { return ignoresQuotas{newBase()} },
		fail: []string{"Quota/Takes", "Quota/Exceeded", "Quota/Order", "Quota/LastPlaceConcurrent", "Deregister/Filed"}},
	{name: "LastFullQuota", store: func() storetest.Store { return lastFullQuota{newBase()} },
		fail: []string{"Quota/Exceeded"}},
	{name: "ExceededReportsUsage", store: func() storetest.Store { return exceededReportsUsage{newBase()} },
		fail: []string{"Quota/Exceeded", "Quota/LastPlaceConcurrent"}},
	{name: "ExceededLeaksPlaces", store: func() storetest.Store { return exceededLeaksPlaces{newBase()} },
		fail: []string{"Quota/Exceeded", "Quota/LastPlaceConcurrent"}},
	{name: "ExceededStores", store: func() storetest.Store { return exceededStores{newBase()} },
		fail: []string{"Quota/Exceeded"}},
	{name: "MemberPerCode", store: func() storetest.Store { return memberPerCode{newBase()} },
		fail: []string{"Quota/SameMember", "Quota/SameMemberConcurrent"}},
	{name: "CodeIgnoresQuotas", store: func() storetest.Store { return codeIgnoresQuotas{reserver{newBase()}} },
		fail: []string{"Quota/ReserveServiceCode", "Quota/ReserveServiceCodeConcurrent"}},
	{name: "DeregisterKeepsSlot", store: func() storetest.Store { return deregisterKeepsSlot{newBase()} },
		fail: []string{"Deregister/Filed"}},
	{name: "DeregisterDeletes", store: func() storetest.Store { return deregisterDeletes{newBase()} },
		fail: []string{"Deregister/Filed"}},
	{name: "ForgetsDeregistered", store: func() storetest.Store { return forgetsDeregistered{newBase()} },
		fail: []string{"Deregister/Filed"}},
	{name: "DeregistersUnfiled", store: func() storetest.Store { return deregistersUnfiled{newBase()} },
		fail: []string{"Deregister/Unfiled"}},
	{name: "DeregistersAnyone", store: func() storetest.Store { return deregistersAnyone{newBase()} },
		fail: []string{"Deregister/NotFound"}},
	{name: "PlacesCountsNoMember", store: func() storetest.Store { return placesCountsNoMember{newBase()} },
		fail: []string{"Quota/Takes", "Quota/SameMember", "Quota/Release", "Quota/Complete", "Quota/SameMemberConcurrent"}},
	{name: "DeregisterIgnoresContext", store: func() storetest.Store { return deregisterIgnoresContext{newBase()} },
		fail: []string{"Context/Cancelled"}},
	{name: "QuotasFirst", store: func() storetest.Store { return newPlaceKeeper(quotasFirst) },
		fail: []string{"Quota/Order"}},
	{name: "RacyReserve", store: func() storetest.Store { return newPlaceKeeper(racyReserve) },
		fail: []string{"Quota/LastPlaceConcurrent", "Quota/ReserveServiceCodeConcurrent"}},
	{name: "ReleaseKeepsPlaces", store: func() storetest.Store { return newPlaceKeeper(releaseKeepsPlaces) },
		fail: []string{"Quota/Release", "Quota/SameMember"}},
	{name: "UntilFiledAtDeregister", store: func() storetest.Store { return newPlaceKeeper(untilFiledAtDeregister) },
		fail: []string{"Quota/Complete", "Deregister/Filed"}},
	{name: "CompleteFreesAgain", store: func() storetest.Store { return newPlaceKeeper(completeFreesAgain) },
		fail: []string{"Quota/Complete"}},
	{name: "DeregisterKeepsPlaces", store: func() storetest.Store { return newPlaceKeeper(deregisterKeepsPlaces) },
		fail: []string{"Deregister/Filed"}},
	{name: "DeregisterFreesAgain", store: func() storetest.Store { return newPlaceKeeper(deregisterFreesAgain) },
		fail: []string{"Deregister/SharedConcurrent"}},
	{name: "RacyDeregister", store: func() storetest.Store { return newPlaceKeeper(racyDeregister) },
		fail: []string{"Deregister/SharedConcurrent"}},
	{name: "Reserver", store: func() storetest.Store { return reserver{newBase()} }},
	{name: "PlaceKeeper", store: func() storetest.Store { return newPlaceKeeper(keepsContract) }},
	{name: "CoarseTimes", store: func() storetest.Store { return coarseTimes{newBase()} }},
	{name: "NoListers", store: func() storetest.Store { return noListers{newBase()} },
		skip: []string{"ListInstances/Account", "ListServiceCodes/RoundTrip", "ListServiceCodes/Cancelled"}},
}

const mutantEnv = "STORETEST_MUTANT"

// TestMutant runs the suite against the store named by $STORETEST_MUTANT,
// in the child processes of TestSuiteJudgesStores.
func TestMutant(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteJudgesStores")
	}
	for _, m := range mutants {
		if m.name == name {
			storetest.Run(t, func(*testing.T) storetest.Store { return m.store() })
			return
		}
	}
	t.Fatalf("no mutant %q", name)
}

// TestSuiteJudgesStores checks that the suite fails broken stores where they
// break, and passes stores that keep the contracts in other ways.
func TestSuiteJudgesStores(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child process")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutant$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			output := string(out)
			if len(m.fail) == 0 && err != nil {
				t.Fatalf("the suite failed a store that keeps the contracts: %v\n%s", err, output)
			}
			if len(m.fail) > 0 && err == nil {
				t.Fatalf("the suite passed a broken store\n%s", output)
			}
			for _, name := range m.fail {
				if !strings.Contains(output, "--- FAIL: TestMutant/"+name+" ") {
					t.Errorf("subtest %s did not fail\n%s", name, output)
				}
			}
			for _, name := range m.skip {
				if !strings.Contains(output, "--- SKIP: TestMutant/"+name+" ") {
					t.Errorf("subtest %s was not skipped\n%s", name, output)
				}
			}
		})
	}
}

// ReserveServiceCode compares the guard's times as the store keeps times.
func (s coarseTimes) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	g.ExpiresAfter, g.IssuedAfter = coarse(g.ExpiresAfter), coarse(g.IssuedAfter)
	r.ReservedAt = coarse(r.ReservedAt)
	return s.base.ReserveServiceCode(ctx, r, limit, g)
}
