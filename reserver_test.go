package icpverify

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reserverStore is a MemoryStore that is a CodeReserver too, as a SQL
// store is: it looks a code up and, if the guard holds (or always, if
// loose), reserves it. It counts the calls the Verifier makes.
type reserverStore struct {
	MemoryStore
	loose    bool  // reserve whatever the guard
	fail     error // returned by ReserveServiceCode
	calls    atomic.Int32
	reserves atomic.Int32 // calls of Reserve
}

func (s *reserverStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	s.calls.Add(1)
	if s.fail != nil {
		return CodeRecord{}, 0, s.fail
	}
	return reserveAsRead(ctx, s.MemoryStore, r, limit, g, s.loose, nil)
}

// lookupReserver is what reserveAsRead calls.
type lookupReserver interface {
	LookupServiceCode(ctx context.Context, code string) (CodeRecord, error)
	Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error)
}

// reserveAsRead is ReserveServiceCode through m's calls, as a SQL store
// makes it: it looks the code up and, if it has no reservation and g holds
// (or always, if loose), runs between, if not nil, and reserves it.
func reserveAsRead(ctx context.Context, m lookupReserver, r Reservation, limit int, g ReserveGuard, loose bool, between func()) (CodeRecord, Outcome, error) {
	rec, err := m.LookupServiceCode(ctx, r.Code)
	if err != nil || rec.Reservation.Code != "" || !loose && !g.Allows(r.Account, rec.Code, rec.Instance) {
		return rec, 0, err
	}
	if between != nil {
		between()
	}
	r.Instance = rec.Code.Instance
	outcome, used, err := m.Reserve(ctx, r, limit)
	rec.Used = used
	return rec, outcome, err
}

func (s *reserverStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	s.reserves.Add(1)
	return s.MemoryStore.Reserve(ctx, r, limit)
}

// newReserverFixture returns a fixture whose Verifier keeps reservations
// in a reserverStore over the fixture's store.
func newReserverFixture(t testing.TB, loose bool, opts ...Option) (*fixture, *reserverStore) {
	f := newFixture(t)
	s := &reserverStore{MemoryStore: f.store, loose: loose}
	f.v = New(s, s, append([]Option{WithClock(f.clock.Now)}, opts...)...)
	return f, s
}

// TestVerifyReservesInOneCall: through a CodeReserver, a first
// reservation, a retry and a refusal each take one call of the store.
func TestVerifyReservesInOneCall(t *testing.T) {
	f, s := newReserverFixture(t, false)
	require.NotNil(t, f.v.reserver)
	code := f.instanceWithCode("i-1", "a")
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		req   Request
		retry bool
		err   Reason
	}{
		{"first", request(code, "a", "S"), false, ""},
		{"retry", request(code, "a", "S"), true, ""},
		{"other subject", request(code, "a", "T"), false, ReasonCodeInUse},
		{"stranger", request(code, "b", "S"), false, ReasonCodeNotFound},
	} {
		s.calls.Store(0)
		res, err := f.v.Verify(ctx, tt.req)
		if tt.err != "" {
			requireReason(t, err, ErrServiceCodeInvalid, tt.err)
		} else {
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.retry, res.Retry, tt.name)
			assert.Equal(t, 1, res.Used, tt.name)
		}
		assert.Equal(t, int32(1), s.calls.Load(), "%s: one call", tt.name)
	}
	assert.Zero(t, s.reserves.Load(), "Reserve is never called")

	// Check reads; it does not reserve.
	s.calls.Store(0)
	_, err := f.v.Check(ctx, request(f.issue("i-1", "a"), "a", "U"))
	require.NoError(t, err)
	assert.Zero(t, s.calls.Load())
}

// TestVerifyReserverStricterThanRules: where the store's guard does not
// hold but the rules allow, the Verifier reserves with Reserve; at the
// boundaries of Policy.MinRemaining, the guard is the stricter.
func TestVerifyReserverStricterThanRules(t *testing.T) {
	pol := DefaultPolicy(ProductECS)
	pol.MinRemaining = 30 * 24 * time.Hour
	f, s := newReserverFixture(t, false, WithPolicy(ProductECS, pol))
	code := f.instanceWithCode("i-1", "a") // expires at t0 + 1 year
	f.clock.Set(t0.AddDate(1, 0, -30))     // exactly 30 days left
	res, err := f.v.Verify(context.Background(), request(code, "a", "S"))
	require.NoError(t, err)
	assert.False(t, res.Retry)
	assert.Equal(t, int32(1), s.calls.Load())
	assert.Equal(t, int32(1), s.reserves.Load(), "reserved by Reserve after the guard declined")
}

// TestVerifyReserverLooserThanRules: a store that reserves whatever the
// guard gets its reservation released when the rules refuse the code.
func TestVerifyReserverLooserThanRules(t *testing.T) {
	ctx := context.Background()
	f, _ := newReserverFixture(t, true)
	code := f.instanceWithCode("i-1", "a")
	require.NoError(t, f.v.RevokeServiceCode(ctx, code))
	_, err := f.v.Verify(ctx, request(code, "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeRevoked)
	_, err = f.store.Reservation(ctx, code)
	require.ErrorIs(t, err, ErrNotFound, "released")
	assert.Zero(t, f.used("i-1"))
}

// TestVerifyReserverFailure: a store failure of ReserveServiceCode is a
// failure, not a refusal, even if it wraps ErrNotFound in its text only;
// ErrNotFound itself is a code that does not exist.
func TestVerifyReserverFailure(t *testing.T) {
	ctx := context.Background()
	f, s := newReserverFixture(t, false)
	code := f.instanceWithCode("i-1", "a")
	s.fail = errors.New("connection reset")
	_, err := f.v.Verify(ctx, request(code, "a", "S"))
	require.ErrorIs(t, err, s.fail)
	assert.Nil(t, asError(err))

	// The store holds the inventory too: a code it does not hold does
	// not exist.
	s.fail = ErrNotFound
	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	assert.Zero(t, s.reserves.Load())
	assert.Zero(t, f.used("i-1"))
}
