package icpverify

import (
	"context"
	"errors"
	"testing"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookQuotas is a MemoryStore as a QuotaStore of its own, whose next
// Reserve first runs a change: the change lands after Verify read the code
// and before its reservation.
type hookQuotas struct {
	MemoryStore
	before func()
}

func (s *hookQuotas) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.MemoryStore.Reserve(ctx, r, limit)
}

// racyReserver is a MemoryStore that is a CodeReserver, as a SQL store is,
// whose next ReserveServiceCode runs a change between reading the code
// and reserving it: what a store that reads without a lock may do.
type racyReserver struct {
	MemoryStore
	before func()
}

func (s *racyReserver) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	before := s.before
	s.before = nil
	return reserveAsRead(ctx, s.MemoryStore, r, limit, g, false, before)
}

// TestChangeRacingVerifyLeavesNothingBound pins the interleaving of a
// revocation, a withdrawn grant or a changed instance with a Verify: the
// change lands after Verify read the code and before it reserved it. Once
// both have returned, no reservation is left, on two stores and on one
// store that reserves in the call that reads.
func TestChangeRacingVerifyLeavesNothingBound(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name      string
		applicant string
		change    func(f *fixture, v *Verifier, code string) error
	}{
		{"revocation", "owner", func(_ *fixture, v *Verifier, code string) error {
			return v.RevokeServiceCode(ctx, code)
		}},
		{"grant withdrawn", "agency", func(_ *fixture, v *Verifier, code string) error {
			return v.GrantServiceCode(ctx, code, "owner", "")
		}},
		{"instance changes hands", "owner", func(f *fixture, v *Verifier, _ string) error {
			f.put(ecs("i-1", "new owner"))
			_, err := v.ReconcileInstance(ctx, "i-1")
			return err
		}},
		{"instance stopped", "owner", func(f *fixture, v *Verifier, _ string) error {
			inst := ecs("i-1", "owner")
			inst.Status = Stopped
			f.put(inst)
			_, err := v.ReconcileInstance(ctx, "i-1")
			return err
		}},
	}
	stores := map[string]func(f *fixture, before func()) *Verifier{
		"two stores": func(f *fixture, before func()) *Verifier {
			return New(f.store, &hookQuotas{f.store, before}, WithClock(f.clock.Now))
		},
		"one store that reserves as it reads": func(f *fixture, before func()) *Verifier {
			s := &racyReserver{f.store, before}
			return New(s, s, WithClock(f.clock.Now))
		},
	}
	for name, newVerifier := range stores {
		for _, tt := range changes {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "owner")
				require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency"))
				var v *Verifier
				var changed error
				v = newVerifier(f, func() { changed = tt.change(f, v, code) })
				_, err := v.Verify(ctx, request(code, tt.applicant, "S"))
				require.NoError(t, changed)
				var e *Error
				require.ErrorAs(t, err, &e, "the change came first: Verify is refused")
				_, err = f.store.Reservation(ctx, code)
				require.ErrorIs(t, err, ErrNotFound, "no reservation is left")
				assert.Zero(t, f.used("i-1"), "and no slot")
			})
		}
	}
}

// TestRevokedCodeRaceAudit: the reservation Verify made and released
// again, once it saw the revocation, has its Decision.
func TestRevokedCodeRaceAudit(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "owner")
	var v *Verifier
	v = New(f.store, &hookQuotas{f.store, func() { require.NoError(t, v.RevokeServiceCode(ctx, code)) }},
		WithClock(f.clock.Now), WithObserver(c.observer()))
	_, err := v.Verify(ctx, request(code, "owner", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeRevoked)
	ds := c.all()
	require.Len(t, ds, 3)
	assert.Equal(t, OpRevoke, ds[0].Op, "the revocation found nothing to release")
	assert.Empty(t, ds[0].Holder)
	rel := ds[1]
	assert.Equal(t, OpRelease, rel.Op)
	assert.Equal(t, Passed, rel.Verdict)
	assert.Equal(t, ReasonCodeRevoked, rel.Cause)
	assert.Equal(t, "owner", rel.Account, "the applicant's Verify acted")
	assert.Equal(t, "owner", rel.Holder)
	assert.NotEmpty(t, rel.Application)
	assert.Equal(t, codeformat.Mask(nil, code), rel.code)
	assert.Equal(t, OpVerify, ds[2].Op)
	assert.Equal(t, Refused, ds[2].Verdict)
}

func TestReconcileInstance(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		change   func(inst *Instance) // nil: the inventory forgets the instance
		released int
		cause    Reason
	}{
		{"unchanged", func(*Instance) {}, 0, ""},
		{"renewed", func(inst *Instance) { inst.ExpiresAt = inst.ExpiresAt.AddDate(1, 0, 0) }, 0, ""},
		{"changes hands", func(inst *Instance) { inst.Account = "new owner" }, 2, ReasonCodeNotOwned},
		{"stopped", func(inst *Instance) { inst.Status = Stopped }, 2, ReasonInstanceStopped},
		{"released", func(inst *Instance) { inst.Status = Released }, 2, ReasonInstanceReleased},
		{"expired", func(inst *Instance) { inst.ExpiresAt = t0.Add(-1) }, 2, ReasonInstanceExpired},
		{"public IP removed", func(inst *Instance) { inst.PublicIP = "" }, 2, ReasonPublicIPRemoved},
		{"forgotten", nil, 2, ReasonInstanceReleased},
	} {
		for _, lookup := range []bool{true, false} {
			name := tt.name
			if !lookup {
				name += "/two stores"
			}
			t.Run(name, func(t *testing.T) {
				c := &collector{}
				f := newFixture(t, WithObserver(c.observer()))
				var quotas QuotaStore = f.store
				if !lookup {
					quotas = plainQuotas{f.store}
				}
				f.v = New(f.store, quotas, WithClock(f.clock.Now), WithObserver(c.observer()))
				owned := f.instanceWithCodeOn("i-1", "owner")
				granted := f.issue("i-1", "owner")
				filed := f.issue("i-1", "owner")
				require.NoError(t, f.v.GrantServiceCode(ctx, granted, "owner", "agency"))
				for _, r := range []Request{request(owned, "owner", "S"), request(granted, "agency", "T"), request(filed, "owner", "U")} {
					_, err := f.v.Verify(ctx, r)
					require.NoError(t, err)
				}
				require.NoError(t, f.v.Complete(ctx, f.app(filed)))
				inst := ecs("i-1", "owner")
				if tt.change != nil {
					tt.change(&inst)
					f.put(inst)
				} else {
					inst = Instance{}
					f.v = New(forgetfulLister{forgetful{f.store}}, quotas, WithClock(f.clock.Now), WithObserver(c.observer()))
				}
				before := len(c.all())

				n, err := f.v.ReconcileInstance(ctx, "i-1")
				require.NoError(t, err)
				assert.Equal(t, tt.released, n)
				assert.Equal(t, 3-tt.released, f.used("i-1"))
				r, err := f.store.Reservation(ctx, filed)
				require.NoError(t, err, "a filed reservation stays")
				assert.True(t, r.Filed)

				ds := c.all()[before:]
				require.Len(t, ds, tt.released+1, "a Decision for each release and one for the call")
				for _, d := range ds[:tt.released] {
					assert.Equal(t, OpRelease, d.Op)
					assert.Equal(t, tt.cause, d.Cause)
					assert.Empty(t, d.Account, "the provider acted")
					assert.NotEmpty(t, d.Holder)
					assert.NotEmpty(t, d.Application)
				}
				assert.Equal(t, Decision{Op: OpReconcile, Time: t0, Instance: "i-1", Product: inst.Product, Verdict: Passed},
					ds[tt.released])

				n, err = f.v.ReconcileInstance(ctx, "i-1")
				require.NoError(t, err)
				assert.Zero(t, n, "reconciling twice releases nothing more")
			})
		}
	}
}

// instanceWithCodeOn is instanceWithCode through the fixture's Verifier,
// whatever its stores.
func (f *fixture) instanceWithCodeOn(id, account string) string {
	f.t.Helper()
	f.put(ecs(id, account))
	return f.issue(id, account)
}

// forgetfulLister is a forgetful inventory that still lists codes, as an
// inventory keeping the codes of a forgotten instance does.
type forgetfulLister struct{ forgetful }

func (s forgetfulLister) ListServiceCodes(ctx context.Context, instance string, limit int) ([]ServiceCode, error) {
	return s.MemoryStore.ListServiceCodes(ctx, instance, limit)
}

func TestReconcileInstanceBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, id := range []string{"", "\xff", string(make([]byte, maxField+1))} {
		_, err := f.v.ReconcileInstance(ctx, id)
		requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
	}
	n, err := f.v.ReconcileInstance(ctx, "no such instance")
	require.NoError(t, err)
	assert.Zero(t, n)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.v.ReconcileInstance(cancelled, "i-1")
	require.ErrorIs(t, err, context.Canceled)
	v := New(plainInstances{f.store}, f.store)
	_, err = v.ReconcileInstance(ctx, "i-1")
	require.ErrorIs(t, err, errors.ErrUnsupported)
}

// TestGrantWithdrawalAudit: a grant withdrawal is recorded as such, with
// the grant withdrawn, and the reservation it releases has its own
// Decision.
func TestGrantWithdrawalAudit(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	code := f.instanceWithCode("i-1", "owner")
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency"))
	res, err := f.v.Verify(ctx, request(code, "agency", "S"))
	require.NoError(t, err)
	before := len(c.all())
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", ""))
	ds := c.all()[before:]
	require.Len(t, ds, 2)
	masked := codeformat.Mask(nil, code)
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Account: "owner", Holder: "agency", Subject: "S",
		Application: res.Application, Instance: "i-1", code: masked, Verdict: Passed, Cause: ReasonCodeNotOwned}, ds[0])
	assert.Equal(t, Decision{Op: OpUngrant, Time: t0, Account: "owner", Grantee: "agency", Instance: "i-1",
		code: masked, Verdict: Passed}, ds[1])
}

func TestExpiringIsObserved(t *testing.T) {
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	_, err := f.v.Expiring(context.Background(), "a", 0)
	require.NoError(t, err)
	assert.Equal(t, []Decision{{Op: OpExpiring, Time: t0, Account: "a", Verdict: Passed}}, c.all())
}

// countingStore is a MemoryStore that records the store calls the
// Verifier makes, by method name.
type countingStore struct {
	MemoryStore
	calls []string
}

func (s *countingStore) note(name string) { s.calls = append(s.calls, name) }

func (s *countingStore) Instance(ctx context.Context, id string) (Instance, error) {
	s.note("Instance")
	return s.MemoryStore.Instance(ctx, id)
}

func (s *countingStore) ServiceCode(ctx context.Context, code string) (ServiceCode, error) {
	s.note("ServiceCode")
	return s.MemoryStore.ServiceCode(ctx, code)
}

func (s *countingStore) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	s.note("LookupServiceCode")
	return s.MemoryStore.LookupServiceCode(ctx, code)
}

func (s *countingStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	s.note("Reserve")
	return s.MemoryStore.Reserve(ctx, r, limit)
}

func (s *countingStore) Reservation(ctx context.Context, code string) (Reservation, error) {
	s.note("Reservation")
	return s.MemoryStore.Reservation(ctx, code)
}

func (s *countingStore) Usage(ctx context.Context, instance, key string) (int, bool, error) {
	s.note("Usage")
	return s.MemoryStore.Usage(ctx, instance, key)
}

func (s *countingStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	s.note("ReserveServiceCode")
	return reserveAsRead(ctx, s, r, limit, g, false, nil)
}

// TestStrangerMakesTheSameCalls: a stranger's Verify and Check make the
// same store calls for a code that does not exist and for another
// account's code, on every kind of store, so that how long a refusal takes
// tells nothing.
func TestStrangerMakesTheSameCalls(t *testing.T) {
	ctx := context.Background()
	setups := map[string]func(s *countingStore) *Verifier{
		"one store":  func(s *countingStore) *Verifier { return New(s, s) },
		"two stores": func(s *countingStore) *Verifier { return New(s, plainQuotas{s}) },
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "owner")
			s := &countingStore{MemoryStore: f.store}
			v := setup(s)
			for _, call := range []func(context.Context, Request) (Result, error){v.Verify, v.Check} {
				var seen [][]string
				for _, c := range []string{mustCode(t), code} {
					s.calls = nil
					_, err := call(ctx, request(c, "stranger", "S"))
					requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
					seen = append(seen, s.calls)
				}
				assert.NotEmpty(t, seen[0])
				assert.Equal(t, seen[0], seen[1], "the same calls for an absent code and another's")
			}
		})
	}
}

// TestApplicationIdentities: identities never repeat, within a Verifier
// or across two, have the documented form, and fail with the random
// source.
func TestApplicationIdentities(t *testing.T) {
	seen := make(map[string]bool)
	for _, v := range []*Verifier{New(NewMemoryStore(), NewMemoryStore()), New(NewMemoryStore(), NewMemoryStore())} {
		for range 50000 {
			id, err := v.newApplication()
			require.NoError(t, err)
			require.Regexp(t, "^[0-9a-f]{32}$", id)
			require.True(t, validApplication(id))
			require.False(t, seen[id], "identity %s drawn twice", id)
			seen[id] = true
		}
	}
	v := New(NewMemoryStore(), NewMemoryStore())
	v.rand = draws()
	_, err := v.newApplication()
	require.Error(t, err)
}

// TestRacerHeldReservationIsTheRetrys pins a Verify whose one-call
// reservation finds, between its read and its write, the same application
// reserved by a racer: the store answers Held, and the Result names the
// racer's application, whose reservation stands, not the identity the
// Verify drew and never stored.
func TestRacerHeldReservationIsTheRetrys(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "owner")
	req := request(code, "owner", "S")
	s := &racyReserver{MemoryStore: f.store}
	v := New(s, s, WithClock(f.clock.Now))
	var racer Result
	s.before = func() {
		var err error
		racer, err = v.Verify(ctx, req)
		require.NoError(t, err)
	}
	res, err := v.Verify(ctx, req)
	require.NoError(t, err)
	assert.False(t, racer.Retry)
	assert.True(t, res.Retry, "the racer reserved it first")
	assert.Equal(t, racer.Application, res.Application)
	assert.Equal(t, 1, res.Used)
	r, err := f.store.Reservation(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, racer.Application, r.Application)
}
