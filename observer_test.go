package icpverify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector keeps the decisions it observes.
type collector struct {
	mu sync.Mutex
	ds []Decision
}

// observer returns an Observer that keeps each Decision with its code
// masked in its code field, so that tests compare Decisions whole.
func (c *collector) observer() Observer {
	return Observer{End: func(_ context.Context, d Decision) {
		d.code, d.format = d.Code(), nil
		c.mu.Lock()
		c.ds = append(c.ds, d)
		c.mu.Unlock()
	}}
}

func (c *collector) all() []Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Decision(nil), c.ds...)
}

func TestObserverRecordsEveryOperation(t *testing.T) {
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	ctx := context.Background()
	f.put(ecs("i-1", "a"))
	code := f.issue("i-1", "a")
	_, err := f.v.Check(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "a", "agency"))
	app := f.app(code)
	require.NoError(t, f.v.Complete(ctx, app))
	err = f.v.Release(ctx, app)
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeUsed)
	_, err = f.v.Verify(ctx, Request{Product: ProductSLB, ServiceCode: code, Account: "a", Subject: "S"})
	require.Error(t, err)

	ds := c.all()
	require.Len(t, ds, 7)
	masked := codeformat.Mask(nil, code)
	want := []Decision{
		{Op: OpIssue, Account: "a", Instance: "i-1", Product: ProductECS, code: masked, Verdict: Passed},
		{Op: OpCheck, Account: "a", Subject: "S", Instance: "i-1", Product: ProductECS, code: masked, Verdict: Passed, Used: 0, Limit: 5},
		{Op: OpVerify, Account: "a", Subject: "S", Application: app, Instance: "i-1", Product: ProductECS, code: masked, Verdict: Passed, Used: 1, Limit: 5},
		{Op: OpGrant, Account: "a", Grantee: "agency", Instance: "i-1", code: masked, Verdict: Passed},
		{Op: OpComplete, Holder: "a", Subject: "S", Application: app, Instance: "i-1", code: masked, Verdict: Passed},
		{Op: OpRelease, Holder: "a", Subject: "S", Application: app, Instance: "i-1", code: masked, Verdict: Refused, Reason: ReasonCodeUsed},
		{Op: OpVerify, Account: "a", Subject: "S", Product: ProductSLB, code: masked, Verdict: Refused, Reason: ReasonProductNotFileable},
	}
	for i, d := range ds {
		assert.Equal(t, t0, d.Time, "decision %d", i)
		assert.Zero(t, d.Duration, "the fixture's clock stands still")
		assert.Equal(t, want[i].Verdict == Passed, d.Err == nil, "decision %d", i)
		d.Time, d.Err = time.Time{}, nil
		assert.Equal(t, want[i], d, "decision %d", i)
		assert.NotContains(t, d.code, code[5:14], "the code is masked")
	}
}

func TestObserverFailedAndHostileInput(t *testing.T) {
	c := &collector{}
	f := newFixture(t, WithObserver(c.observer()))
	mem := f.store
	s := &failingStore{MemoryStore: mem, err: errors.New("boom"), fail: map[string]bool{"ServiceCode": true}}
	v := New(s, s, WithClock(f.clock.Now), WithObserver(c.observer()))
	code := mustCode(t)
	huge := strings.Repeat("\xff", 1<<20)
	_, err := v.Verify(context.Background(), request(code, "a", "S"))
	require.Error(t, err)
	_, err = v.Verify(context.Background(), Request{Product: ProductECS, ServiceCode: huge, Account: huge, Subject: huge})
	require.Error(t, err)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, v.Release(cancelled, code), context.Canceled)

	ds := c.all()
	require.Len(t, ds, 3)
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Verdict: Failed, Err: context.Canceled}, ds[2],
		"what was typed as an application is not recorded: it might be a code")
	assert.Equal(t, Failed, ds[0].Verdict)
	assert.ErrorContains(t, ds[0].Err, "boom")
	assert.Equal(t, Refused, ds[1].Verdict)
	assert.Equal(t, "****", ds[1].code)
	assert.LessOrEqual(t, len(ds[1].Account), maxField+3)
	assert.LessOrEqual(t, len(ds[1].Subject), maxField+3)
}

func TestObserverDeliversEveryDecision(t *testing.T) {
	// N goroutines of M operations each deliver exactly N*M decisions, on
	// the calling goroutine, before the operation returns.
	const goroutines, ops = 16, 500
	var delivered atomic.Int64
	f := newFixture(t, WithObserver(Observer{End: func(context.Context, Decision) { delivered.Add(1) }}))
	code := f.instanceWithCode("i-1", "a") // one decision
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range ops {
				before := delivered.Load()
				var err error
				if i%2 == 0 {
					_, err = f.v.Verify(ctx, request(code, "a", "S"))
				} else {
					_, err = f.v.Check(ctx, request(code, "a", fmt.Sprint("other ", g)))
					if errors.Is(err, ErrServiceCodeInvalid) {
						err = nil
					}
				}
				if err != nil {
					t.Errorf("operation: %v", err)
					return
				}
				if delivered.Load() <= before {
					t.Errorf("the decision was not delivered before the operation returned")
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(goroutines*ops+1), delivered.Load())
}

func TestObserverPanics(t *testing.T) {
	var calls atomic.Int64
	f := newFixture(t, WithObserver(Observer{
		Start: func(context.Context, Op) context.Context { panic("observer bug") },
		End: func(context.Context, Decision) {
			calls.Add(1)
			panic("observer bug")
		},
	}))
	code := f.instanceWithCode("i-1", "a")
	for i := range 3 {
		res, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		assert.Equal(t, i > 0, res.Retry)
	}
	_, err := f.v.Verify(context.Background(), request(code, "b", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	assert.Equal(t, int64(5), calls.Load(), "an issue and four verifies, each observed")
}

func TestNoObserver(t *testing.T) {
	f := newFixture(t, WithObserver(Observer{}))
	assert.False(t, f.v.observed())
	code := f.instanceWithCode("i-1", "a")
	_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
	require.NoError(t, err)
}

func TestSlogObserver(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	f := newFixture(t, WithObserver(SlogObserver(logger)))
	code := f.instanceWithCode("i-1", "a")
	fill(f, "i-1", 5)
	_, err := f.v.Verify(context.Background(), request(code, "a", "Subject 甲"))
	requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec))
	assert.Equal(t, "icpverify decision", rec["msg"])
	assert.Equal(t, "INFO", rec["level"])
	for k, v := range map[string]any{
		"op": "verify", "account": "a", "subject": "Subject 甲", "instance": "i-1",
		"product": "ecs", "code": codeformat.Mask(nil, code), "verdict": "refused",
		"reason": "quota_reached", "used": 5.0, "limit": 5.0, "decided_at": t0.Format(time.RFC3339Nano),
		"duration": 0.0,
	} {
		assert.Equal(t, v, rec[k], k)
	}
	assert.Contains(t, rec["error"], "quota_reached")
	assert.NotContains(t, buf.String(), code, "the full code is never logged")

	// A failure logs at level Error; a nil logger logs nothing.
	buf.Reset()
	SlogObserver(logger).End(context.Background(), Decision{Op: OpVerify, Verdict: Failed, Err: errors.New("db down")})
	assert.Contains(t, buf.String(), `"level":"ERROR"`)
	assert.Equal(t, Observer{}, SlogObserver(nil))
}

func TestSecondObserverReplacesFirst(t *testing.T) {
	first, second := &collector{}, &collector{}
	f := newFixture(t, WithObserver(first.observer()), WithObserver(second.observer()))
	f.instanceWithCode("i-1", "a")
	assert.Empty(t, first.all())
	assert.Len(t, second.all(), 1)
}

func TestDecisionDuration(t *testing.T) {
	// A clock that moves a second at every reading: Verify reads it when
	// it starts and when it ends.
	var ticks atomic.Int64
	tick := func() time.Time { return t0.Add(time.Duration(ticks.Add(1)) * time.Second) }
	c := &collector{}
	store := NewMemoryStore()
	require.NoError(t, store.PutInstanceContext(context.Background(), ecs("i-1", "a")))
	v := New(store, store, WithClock(tick), WithObserver(c.observer()))
	_, err := v.Verify(context.Background(), request(mustCode(t), "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	ds := c.all()
	require.Len(t, ds, 1)
	assert.Equal(t, t0.Add(time.Second), ds[0].Time)
	assert.Equal(t, time.Second, ds[0].Duration)
}

// opKey is the context key under which the observer of
// TestObserverStartContext puts the operation it started.
type opKey struct{}

// ctxStore is a memory store that records the operation it finds in the
// context of each call that writes or releases.
type ctxStore struct {
	MemoryStore
	mu   sync.Mutex
	seen []any
}

func (s *ctxStore) note(ctx context.Context) {
	s.mu.Lock()
	s.seen = append(s.seen, ctx.Value(opKey{}))
	s.mu.Unlock()
}

func (s *ctxStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	s.note(ctx)
	return s.MemoryStore.ReserveServiceCode(ctx, r, limit, g)
}

func (s *ctxStore) RevokeServiceCode(ctx context.Context, code string) error {
	s.note(ctx)
	return s.MemoryStore.RevokeServiceCode(ctx, code)
}

func (s *ctxStore) Release(ctx context.Context, r Reservation) (Reservation, error) {
	s.note(ctx)
	return s.MemoryStore.Release(ctx, r)
}

func TestObserverStartContext(t *testing.T) {
	// Start and End come in pairs, a release the Verifier makes by itself
	// nested in the operation that made it; the stores and End get the
	// context Start returned.
	s := &ctxStore{MemoryStore: NewMemoryStore()}
	var mu sync.Mutex
	var started, ended []Op
	var open int
	v := New(s, s, WithClock(newClock(t0).Now), WithObserver(Observer{
		Start: func(ctx context.Context, op Op) context.Context {
			mu.Lock()
			defer mu.Unlock()
			started = append(started, op)
			open++
			return context.WithValue(ctx, opKey{}, op)
		},
		End: func(ctx context.Context, d Decision) {
			mu.Lock()
			defer mu.Unlock()
			ended = append(ended, d.Op)
			open--
			assert.Equal(t, d.Op, ctx.Value(opKey{}), "End gets the context of its own Start")
		},
	}))
	ctx := context.Background()
	require.NoError(t, s.PutInstanceContext(ctx, ecs("i-1", "a")))
	code, err := v.IssueServiceCode(ctx, "i-1", "a")
	require.NoError(t, err)
	_, err = v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	require.NoError(t, v.RevokeServiceCode(ctx, code))

	assert.Equal(t, []Op{OpIssue, OpVerify, OpRevoke, OpRelease}, started)
	assert.Equal(t, []Op{OpIssue, OpVerify, OpRelease, OpRevoke}, ended, "the release ends within the revocation")
	assert.Zero(t, open)
	assert.Equal(t, []any{OpVerify, OpRevoke, OpRelease}, s.seen, "each store call runs in its operation's context")
}

// goneQuotas is a QuotaStore whose Release finds nothing to release, as
// when a racer released the reservation first.
type goneQuotas struct{ MemoryStore }

func (goneQuotas) Release(context.Context, Reservation) (Reservation, error) {
	return Reservation{}, ErrNotFound
}

func TestNestedReleaseOfNothing(t *testing.T) {
	// A release the Verifier makes by itself that finds the reservation
	// gone is still a Decision, so that Start and End pair: refused as
	// not_reserved, with the cause it was made for.
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	_, err := f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	c := &collector{}
	v := New(f.store, goneQuotas{f.store}, WithClock(f.clock.Now), WithObserver(c.observer()))
	require.NoError(t, v.RevokeServiceCode(ctx, code))
	ds := c.all()
	require.Len(t, ds, 2)
	assert.Equal(t, OpRelease, ds[0].Op)
	assert.Equal(t, Refused, ds[0].Verdict)
	assert.Equal(t, ReasonNotReserved, ds[0].Reason)
	assert.Equal(t, ReasonCodeRevoked, ds[0].Cause)
	assert.Equal(t, OpRevoke, ds[1].Op)
	assert.Equal(t, Passed, ds[1].Verdict)
}
