package icpverify

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reasonOf returns the Reason of a refusal, "" for nil, and fails the test
// for any other error.
func reasonOf(t *testing.T, err error) Reason {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *Error
	require.ErrorAs(t, err, &e)
	return e.Reason
}

func TestProfileQuotas(t *testing.T) {
	ecsWith := func(edit func(*Policy)) Profile {
		pol := DefaultPolicy(ProductECS)
		edit(&pol)
		return Profile{Policies: map[ProductType]Policy{ProductECS: pol}}
	}
	tests := []struct {
		name    string
		profile Profile
		// first and second are the (account, instance, subject) of two
		// applications, the first of which fills the limit.
		first, second [3]string
		want          Reason
	}{
		{"websites per instance", ecsWith(func(p *Policy) { p.WebsitesPerInstance = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-1", "S1"}, ReasonInstanceWebsites},
		{"websites per instance, another instance", ecsWith(func(p *Policy) { p.WebsitesPerInstance = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-2", "S1"}, ""},
		{"websites per IP", ecsWith(func(p *Policy) { p.WebsitesPerIP = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"b", "i-2", "S2"}, ReasonIPWebsites},
		{"websites per IP, another IP", ecsWith(func(p *Policy) { p.WebsitesPerIP = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"b", "i-3", "S2"}, ""},
		{"websites per account", ecsWith(func(p *Policy) { p.WebsitesPerAccount = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-3", "S2"}, ReasonAccountWebsites},
		{"websites per subject", ecsWith(func(p *Policy) { p.WebsitesPerSubject = 1 }),
			[3]string{"a", "i-1", "S1"}, [3]string{"b", "i-3", "S1"}, ReasonSubjectWebsites},
		{"subjects per account", Profile{SubjectsPerAccount: 1},
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-3", "S2"}, ReasonAccountSubjects},
		{"subjects per account, the same subject", Profile{SubjectsPerAccount: 1},
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-3", "S1"}, ""},
		{"accounts per subject", Profile{AccountsPerSubject: 1},
			[3]string{"a", "i-1", "S1"}, [3]string{"b", "i-3", "S1"}, ReasonSubjectAccounts},
		{"accounts per subject, the same account", Profile{AccountsPerSubject: 1},
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-3", "S1"}, ""},
		{"filings in progress", Profile{FilingsInProgress: 1},
			[3]string{"a", "i-1", "S1"}, [3]string{"a", "i-3", "S1"}, ReasonFilingInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, WithProfile(tt.profile))
			// i-1 and i-2 share an IP; i-3 has its own. a owns i-1 and
			// i-3, b owns i-2; every code is granted to the other.
			i1, i2, i3 := ecs("i-1", "a"), ecs("i-2", "b"), ecs("i-3", "a")
			i3.PublicIP = "203.0.113.99"
			f.put(i1, i2, i3)
			code := func(app [3]string) string {
				inst, _ := f.store.Instance(context.Background(), app[1])
				c := f.issue(inst.ID, inst.Account)
				if inst.Account != app[0] {
					require.NoError(t, f.v.GrantServiceCode(context.Background(), c, inst.Account, app[0]))
				}
				return c
			}
			_, err := f.v.Verify(context.Background(), request(code(tt.first), tt.first[0], tt.first[2]))
			require.NoError(t, err)
			second := request(code(tt.second), tt.second[0], tt.second[2])
			_, err = f.v.Check(context.Background(), second)
			assert.Equal(t, tt.want, reasonOf(t, err), "Check: %v", err)
			_, err = f.v.Verify(context.Background(), second)
			assert.Equal(t, tt.want, reasonOf(t, err), "Verify: %v", err)
			if tt.want != "" {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.ErrorIs(t, err, ErrQuotaReached)
				assert.Empty(t, e.Alternatives, "a limit across instances offers no other instance")
			}
		})
	}
}

func TestFilingsInProgressFreedByComplete(t *testing.T) {
	f := newFixture(t, WithProfile(Profile{FilingsInProgress: 1}))
	first := f.instanceWithCode("i-1", "a")
	second := f.instanceWithCode("i-2", "a")
	res, err := f.v.Verify(context.Background(), request(first, "a", "S"))
	require.NoError(t, err)
	_, err = f.v.Verify(context.Background(), request(second, "a", "S"))
	require.Equal(t, ReasonFilingInProgress, reasonOf(t, err))
	require.NoError(t, f.v.Complete(context.Background(), res.Application))
	_, err = f.v.Verify(context.Background(), request(second, "a", "S"))
	require.NoError(t, err)
}

func TestDeregister(t *testing.T) {
	ctx := context.Background()
	for _, freed := range []bool{false, true} {
		f := newFixture(t, WithProfile(Profile{FreedOnDeregister: freed, SubjectsPerAccount: 1}))
		code := f.instanceWithCode("i-1", "a")
		res, err := f.v.Verify(ctx, request(code, "a", "S1"))
		require.NoError(t, err)

		err = f.v.Deregister(ctx, res.Application)
		assert.Equal(t, ReasonNotFiled, reasonOf(t, err), "deregistering an unfiled application")
		assert.ErrorIs(t, err, ErrServiceCodeInvalid)
		require.NoError(t, f.v.Complete(ctx, res.Application))
		require.NoError(t, f.v.Deregister(ctx, res.Application))
		require.NoError(t, f.v.Deregister(ctx, res.Application), "deregistering twice")
		assert.Equal(t, ReasonNotReserved, reasonOf(t, f.v.Deregister(ctx, "0123456789abcdef0123456789abcdef")))

		r, err := f.store.Reservation(ctx, code)
		require.NoError(t, err, "a deregistered filing keeps its code used")
		assert.True(t, r.Filed)
		assert.Equal(t, freed, r.Deregistered)
		want := map[bool]int{false: 1, true: 0}[freed]
		assert.Equal(t, want, f.used("i-1"), "freed %v", freed)

		other := f.issue("i-1", "a")
		_, err = f.v.Verify(ctx, request(other, "a", "S2"))
		wantReason := map[bool]Reason{false: ReasonAccountSubjects, true: ""}[freed]
		assert.Equal(t, wantReason, reasonOf(t, err), "another subject after deregistering, freed %v", freed)
		_, err = f.v.Verify(ctx, request(code, "a", "S2"))
		assert.Equal(t, ReasonCodeUsed, reasonOf(t, err), "the deregistered filing's code")
	}
}

func TestDeregisterDecision(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t, WithProfile(Profile{FreedOnDeregister: true}), WithObserver(c.observer()))
	code := f.instanceWithCode("i-1", "a")
	res, err := f.v.Verify(ctx, request(code, "a", "S1"))
	require.NoError(t, err)
	require.NoError(t, f.v.Complete(ctx, res.Application))
	require.NoError(t, f.v.Deregister(ctx, res.Application))
	ds := c.all()
	require.NotEmpty(t, ds)
	d := ds[len(ds)-1]
	assert.Equal(t, OpDeregister, d.Op)
	assert.Equal(t, Passed, d.Verdict)
	assert.Equal(t, res.Application, d.Application)
	assert.Equal(t, "i-1", d.Instance)
	assert.Equal(t, "a", d.Holder)
}

func TestAbandonVoidsCode(t *testing.T) {
	ctx := context.Background()
	for _, void := range []bool{false, true} {
		f := newFixture(t, WithProfile(Profile{AbandonVoidsCode: void}))
		code := f.instanceWithCode("i-1", "a")
		res, err := f.v.Verify(ctx, request(code, "a", "S1"))
		require.NoError(t, err)
		require.NoError(t, f.v.Withdraw(ctx, res.Application, "a"))
		sc, err := f.store.ServiceCode(ctx, code)
		require.NoError(t, err)
		assert.Equal(t, void, sc.Revoked)
		_, err = f.v.Verify(ctx, request(code, "a", "S1"))
		want := map[bool]Reason{false: "", true: ReasonCodeRevoked}[void]
		assert.Equal(t, want, reasonOf(t, err), "void %v", void)
		assert.Equal(t, map[bool]int{false: 1, true: 0}[void], f.used("i-1"))
	}
}

func TestGrantModels(t *testing.T) {
	ctx := context.Background()
	t.Run("bearer", func(t *testing.T) {
		f := newFixture(t, WithProfile(Profile{Grant: GrantBearer}))
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "stranger", "S1"))
		assert.NoError(t, err)
	})
	t.Run("after issue, by default", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(ctx, request(code, "stranger", "S1"))
		assert.Equal(t, ReasonCodeNotFound, reasonOf(t, err))
	})
	t.Run("at issue", func(t *testing.T) {
		f := newFixture(t, WithProfile(Profile{Grant: GrantAtIssue}))
		f.put(ecs("i-1", "a"))
		code, err := f.v.IssueServiceCodeTo(ctx, "i-1", "a", "b")
		require.NoError(t, err)
		sc, err := f.store.ServiceCode(ctx, code)
		require.NoError(t, err)
		assert.Equal(t, "b", sc.Grantee)
		for _, grantee := range []string{"c", ""} {
			err := f.v.GrantServiceCode(ctx, code, "a", grantee)
			assert.Equal(t, ReasonGrantFixed, reasonOf(t, err), "grantee %q", grantee)
		}
		err = f.v.GrantServiceCode(ctx, code, "stranger", "c")
		assert.Equal(t, ReasonCodeNotFound, reasonOf(t, err), "a stranger learns nothing of the grant model")
		_, err = f.v.Verify(ctx, request(code, "b", "S1"))
		assert.NoError(t, err)
	})
	t.Run("owner only", func(t *testing.T) {
		pol := DefaultPolicy(ProductECS)
		pol.OwnerOnly = true
		f := newFixture(t, WithProfile(Profile{Grant: GrantBearer, Policies: map[ProductType]Policy{ProductECS: pol}}))
		f.put(ecs("i-1", "a"))
		_, err := f.v.IssueServiceCodeTo(ctx, "i-1", "a", "b")
		assert.Equal(t, ReasonNotGrantable, reasonOf(t, err))
		code := f.issue("i-1", "a")
		assert.Equal(t, ReasonNotGrantable, reasonOf(t, f.v.GrantServiceCode(ctx, code, "a", "b")))
		_, err = f.v.Verify(ctx, request(code, "b", "S1"))
		assert.Equal(t, ReasonCodeNotFound, reasonOf(t, err), "an owner-only code is no bearer's")
		_, err = f.v.Verify(ctx, request(code, "a", "S1"))
		assert.NoError(t, err)
	})
}

func TestMayIssue(t *testing.T) {
	ctx := context.Background()
	var asked [][2]string
	failure := errors.New("account service down")
	f := newFixture(t, WithProfile(Profile{MayIssue: func(_ context.Context, issuer, grantee string) (bool, error) {
		asked = append(asked, [2]string{issuer, grantee})
		switch grantee {
		case "down":
			return false, failure
		case "sub":
			return false, nil
		}
		return true, nil
	}}))
	f.put(ecs("i-1", "a"))
	code := f.issue("i-1", "a")
	_, err := f.v.IssueServiceCodeTo(ctx, "i-1", "a", "sub")
	assert.Equal(t, ReasonGrantNotAllowed, reasonOf(t, err))
	assert.Equal(t, ReasonGrantNotAllowed, reasonOf(t, f.v.GrantServiceCode(ctx, code, "a", "sub")))
	err = f.v.GrantServiceCode(ctx, code, "a", "down")
	assert.ErrorIs(t, err, failure)
	assert.NotErrorAs(t, err, new(*Error), "a failure to ask is not a refusal")
	assert.NoError(t, f.v.GrantServiceCode(ctx, code, "a", "b"))
	assert.NoError(t, f.v.GrantServiceCode(ctx, code, "a", ""), "withdrawing a grant asks nothing")
	assert.Equal(t, [][2]string{{"a", "a"}, {"a", "sub"}, {"a", "sub"}, {"a", "down"}, {"a", "b"}}, asked)
}

func TestWithProfile(t *testing.T) {
	t.Run("nil policies keep the defaults", func(t *testing.T) {
		v := New(nil, nil, WithProfile(Profile{SubjectsPerAccount: 1}))
		assert.Equal(t, DefaultPolicy(ProductECS), v.policy(ProductECS))
	})
	t.Run("policies replace every type", func(t *testing.T) {
		pol := DefaultPolicy(ProductECS)
		pol.SubjectLimit = 2
		p := Profile{Policies: map[ProductType]Policy{"vm": pol}}
		v := New(nil, nil, WithProfile(p), WithPolicy(ProductOSS, pol))
		assert.Equal(t, pol, v.policy("vm"))
		assert.Equal(t, pol, v.policy(ProductOSS), "WithPolicy after WithProfile adjusts")
		assert.False(t, v.policy(ProductECS).fileable(), "a type the profile leaves out cannot be filed")
		p.Policies["vm"] = Policy{}
		assert.Equal(t, pol, v.policy("vm"), "the Verifier keeps its own copy")
	})
	t.Run("mainland", func(t *testing.T) {
		v := New(nil, nil, WithProfile(Profile{Mainland: func(r string) bool { return r == "ap-guangzhou" }}))
		assert.True(t, v.mainland("ap-guangzhou"))
		assert.False(t, v.mainland("cn-hangzhou"))
	})
}

// exceedingStore reports Exceeded with an index it was not given.
type exceedingStore struct {
	MemoryStore
	index int
}

func (s exceedingStore) Reserve(context.Context, Reservation, int) (Outcome, int, error) {
	return Exceeded, s.index, nil
}

func TestExceededIndexOutOfRange(t *testing.T) {
	for _, index := range []int{-1, 1, 1 << 30} {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		s := exceedingStore{f.store, index}
		v := New(s, s, WithClock(f.clock.Now), WithProfile(Profile{SubjectsPerAccount: 1}))
		_, err := v.Verify(context.Background(), request(code, "a", "S1"))
		require.Error(t, err)
		assert.NotErrorAs(t, err, new(*Error), "index %d: a store's bad answer is no refusal", index)
		assert.Equal(t, 0, f.used("i-1"))
	}
}

func TestCheckPlacesFailure(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	boom := errors.New("boom")
	s := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{"Places": true}}
	v := New(s, s, WithClock(f.clock.Now), WithProfile(Profile{SubjectsPerAccount: 1}))
	_, err := v.Check(context.Background(), request(code, "a", "S1"))
	assert.ErrorIs(t, err, boom)
	assert.NotErrorAs(t, err, new(*Error), "a store's failure is no refusal")
}

func TestCanonicalIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7": "203.0.113.7", "::ffff:203.0.113.7": "203.0.113.7",
		"2001:DB8::1": "2001:db8::1", "2001:db8:0:0::1": "2001:db8::1", "fe80::1%eth0": "fe80::1",
		"not an IP": "not an IP", "": "",
	} {
		assert.Equal(t, want, canonicalIP(in), "%q", in)
	}
}
