package icpverify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainQuotas hides every optional interface of a QuotaStore, so that a
// Verifier reads codes from its InstanceStore and reservations from it.
type plainQuotas struct{ QuotaStore }

// plainInstances hides every optional interface of an InstanceStore.
type plainInstances struct{ InstanceStore }

// forgetful is a MemoryStore whose inventory no longer holds any instance,
// as when a released instance is forgotten.
type forgetful struct{ MemoryStore }

func (s forgetful) Instance(context.Context, string) (Instance, error) {
	return Instance{}, ErrNotFound
}

func (s forgetful) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	rec, err := s.MemoryStore.LookupServiceCode(ctx, code)
	rec.Instance = Instance{}
	return rec, err
}

// statusCase is a code brought to a state, and the status it must have.
type statusCase struct {
	name string
	// setup issues a code from instance "i-1" of account "a", on a fixture
	// whose ECS policy has a CodeTTL of 30 days, and brings it to the
	// state; it returns the code.
	setup func(t *testing.T, f *fixture) string
	want  CodeStatus // Code, IssuedAt and SubjectKey are filled in
}

const statusTTL = 30 * 24 * time.Hour

var statusCases = []statusCase{
	{"Unbound", func(t *testing.T, f *fixture) string {
		return f.issue("i-1", "a")
	}, CodeStatus{State: CodeUnbound, Owner: "a"}},
	{"Bound", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		req := request(code, "a", "Hangzhou Example Co.")
		req.Website = "Example.COM."
		_, err := f.v.Verify(context.Background(), req)
		require.NoError(t, err)
		return code
	}, CodeStatus{State: CodeBound, Owner: "a", Applicant: "a", Subject: "Hangzhou Example Co.",
		Website: "example.com", ReservedAt: t0}},
	{"Filed", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Complete(context.Background(), f.app(code)))
		return code
	}, CodeStatus{State: CodeFiled, Owner: "a", Applicant: "a", Subject: "S", ReservedAt: t0, Filed: true}},
	{"Released", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Release(context.Background(), f.app(code)))
		return code
	}, CodeStatus{State: CodeUnbound, Owner: "a"}},
	{"GrantedAndBound", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		require.NoError(t, f.v.GrantServiceCode(context.Background(), code, "a", "agency"))
		_, err := f.v.Verify(context.Background(), request(code, "agency", "S"))
		require.NoError(t, err)
		return code
	}, CodeStatus{State: CodeBound, Owner: "a", Grantee: "agency", Applicant: "agency", Subject: "S", ReservedAt: t0}},
	{"Transferred", func(t *testing.T, f *fixture) string {
		// The instance changes hands: the code follows it, and the
		// former owner's grant lapses.
		code := f.issue("i-1", "a")
		require.NoError(t, f.v.GrantServiceCode(context.Background(), code, "a", "agency"))
		inst := ecs("i-1", "b")
		f.put(inst)
		return code
	}, CodeStatus{State: CodeUnbound, Owner: "b"}},
	{"TransferredAndGranted", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		f.put(ecs("i-1", "b"))
		require.NoError(t, f.v.GrantServiceCode(context.Background(), code, "b", "agency2"))
		return code
	}, CodeStatus{State: CodeUnbound, Owner: "b", Grantee: "agency2"}},
	{"Revoked", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		require.NoError(t, f.v.RevokeServiceCode(context.Background(), code))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonCodeRevoked}},
	{"RevokedBound", func(t *testing.T, f *fixture) string {
		// Revoking releases the unfiled reservation.
		code := f.issue("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.RevokeServiceCode(context.Background(), code))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonCodeRevoked}},
	{"RevokedFiled", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Complete(context.Background(), f.app(code)))
		require.NoError(t, f.v.RevokeServiceCode(context.Background(), code))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Applicant: "a", Subject: "S", ReservedAt: t0, Filed: true,
		Invalid: ReasonCodeRevoked}},
	{"CodeExpired", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		f.clock.Set(t0.Add(statusTTL))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonCodeExpired}},
	{"CodeAlmostExpired", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		f.clock.Set(t0.Add(statusTTL - time.Nanosecond))
		return code
	}, CodeStatus{State: CodeUnbound, Owner: "a"}},
	{"InstanceExpired", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		inst := ecs("i-1", "a")
		inst.ExpiresAt = t0.Add(time.Hour)
		f.put(inst)
		f.clock.Set(t0.Add(time.Hour))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonInstanceExpired, ExpiresAt: t0.Add(time.Hour)}},
	{"InstanceExpiredFiled", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		require.NoError(t, f.v.Complete(context.Background(), f.app(code)))
		inst := ecs("i-1", "a")
		inst.ExpiresAt = t0.Add(time.Hour)
		f.put(inst)
		f.clock.Set(t0.Add(2 * time.Hour))
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Applicant: "a", Subject: "S", ReservedAt: t0, Filed: true,
		Invalid: ReasonInstanceExpired, ExpiresAt: t0.Add(time.Hour)}},
	{"InstanceReleased", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		inst := ecs("i-1", "a")
		inst.Status = Released
		f.put(inst)
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonInstanceReleased}},
	{"InstanceStopped", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		inst := ecs("i-1", "a")
		inst.Status = Stopped
		f.put(inst)
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonInstanceStopped}},
	{"PublicIPRemoved", func(t *testing.T, f *fixture) string {
		code := f.issue("i-1", "a")
		inst := ecs("i-1", "a")
		inst.PublicIP = ""
		f.put(inst)
		return code
	}, CodeStatus{State: CodeInvalid, Owner: "a", Invalid: ReasonPublicIPRemoved}},
}

// statusFixture returns a fixture with instance "i-1" of account "a" and a
// CodeTTL of 30 days for ECS; lookup false makes its Verifier read codes
// without the CodeReserver.
func statusFixture(t *testing.T, lookup bool, opts ...Option) *fixture {
	pol := DefaultPolicy(ProductECS)
	pol.CodeTTL = statusTTL
	f := newFixture(t, append([]Option{WithPolicy(ProductECS, pol)}, opts...)...)
	if !lookup {
		f.v = New(f.store, plainQuotas{f.store}, append([]Option{WithClock(f.clock.Now), WithPolicy(ProductECS, pol)}, opts...)...)
	}
	f.put(ecs("i-1", "a"))
	return f
}

// wantStatus completes want for code: its code, issue time, product, instance,
// subject key and expiry, as the fixture makes them.
func wantStatus(t *testing.T, want CodeStatus, code string) CodeStatus {
	want.Code, want.Instance, want.Product, want.IssuedAt = code, "i-1", ProductECS, t0
	if want.ExpiresAt.IsZero() {
		want.ExpiresAt = t0.Add(statusTTL)
	}
	if want.Subject != "" {
		key, ok := subject.Key(want.Subject, certOf(want.Subject))
		require.True(t, ok)
		want.SubjectKey = key
	}
	return want
}

func TestServiceCodeStatusStates(t *testing.T) {
	for _, lookup := range []bool{true, false} {
		for _, c := range statusCases {
			name := c.name
			if !lookup {
				name += "/WithoutLookup"
			}
			t.Run(name, func(t *testing.T) {
				f := statusFixture(t, lookup)
				code := c.setup(t, f)
				got, err := f.v.ServiceCodeStatus(context.Background(), code)
				require.NoError(t, err)
				want := wantStatus(t, c.want, code)
				if want.Applicant != "" {
					want.Application = f.app(code)
				}
				assert.Equal(t, want, got)

				// A code typed loosely reads the same.
				got, err = f.v.ServiceCodeStatus(context.Background(), " "+strings.ToLower(code)+" ")
				require.NoError(t, err)
				assert.Equal(t, code, got.Code)

				// The owner's list agrees.
				list, err := f.v.ServiceCodes(context.Background(), "i-1", got.Owner)
				require.NoError(t, err)
				require.Len(t, list, 1)
				assert.Equal(t, got, list[0])
			})
		}
	}
}

func TestCodeStateProviderCode(t *testing.T) {
	for s, n := range map[CodeState]int{CodeUnbound: 0, CodeBound: 1, CodeFiled: 2, CodeInvalid: 3, "": -1, "review": -1} {
		assert.Equal(t, n, s.ProviderCode(), "state %q", s)
	}
}

func TestServiceCodeStatusForgottenInstance(t *testing.T) {
	for _, lookup := range []bool{true, false} {
		f := statusFixture(t, lookup)
		code := f.issue("i-1", "a")
		var q QuotaStore = forgetful{f.store}
		if !lookup {
			q = plainQuotas{f.store}
		}
		v := New(forgetful{f.store}, q, WithClock(f.clock.Now))
		got, err := v.ServiceCodeStatus(context.Background(), code)
		require.NoError(t, err)
		assert.Equal(t, CodeStatus{Code: code, State: CodeInvalid, Instance: "i-1", Owner: "a", IssuedAt: t0,
			Invalid: ReasonInstanceReleased}, got, "lookup %v", lookup)
	}
}

func TestServiceCodeStatusBadInput(t *testing.T) {
	f := statusFixture(t, true)
	code := f.issue("i-1", "a")
	unknown, err := codeformat.Default().New(strings.NewReader(strings.Repeat("\x5a", 16)))
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	for _, c := range []struct {
		name   string
		ctx    context.Context
		code   string
		reason Reason // "": not a refusal
		err    error
	}{
		{"Empty", context.Background(), "", ReasonCodeMalformed, ErrServiceCodeInvalid},
		{"Huge", context.Background(), strings.Repeat(code, 1<<20/len(code)), ReasonCodeMalformed, ErrServiceCodeInvalid},
		{"NotUTF8", context.Background(), code[:5] + "\xff\xfe" + code[7:], ReasonCodeMalformed, ErrServiceCodeInvalid},
		{"BadCheckSymbol", context.Background(), otherLastSymbol(code), ReasonCodeMalformed, ErrServiceCodeInvalid},
		{"Unknown", context.Background(), unknown, ReasonCodeNotFound, ErrServiceCodeInvalid},
		{"Cancelled", cancelled, code, "", context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.v.ServiceCodeStatus(c.ctx, c.code)
			assert.Equal(t, CodeStatus{}, got)
			require.ErrorIs(t, err, c.err)
			if c.reason != "" {
				requireReason(t, err, c.err, c.reason)
			} else {
				assert.Nil(t, asError(err))
			}
		})
	}
}

func TestServiceCodeStatusFailingStore(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		op     string
		lookup bool
	}{
		{"LookupServiceCode", true}, {"ServiceCode", false}, {"Instance", false}, {"Reservation", false},
	} {
		t.Run(c.op, func(t *testing.T) {
			f := statusFixture(t, true)
			code := f.issue("i-1", "a")
			s := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{c.op: true}}
			var q QuotaStore = s
			if !c.lookup {
				q = plainQuotas{s}
			}
			v := New(s, q, WithClock(f.clock.Now))
			got, err := v.ServiceCodeStatus(context.Background(), code)
			require.ErrorIs(t, err, boom)
			assert.Nil(t, asError(err), "a store's failure is not a refusal")
			assert.Equal(t, CodeStatus{}, got)
		})
	}
}

func TestServiceCodeStatusNoStores(t *testing.T) {
	_, err := (&Verifier{}).ServiceCodeStatus(context.Background(), "x")
	require.ErrorIs(t, err, errNoStore)
	_, err = (*Verifier)(nil).ServiceCodes(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, errNoStore)
}

func TestServiceCodesOrderAndStates(t *testing.T) {
	f := statusFixture(t, true)
	ctx := context.Background()
	var codes []string
	for i := range 4 {
		f.clock.Set(t0.Add(time.Duration(i) * time.Hour))
		codes = append(codes, f.issue("i-1", "a"))
	}
	f.clock.Set(t0.Add(5 * time.Hour))
	_, err := f.v.Verify(ctx, request(codes[1], "a", "S1"))
	require.NoError(t, err)
	_, err = f.v.Verify(ctx, request(codes[2], "a", "S2"))
	require.NoError(t, err)
	require.NoError(t, f.v.Complete(ctx, f.app(codes[2])))
	require.NoError(t, f.v.RevokeServiceCode(ctx, codes[3]))
	f.put(ecs("i-2", "a"))
	f.issue("i-2", "a") // another instance's code

	list, err := f.v.ServiceCodes(ctx, "i-1", "a")
	require.NoError(t, err)
	require.Len(t, list, 4)
	for i, st := range list {
		assert.Equal(t, codes[i], st.Code)
		assert.Equal(t, t0.Add(time.Duration(i)*time.Hour), st.IssuedAt)
	}
	states := []CodeState{list[0].State, list[1].State, list[2].State, list[3].State}
	assert.Equal(t, []CodeState{CodeUnbound, CodeBound, CodeFiled, CodeInvalid}, states)

	// An instance with no codes.
	f.put(ecs("i-3", "a"))
	list, err = f.v.ServiceCodes(ctx, "i-3", "a")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestServiceCodesOwnerOnly(t *testing.T) {
	c := &collector{}
	f := statusFixture(t, true, WithObserver(c.observer()))
	ctx := context.Background()
	f.issue("i-1", "a")

	for _, account := range []string{"b", "agency"} {
		_, err := f.v.ServiceCodes(ctx, "i-1", account)
		requireReason(t, err, ErrInvalidProduct, ReasonInstanceNotFound)
	}
	_, err := f.v.ServiceCodes(ctx, "i-nope", "a")
	requireReason(t, err, ErrInvalidProduct, ReasonInstanceNotFound)

	// After a transfer, the new owner gets the codes and the old one
	// does not.
	f.put(ecs("i-1", "b"))
	_, err = f.v.ServiceCodes(ctx, "i-1", "a")
	requireReason(t, err, ErrInvalidProduct, ReasonInstanceNotFound)
	list, err := f.v.ServiceCodes(ctx, "i-1", "b")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "b", list[0].Owner)

	ds := c.all()
	require.Len(t, ds, 6)
	stranger := ds[1]
	assert.Equal(t, OpCodes, stranger.Op)
	assert.Equal(t, "b", stranger.Account)
	assert.Equal(t, Refused, stranger.Verdict)
	assert.Equal(t, ReasonInstanceNotFound, stranger.Reason)
	assert.Equal(t, ReasonNotInstanceOwner, stranger.Cause, "support staff see the true cause")
	assert.Equal(t, Reason(""), ds[3].Cause, "an instance that does not exist has no hidden cause")
	owner := ds[5]
	assert.Equal(t, Decision{Op: OpCodes, Account: "b", Instance: "i-1", Product: ProductECS, Verdict: Passed},
		Decision{Op: owner.Op, Account: owner.Account, Instance: owner.Instance, Product: owner.Product, Verdict: owner.Verdict})
}

func TestServiceCodesBadInput(t *testing.T) {
	f := statusFixture(t, true)
	f.issue("i-1", "a")
	huge := strings.Repeat("a", 1<<20)
	for _, c := range []struct{ name, instance, account, field string }{
		{"EmptyInstance", "", "a", "instance"},
		{"EmptyAccount", "i-1", "", "account"},
		{"HugeInstance", huge, "a", "instance"},
		{"HugeAccount", "i-1", huge, "account"},
		{"NotUTF8Instance", "i-\xff", "a", "instance"},
		{"NotUTF8Account", "i-1", "a\xfe", "account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			list, err := f.v.ServiceCodes(context.Background(), c.instance, c.account)
			assert.Nil(t, list)
			e := requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
			assert.Equal(t, c.field, e.Field)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.ServiceCodes(ctx, "i-1", "a")
	require.ErrorIs(t, err, context.Canceled)
}

func TestServiceCodesUnsupported(t *testing.T) {
	f := statusFixture(t, true)
	v := New(plainInstances{f.store}, f.store, WithClock(f.clock.Now))
	_, err := v.ServiceCodes(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Nil(t, asError(err))
}

// fakeLister is a MemoryStore whose ListServiceCodes returns list, or
// fails with err, and records the limit asked.
type fakeLister struct {
	MemoryStore
	list  []ServiceCode
	err   error
	limit int
}

func (s *fakeLister) ListServiceCodes(_ context.Context, _ string, limit int) ([]ServiceCode, error) {
	s.limit = limit
	return s.list, s.err
}

func TestServiceCodesFailingStore(t *testing.T) {
	boom := errors.New("boom")
	f := statusFixture(t, true)
	s := &fakeLister{MemoryStore: f.store, err: boom}
	_, err := New(s, f.store).ServiceCodes(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, boom)
	assert.Nil(t, asError(err))

	fs := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{"Instance": true}}
	_, err = New(fs, f.store).ServiceCodes(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, boom)
	assert.Nil(t, asError(err))
}

func TestServiceCodesBounded(t *testing.T) {
	f := statusFixture(t, true)
	s := &fakeLister{MemoryStore: f.store}
	// A store that ignores the limit and lists another instance's code.
	for i := range 1500 {
		sc := ServiceCode{Code: "C" + string(rune('a'+i%26)) + strings.Repeat("x", i%7), Instance: "i-1", Owner: "a",
			IssuedAt: t0.Add(time.Duration(1500-i) * time.Second)}
		s.list = append(s.list, sc)
	}
	s.list[0].Instance = "i-other"
	list, err := New(s, f.store, WithClock(f.clock.Now)).ServiceCodes(context.Background(), "i-1", "a")
	require.NoError(t, err)
	assert.Equal(t, 1000, s.limit)
	assert.Len(t, list, 999, "the first 1000 the store returned, less the other instance's")
	for i, st := range list {
		assert.Equal(t, "i-1", st.Instance)
		if i > 0 {
			assert.False(t, st.IssuedAt.Before(list[i-1].IssuedAt), "ordered by issue time")
		}
	}
}

func TestServiceCodeStatusDecision(t *testing.T) {
	c := &collector{}
	f := statusFixture(t, true, WithObserver(c.observer()))
	ctx := context.Background()
	code := f.issue("i-1", "a")
	_, err := f.v.Verify(ctx, request(code, "agency-x", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	_, err = f.v.ServiceCodeStatus(ctx, code)
	require.NoError(t, err)
	_, err = f.v.ServiceCodeStatus(ctx, "not a code \xff")
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeMalformed)

	ds := c.all()
	require.Len(t, ds, 5)
	d := ds[3]
	assert.Equal(t, OpStatus, d.Op)
	assert.Empty(t, d.Account, "the provider's view acts for no account")
	assert.Equal(t, codeformat.Mask(nil, code), d.code)
	assert.Equal(t, "i-1", d.Instance)
	assert.Equal(t, ProductECS, d.Product)
	assert.Equal(t, "a", d.Holder)
	assert.Equal(t, "S", d.Subject)
	assert.Equal(t, Passed, d.Verdict)
	bad := ds[4]
	assert.Equal(t, "****", bad.code)
	assert.Equal(t, Refused, bad.Verdict)
	assert.Equal(t, ReasonCodeMalformed, bad.Reason)
}

// otherLastSymbol returns code with its last symbol replaced by another,
// which its check symbol refuses.
func otherLastSymbol(code string) string {
	if code[len(code)-1] == '0' {
		return code[:len(code)-1] + "1"
	}
	return code[:len(code)-1] + "0"
}
