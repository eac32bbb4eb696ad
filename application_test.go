package icpverify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	t.Run("by the applicant", func(t *testing.T) {
		c := &collector{}
		f := newFixture(t, WithObserver(c.observer()))
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "a", "S"))
		require.NoError(t, err)
		app := f.app(code)
		require.NoError(t, f.v.Withdraw(ctx, app, "a"))
		assert.Zero(t, f.used("i-1"))
		ds := c.all()
		assert.Equal(t, Decision{Op: OpWithdraw, Time: t0, Account: "a", Holder: "a", Subject: "S", Application: app,
			Instance: "i-1", code: codeformat.Mask(nil, code), Verdict: Passed}, ds[len(ds)-1])
		err = f.v.Withdraw(ctx, app, "a")
		requireReason(t, err, ErrNotFound, ReasonNotReserved)
	})
	t.Run("by the owner, of a grantee's application", func(t *testing.T) {
		c := &collector{}
		f := newFixture(t, WithObserver(c.observer()))
		code := f.instanceWithCode("i-1", "owner")
		require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency"))
		_, err := f.v.Verify(ctx, request(code, "agency", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Withdraw(ctx, f.app(code), "owner"))
		assert.Zero(t, f.used("i-1"))
		d := c.all()[len(c.all())-1]
		assert.Equal(t, "owner", d.Account, "the account that acted")
		assert.Equal(t, "agency", d.Holder, "the account that held the reservation")
	})
	t.Run("by a stranger", func(t *testing.T) {
		c := &collector{}
		f := newFixture(t, WithObserver(c.observer()))
		code := f.instanceWithCode("i-1", "a")
		unreserved := f.issue("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "a", "S"))
		require.NoError(t, err)
		errNone := f.v.Withdraw(ctx, f.app(unreserved), "stranger")
		err = f.v.Withdraw(ctx, f.app(code), "stranger")
		e := requireReason(t, err, ErrNotFound, ReasonNotReserved)
		assert.Equal(t, errNone.Error(), e.Error(), "a stranger cannot tell a reserved code")
		assert.Equal(t, Localize(errNone, language.SimplifiedChinese), Localize(err, language.SimplifiedChinese))
		assert.Equal(t, 1, f.used("i-1"), "nothing changed")
		d := c.all()[len(c.all())-1]
		assert.Equal(t, ReasonNotReserved, d.Reason)
		assert.Equal(t, ReasonCodeNotOwned, d.Cause, "the Decision keeps the true cause")
		assert.Equal(t, "stranger", d.Account)
		assert.Equal(t, "a", d.Holder)
	})
	t.Run("by a former grantee or a former owner", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "owner")
		require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency"))
		_, err := f.v.Verify(ctx, request(code, "agency", "S"))
		require.NoError(t, err)
		f.put(ecs("i-1", "new owner")) // the instance changes hands
		requireReason(t, f.v.Withdraw(ctx, f.app(code), "agency"), ErrNotFound, ReasonNotReserved)
		requireReason(t, f.v.Withdraw(ctx, f.app(code), "owner"), ErrNotFound, ReasonNotReserved)
		assert.Equal(t, 1, f.used("i-1"))
		require.NoError(t, f.v.Withdraw(ctx, f.app(code), "new owner"))
		assert.Zero(t, f.used("i-1"))
	})
	t.Run("filed", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Complete(ctx, f.app(code)))
		requireReason(t, f.v.Withdraw(ctx, f.app(code), "a"), ErrServiceCodeInvalid, ReasonCodeUsed)
		assert.Equal(t, 1, f.used("i-1"))
	})
	t.Run("bad input", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "a", "S"))
		require.NoError(t, err)
		for _, app := range []string{"", code, "not valid", "\xff", strings.Repeat("a", 65)} {
			requireReason(t, f.v.Withdraw(ctx, app, "a"), ErrNotFound, ReasonNotReserved)
		}
		for _, account := range []string{"", "\xff", string(make([]byte, 1<<20))} {
			requireReason(t, f.v.Withdraw(ctx, f.app(code), account), ErrInvalidProduct, ReasonInvalidRequest)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, f.v.Withdraw(cancelled, f.app(code), "a"), context.Canceled)
		assert.Equal(t, 1, f.used("i-1"))
	})
}

func TestGrantWithdrawalReleasesTheGrantee(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "owner")
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency"))
	_, err := f.v.Verify(ctx, request(code, "agency", "S"))
	require.NoError(t, err)
	assert.Equal(t, 1, f.used("i-1"))

	require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", ""))
	assert.Zero(t, f.used("i-1"), "the former grantee's reservation is released")
	_, err = f.v.Verify(ctx, request(code, "agency", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)

	// The owner, typing the former grantee's subject, makes a reservation
	// of its own: it is no retry.
	res, err := f.v.Verify(ctx, request(code, "owner", "S"))
	require.NoError(t, err)
	assert.False(t, res.Retry)

	// Granting to another account releases nothing the owner holds.
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "owner", "agency 2"))
	assert.Equal(t, 1, f.used("i-1"))

	// A filed reservation of a former grantee stays.
	code2 := f.issue("i-1", "owner")
	require.NoError(t, f.v.GrantServiceCode(ctx, code2, "owner", "agency"))
	_, err = f.v.Verify(ctx, request(code2, "agency", "T"))
	require.NoError(t, err)
	require.NoError(t, f.v.Complete(ctx, f.app(code2)))
	require.NoError(t, f.v.GrantServiceCode(ctx, code2, "owner", ""))
	r, err := f.store.Reservation(ctx, code2)
	require.NoError(t, err)
	assert.True(t, r.Filed)
}

func TestGrantRechecksTheCode(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		break_ func(f *fixture, code string)
		reason Reason
	}{
		{"revoked", func(f *fixture, code string) { require.NoError(f.t, f.v.RevokeServiceCode(ctx, code)) }, ReasonCodeRevoked},
		{"expired", func(f *fixture, code string) { f.clock.Set(t0.AddDate(1, 0, 0)) }, ReasonInstanceExpired},
		{"released", func(f *fixture, code string) {
			inst := ecs("i-1", "a")
			inst.Status = Released
			f.put(inst)
		}, ReasonInstanceReleased},
		{"stopped", func(f *fixture, code string) {
			inst := ecs("i-1", "a")
			inst.Status = Stopped
			f.put(inst)
		}, ReasonInstanceStopped},
		{"no public IP", func(f *fixture, code string) {
			inst := ecs("i-1", "a")
			inst.PublicIP = ""
			f.put(inst)
		}, ReasonPublicIPRemoved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			require.NoError(t, f.v.GrantServiceCode(ctx, code, "a", "agency"))
			tt.break_(f, code)
			err := f.v.GrantServiceCode(ctx, code, "a", "agency 2")
			requireReason(t, err, ErrServiceCodeInvalid, tt.reason)
			sc, err := f.store.ServiceCode(ctx, code)
			require.NoError(t, err)
			assert.Equal(t, "agency", sc.Grantee, "the refused grant changed nothing")
			require.NoError(t, f.v.GrantServiceCode(ctx, code, "a", ""), "a grant can always be withdrawn")
		})
	}
}

func TestCodesFollowTheirInstance(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "old")
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "old", "agency"))
	f.put(ecs("i-1", "new")) // the instance changes hands

	for _, account := range []string{"old", "agency"} {
		_, err := f.v.Verify(ctx, request(code, account, "S"))
		requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	}
	requireReason(t, f.v.GrantServiceCode(ctx, code, "old", "x"), ErrServiceCodeInvalid, ReasonCodeNotFound)

	_, err := f.v.Verify(ctx, request(code, "new", "S"))
	require.NoError(t, err)
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "new", "agency"))
	assert.Equal(t, 1, f.used("i-1"), "granting keeps the owner's own reservation")
}

func TestRevokeServiceCode(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	code := f.instanceWithCode("i-1", "a")
	filed := f.issue("i-1", "a")
	_, err := f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	_, err = f.v.Verify(ctx, request(filed, "a", "T"))
	require.NoError(t, err)
	require.NoError(t, f.v.Complete(ctx, f.app(filed)))
	assert.Equal(t, 2, f.used("i-1"))

	app := f.app(code)
	require.NoError(t, f.v.RevokeServiceCode(ctx, code))
	assert.Equal(t, 1, f.used("i-1"), "the unfiled reservation is released")
	ds := c.all()
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Holder: "a", Subject: "S", Application: app, Instance: "i-1",
		code: codeformat.Mask(nil, code), Verdict: Passed, Cause: ReasonCodeRevoked}, ds[len(ds)-2], "the release has its own record")
	assert.Equal(t, Decision{Op: OpRevoke, Time: t0, Holder: "a", Subject: "S", Application: app, Instance: "i-1",
		code: codeformat.Mask(nil, code), Verdict: Passed}, ds[len(ds)-1])
	require.NoError(t, f.v.RevokeServiceCode(ctx, filed))
	assert.Equal(t, 1, f.used("i-1"), "a filed reservation stays")
	require.NoError(t, f.v.RevokeServiceCode(ctx, code), "revoking twice changes nothing")

	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeRevoked)
	requireReason(t, f.v.RevokeServiceCode(ctx, mustCode(t)), ErrServiceCodeInvalid, ReasonCodeNotFound)
	requireReason(t, f.v.RevokeServiceCode(ctx, "junk"), ErrServiceCodeInvalid, ReasonCodeMalformed)
}

func TestCompleteRefusesAnInvalidCode(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		break_ func(f *fixture)
		reason Reason
	}{
		{"expired", func(f *fixture) { f.clock.Set(t0.AddDate(1, 0, 0)) }, ReasonInstanceExpired},
		{"released", func(f *fixture) { forget(f, "i-1") }, ReasonInstanceReleased},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			_, err := f.v.Verify(ctx, request(code, "a", "S"))
			require.NoError(t, err)
			tt.break_(f)
			requireReason(t, f.v.Complete(ctx, f.app(code)), ErrServiceCodeInvalid, tt.reason)
			r, err := f.store.Reservation(ctx, code)
			require.NoError(t, err)
			assert.False(t, r.Filed)
		})
	}
}

func TestPolicyMinRemainingAndCodeTTL(t *testing.T) {
	ctx := context.Background()
	pol := DefaultPolicy(ProductECS)
	pol.MinRemaining = 30 * 24 * time.Hour
	pol.CodeTTL = 365 * 24 * time.Hour
	f := newFixture(t, WithPolicy(ProductECS, pol))
	code := f.instanceWithCode("i-1", "a") // expires at t0 + 1 year
	_, err := f.v.Check(ctx, request(code, "a", "S"))
	require.NoError(t, err)

	f.clock.Set(t0.AddDate(1, 0, -30).Add(time.Second)) // 30 days less a second left
	_, err = f.v.Check(ctx, request(code, "a", "S"))
	e := requireReason(t, err, ErrServiceCodeInvalid, ReasonRemainingTooShort)
	assert.True(t, e.ExpiresAt.Equal(t0.AddDate(1, 0, 0)))

	// A renewed instance, with a code past its lifetime.
	inst := ecs("i-1", "a")
	inst.ExpiresAt = t0.AddDate(3, 0, 0)
	f.put(inst)
	f.clock.Set(t0.Add(pol.CodeTTL))
	_, err = f.v.Check(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeExpired)
	assert.True(t, e.ExpiresAt.Equal(t0.Add(pol.CodeTTL)))
	f.clock.Set(t0.Add(pol.CodeTTL - time.Second))
	_, err = f.v.Check(ctx, request(code, "a", "S"))
	require.NoError(t, err)
}

// notFoundStore reports ErrNotFound from the calls that must find what
// they act on.
type notFoundStore struct {
	MemoryStore
	op string
}

func (s notFoundStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	if s.op == "Reserve" {
		return 0, 0, fmt.Errorf("reserve: %w", ErrNotFound)
	}
	return s.MemoryStore.Reserve(ctx, r, limit)
}

func (s notFoundStore) Usage(ctx context.Context, instance, key string) (int, bool, error) {
	if s.op == "Usage" {
		return 0, false, ErrNotFound
	}
	return s.MemoryStore.Usage(ctx, instance, key)
}

func (s notFoundStore) Release(ctx context.Context, r Reservation) (Reservation, error) {
	if s.op == "Release" {
		return Reservation{}, ErrNotFound
	}
	return s.MemoryStore.Release(ctx, r)
}

func TestStoreNotFoundIsAFailure(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ op, call string }{{"Reserve", "Verify"}, {"Usage", "Check"}, {"Release", "Withdraw"}} {
		t.Run(tt.op, func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			if tt.call == "Withdraw" {
				_, err := f.v.Verify(ctx, request(code, "a", "S"))
				require.NoError(t, err)
			}
			s := notFoundStore{f.store, tt.op}
			v := New(f.store, s, WithClock(f.clock.Now))
			var err error
			switch tt.call {
			case "Verify":
				_, err = v.Verify(ctx, request(code, "a", "S"))
			case "Check":
				_, err = v.Check(ctx, request(code, "a", "S"))
			case "Withdraw":
				err = v.Withdraw(ctx, f.app(code), "a")
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrNotFound, "a store failure is no refusal")
			assert.Nil(t, asError(err))
			assert.Contains(t, err.Error(), "not found")
		})
	}
}

func TestStrangerDecisionKeepsTheCause(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	code := f.instanceWithCode("i-1", "a")
	for _, req := range []Request{request(code, "stranger", "S"), request(mustCode(t), "stranger", "S")} {
		_, err := f.v.Verify(ctx, req)
		requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	}
	ds := c.all()
	require.Len(t, ds, 3)
	assert.Equal(t, ReasonCodeNotOwned, ds[1].Cause, "support staff see why")
	assert.Equal(t, "i-1", ds[1].Instance, "and which instance")
	assert.Empty(t, ds[2].Cause, "a code that does not exist has no other cause")
}
