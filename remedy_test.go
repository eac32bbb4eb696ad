package icpverify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

// alternativesFixture gives account "a" a full instance i-full with one code
// of a's, and other instances of varied fitness.
func alternativesFixture(t *testing.T) (*fixture, string) {
	f := newFixture(t)
	code := f.instanceWithCode("i-full", "a")
	fill(f, "i-full", 5)

	later := ecs("i-later", "a") // 5 free, expires in 2 years
	later.ExpiresAt = t0.AddDate(2, 0, 0)
	never := ecs("i-never", "a") // 5 free, no expiry
	never.ExpiresAt = time.Time{}
	busy := ecs("i-busy", "a") // 2 free
	swas := ecs("i-swas", "a") // another product type
	swas.Product = ProductSimpleApplicationServer
	old := ecs("i-old", "a") // expired
	old.ExpiresAt = t0.Add(-time.Hour)
	gone := ecs("i-gone", "a") // released
	gone.Status = Released
	other := ecs("i-other", "b") // another account's
	payg := ecs("i-payg", "a")   // cannot issue codes
	payg.Billing = PayAsYouGo
	stopped := ecs("i-stopped", "a")
	stopped.Status = Stopped
	abroad := ecs("i-abroad", "a")
	abroad.Region = "ap-southeast-1"
	f.put(later, never, busy, swas, old, gone, other, payg, stopped, abroad)
	fill(f, "i-busy", 3)
	return f, code
}

func TestAlternativesOnQuotaRefusal(t *testing.T) {
	f, code := alternativesFixture(t)
	_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
	e := requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Equal(t, []Alternative{
		{Instance: "i-never", Product: ProductECS, Free: 5},
		{Instance: "i-later", Product: ProductECS, Free: 5, ExpiresAt: t0.AddDate(2, 0, 0)},
		{Instance: "i-busy", Product: ProductECS, Free: 2, ExpiresAt: t0.AddDate(1, 0, 0)},
	}, e.Alternatives)

	msg := Localize(err, language.English)
	assert.Contains(t, msg, "Your instances that would pass now: instance i-never has 5 free subject slots; instance i-later has 5 free subject slots; instance i-busy has 2 free subject slots.")
	assert.NotContains(t, msg, "i-other")
	assert.Contains(t, Localize(err, language.SimplifiedChinese), "您的以下实例当前可通过验证：实例i-never剩余5个主体名额；")

	// Check offers the same.
	_, err = f.v.Check(context.Background(), request(code, "a", "S"))
	e = requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Len(t, e.Alternatives, 3)
}

func TestAlternativesOnExpiryRefusal(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	spare := ecs("i-2", "a")
	spare.ExpiresAt = t0.AddDate(3, 0, 0)
	f.put(spare)
	fill(f, "i-2", 4)
	f.clock.Set(t0.AddDate(1, 0, 1)) // i-1 expired
	_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
	e := requireReason(t, err, ErrServiceCodeInvalid, ReasonInstanceExpired)
	assert.Equal(t, []Alternative{{Instance: "i-2", Product: ProductECS, Free: 1, ExpiresAt: spare.ExpiresAt}}, e.Alternatives)
	assert.Contains(t, Localize(err, language.English), "instance i-2 has 1 free subject slot.")

	released := ecs("i-1", "a")
	released.Status = Released
	f.put(released)
	_, err = f.v.Verify(context.Background(), request(code, "a", "S"))
	e = requireReason(t, err, ErrServiceCodeInvalid, ReasonInstanceReleased)
	assert.Len(t, e.Alternatives, 1)
}

func TestAlternativesOnlyForQuotaAndExpiry(t *testing.T) {
	f, code := alternativesFixture(t)
	_, err := f.v.Verify(context.Background(), Request{Product: ProductSimpleApplicationServer, ServiceCode: code, Account: "a", Subject: "S", SubjectID: certOf("S")})
	e := requireReason(t, err, ErrInvalidProduct, ReasonProductMismatch)
	assert.Empty(t, e.Alternatives)
}

// lister lists what it is told, or fails, counting its calls and the
// usage read.
type lister struct {
	MemoryStore
	list   []Instance
	err    error
	calls  int
	usages int
}

func (l *lister) ListInstances(context.Context, string, int) ([]Instance, error) {
	l.calls++
	return l.list, l.err
}

func (l *lister) Usage(ctx context.Context, instance, key string) (int, bool, error) {
	l.usages++
	return l.MemoryStore.Usage(ctx, instance, key)
}

func TestAlternativesFromOddListings(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	fill(f, "i-1", 5)
	ctx := context.Background()

	// A failing listing changes nothing but the alternatives.
	l := &lister{MemoryStore: f.store, err: errors.New("listing down")}
	v := New(l, l, WithClock(f.clock.Now))
	_, err := v.Verify(ctx, request(code, "a", "S"))
	e := requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Empty(t, e.Alternatives)
	assert.Equal(t, 1, l.calls, "one extra store call, on the refusal only")

	// An account with no other instance: none offered.
	l = &lister{MemoryStore: f.store}
	v = New(l, l, WithClock(f.clock.Now))
	_, err = v.Verify(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Empty(t, e.Alternatives)
	assert.NotContains(t, Localize(err, language.English), "would pass")

	// Thousands of instances, some of another account: three offered,
	// none of the other account's, from the usage of at most
	// maxUsageReads of them.
	l = &lister{MemoryStore: f.store}
	for i := range 5000 {
		inst := ecs(fmt.Sprintf("i-many-%04d", i), "a")
		if i%2 == 0 {
			inst.Account = "intruder"
		}
		l.list = append(l.list, inst)
	}
	v = New(l, l, WithClock(f.clock.Now))
	_, err = v.Verify(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	require.Len(t, e.Alternatives, 3)
	for i, a := range e.Alternatives {
		assert.Equal(t, 5, a.Free)
		assert.Equal(t, fmt.Sprintf("i-many-%04d", 1+2*i), a.Instance)
	}
	assert.Equal(t, maxUsageReads, l.usages, "the usage of at most maxUsageReads instances is read")

	// A store that cannot list offers none; a passing verification never
	// lists.
	v = New(struct{ InstanceStore }{f.store}, f.store, WithClock(f.clock.Now))
	_, err = v.Verify(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Empty(t, e.Alternatives)

	l = &lister{MemoryStore: f.store}
	v = New(l, l, WithClock(f.clock.Now))
	ok := f.instanceWithCode("i-ok", "a")
	_, err = v.Verify(ctx, request(ok, "a", "S"))
	require.NoError(t, err)
	assert.Zero(t, l.calls)
}

func TestBetter(t *testing.T) {
	d := t0
	tests := []struct {
		a, b Alternative
		want bool
	}{
		{Alternative{Free: 3}, Alternative{Free: 2}, true},
		{Alternative{Free: 2, ExpiresAt: d.Add(1)}, Alternative{Free: 2, ExpiresAt: d}, true},
		{Alternative{Free: 2}, Alternative{Free: 2, ExpiresAt: d}, true},
		{Alternative{Free: 2, ExpiresAt: d}, Alternative{Free: 2}, false},
		{Alternative{Free: 2, Instance: "a"}, Alternative{Free: 2, Instance: "b"}, true},
		{Alternative{Free: 2, Instance: "b"}, Alternative{Free: 2, Instance: "a"}, false},
	}
	for i, tt := range tests {
		assert.Equal(t, tt.want, better(tt.a, tt.b), "case %d", i)
	}
}

func TestExpiring(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	soon := ecs("i-soon", "a")
	soon.ExpiresAt = t0.AddDate(0, 0, 10)
	late := ecs("i-late", "a")
	late.ExpiresAt = t0.AddDate(0, 6, 0)
	never := ecs("i-never", "a")
	never.ExpiresAt = time.Time{}
	f.put(soon, late, never)
	c1, c2, c3, c4 := f.issue("i-soon", "a"), f.issue("i-soon", "a"), f.issue("i-late", "a"), f.issue("i-never", "a")
	for i, c := range []string{c1, c2, c3, c4} {
		_, err := f.v.Verify(ctx, request(c, "a", fmt.Sprint("S", i)))
		require.NoError(t, err)
	}
	require.NoError(t, f.v.Complete(ctx, f.app(c2)))
	// Another account's reservation on the same instance is not a's.
	require.NoError(t, f.v.GrantServiceCode(ctx, f.issue("i-soon", "a"), "a", "b"))

	list, err := f.v.Expiring(ctx, "a", 30*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, x := range list {
		assert.Equal(t, "i-soon", x.Instance)
		assert.Equal(t, soon.ExpiresAt, x.ExpiresAt)
		assert.False(t, x.Expired)
		assert.NotContains(t, x.Code, c1[5:14])
		assert.Equal(t, keyOf(t, request("", "a", x.Subject)), x.SubjectKey)
	}
	assert.ElementsMatch(t, []bool{false, true}, []bool{list[0].Filed, list[1].Filed})

	list, err = f.v.Expiring(ctx, "a", 365*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, "i-late", list[2].Instance, "soonest first")

	list, err = f.v.Expiring(ctx, "nobody", time.Hour)
	require.NoError(t, err)
	assert.Empty(t, list)

	// Expired already: listed with a window of zero.
	f.clock.Set(t0.AddDate(0, 0, 11))
	list, err = f.v.Expiring(ctx, "a", 0)
	require.NoError(t, err)
	require.Len(t, list, 2)

	assert.True(t, list[0].Expired)
	assert.Equal(t, "S0", list[0].Subject, "ties are ordered by subject")
	assert.Equal(t, "i-soon", list[0].Instance)
	assert.Equal(t, soon.ExpiresAt, list[0].ExpiresAt) // package catalog words the warning

	_, err = f.v.Expiring(ctx, "", time.Hour)
	requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.v.Expiring(cancelled, "a", time.Hour)
	require.ErrorIs(t, err, context.Canceled)
}

// TestAlternativesBesideAnotherQuotaStore: a listing from the
// InstanceStore is joined with the usage the QuotaStore keeps.
func TestAlternativesBesideAnotherQuotaStore(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	fill(f, "i-1", 5)
	f.put(ecs("i-2", "a"))
	fill(f, "i-2", 2)
	l := &lister{MemoryStore: f.store, list: []Instance{ecs("i-2", "a")}}
	v := New(l, plainQuotas{f.store}, WithClock(f.clock.Now))
	_, err := v.Verify(context.Background(), request(code, "a", "S"))
	e := requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	require.Len(t, e.Alternatives, 1)
	assert.Equal(t, "i-2", e.Alternatives[0].Instance)
	assert.Equal(t, 3, e.Alternatives[0].Free, "the QuotaStore's usage")
}
