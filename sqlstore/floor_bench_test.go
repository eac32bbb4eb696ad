package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// floorBatch is the number of calls of each operation in a round of
// BenchmarkFloorRatios: the operations and their floors take turns every
// floorBatch calls, so that a machine whose load changes during the run
// slows them alike.
const floorBatch = 10

// parallelRound is the number of calls the 64 clients make together in a
// round of the throughput measurements of BenchmarkFloorRatios.
const parallelRound = 640

// timed is an operation of BenchmarkFloorRatios and the time its calls
// took in all, one client.
type timed struct {
	name  string
	op    func(ctx context.Context, i int) error
	total time.Duration
	n     int
	// rounds holds the time per call of each round.
	rounds []time.Duration
}

// per returns the mean time per call.
func (t *timed) per() time.Duration { return t.total / time.Duration(max(t.n, 1)) }

// medianRatio returns the median over the rounds of t's time per call
// over f's in the same round.
func (t *timed) medianRatio(f *timed) float64 {
	r := make([]float64, min(len(t.rounds), len(f.rounds)))
	for i := range r {
		r[i] = float64(t.rounds[i]) / float64(f.rounds[i])
	}
	return median(r)
}

// median returns the median of r, which it sorts; 0 if r is empty.
func median(r []float64) float64 {
	if len(r) == 0 {
		return 0
	}
	slices.Sort(r)
	if len(r)%2 == 1 {
		return r[len(r)/2]
	}
	return (r[len(r)/2-1] + r[len(r)/2]) / 2
}

// run times calls i to i+n-1 of t, one after another.
func (t *timed) run(ctx context.Context, b *testing.B, i, n int) {
	start := time.Now()
	for j := i; j < i+n; j++ {
		if err := t.op(ctx, j); err != nil {
			b.Fatalf("%s, call %d: %v", t.name, j, err)
		}
	}
	d := time.Since(start)
	t.total += d
	t.n += n
	t.rounds = append(t.rounds, d/time.Duration(n))
}

// runParallel64 makes calls i to i+n-1 of op from 64 goroutines and
// returns the time they took together.
func runParallel64(ctx context.Context, b *testing.B, op func(ctx context.Context, i int) error, i, n int) time.Duration {
	var next atomic.Int64
	next.Store(int64(i))
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for failed.Load() == nil {
				j := int(next.Add(1) - 1)
				if j >= i+n {
					return
				}
				if err := op(ctx, j); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return d
}

// BenchmarkFloorRatios measures, on each dialect, the store's
// reservations as ratios to their floor on the same pool, the floor's
// calls and the store's taking turns in every round of the run (floorBatch
// calls each, the order turning from round to round), so that the ratios
// hold on a machine whose load changes:
//
//   - first-x-insert: Verify making a first reservation (through
//     ReserveServiceCode, then the lookup that confirms it), per call, over
//     a durable single-row INSERT in autocommit;
//   - retry-x-select1: Verify of an application that holds its
//     reservation already, over SELECT 1;
//   - reserve-x-insert and lookup-x-select1: ReserveServiceCode making a
//     first reservation and LookupServiceCode, the store's calls alone;
//   - par64-of-inserts: first reservations per second by 64 concurrent
//     verifiers, over the INSERTs per second of 64 concurrent clients,
//     parallelRound calls of each in turn.
//
// b.N is the number of calls of each operation, one client, and of each
// parallel one; run it with -benchtime=Nx.
func BenchmarkFloorRatios(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) { benchFloorRatios(b, d) })
	}
}

// floorBench is the set-up of one dialect's BenchmarkFloorRatios.
type floorBench struct {
	s      *sqlstore.Store
	v      *icpverify.Verifier
	insert string // the floor's INSERT
	tag    string // makes the floor's keys unique
	// first, par and direct are requests for first reservations by
	// Verify, one client and 64, and by ReserveServiceCode; retry is
	// reserved already; lookedUp is a reserved code's Result.
	first, par, direct []icpverify.Request
	retry              icpverify.Request
	lookedUp           icpverify.Result
}

// newFloorBench makes a store of d, the floor's table, and the codes of
// n calls of each operation.
func newFloorBench(b *testing.B, d sqlstore.Dialect, n int) *floorBench {
	ctx := context.Background()
	s := newDatabase(b, d).store(b)
	s.DB().SetMaxOpenConns(benchConns)
	s.DB().SetMaxIdleConns(benchConns)
	v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
	fb := &floorBench{s: s, v: v, insert: floorTable(b, d, s), tag: randomName("")}
	fb.first, fb.par, fb.direct = issueCodes(b, s, v, n), issueCodes(b, s, v, n), issueCodes(b, s, v, n+1)
	rand.Shuffle(len(fb.par), func(i, j int) { fb.par[i], fb.par[j] = fb.par[j], fb.par[i] })
	fb.retry = issueCodes(b, s, v, 1)[0]
	if _, err := v.Verify(ctx, fb.retry); err != nil {
		b.Fatal(err)
	}
	var err error
	if fb.lookedUp, err = v.Verify(ctx, fb.direct[n]); err != nil {
		b.Fatal(err)
	}
	return fb
}

// floorInsert is the floor's INSERT of row i.
func (fb *floorBench) floorInsert(ctx context.Context, i int) error {
	_, err := fb.s.DB().ExecContext(ctx, fb.insert, fmt.Sprintf("%s-%d", fb.tag, i), "v")
	return err
}

// verifyFirst returns the operation that makes the first reservation of
// reqs[i] with Verify.
func (fb *floorBench) verifyFirst(reqs []icpverify.Request) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		if res, err := fb.v.Verify(ctx, reqs[i]); err != nil || res.Retry {
			return fmt.Errorf("Verify = %+v, %v; want a first reservation", res, err)
		}
		return nil
	}
}

// ops returns the operations timed one client at a time: the floor's two
// first, whose names reportFloorRatios knows.
func (fb *floorBench) ops(b *testing.B) []*timed {
	guard := icpverify.ReserveGuard{Product: icpverify.ProductECS, ExpiresAfter: time.Now()}
	return []*timed{
		{name: "insert", op: fb.floorInsert},
		{name: "select1", op: func(ctx context.Context, _ int) error {
			var one int
			return fb.s.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one)
		}},
		{name: "first", op: fb.verifyFirst(fb.first)},
		{name: "retry", op: func(ctx context.Context, _ int) error {
			if res, err := fb.v.Verify(ctx, fb.retry); err != nil || !res.Retry {
				return fmt.Errorf("Verify = %+v, %v; want a retry", res, err)
			}
			return nil
		}},
		{name: "reserve", op: func(ctx context.Context, i int) error {
			req := fb.direct[i]
			r := icpverify.Reservation{Code: req.ServiceCode, Account: req.Account, Subject: req.Subject,
				SubjectKey: nameKey(b, req.Subject), Application: newApp()}
			if _, out, err := fb.s.ReserveServiceCode(ctx, r, benchPolicy.SubjectLimit, guard); err != nil || out != icpverify.Reserved {
				return fmt.Errorf("ReserveServiceCode = %v, %v; want Reserved", out, err)
			}
			return nil
		}},
		{name: "lookup", op: func(ctx context.Context, _ int) error {
			_, err := fb.s.LookupServiceCode(ctx, fb.lookedUp.ServiceCode)
			return err
		}},
	}
}

// run makes n calls of each of ops in rounds of floorBatch, and every
// parallelRound calls the throughputs of 64 clients, INSERTs and first
// reservations, in turns. It returns the throughput ratio of each turn.
func (fb *floorBench) run(b *testing.B, ops []*timed, n int) []float64 {
	ctx := context.Background()
	var par []float64
	for round, i := 0, 0; i < n; round, i = round+1, i+floorBatch {
		k := min(floorBatch, n-i)
		for j := range ops {
			ops[(j+round)%len(ops)].run(ctx, b, i, k)
		}
		if i%parallelRound != 0 {
			continue
		}
		m := min(parallelRound, n-i)
		var pi, pf time.Duration
		if (i/parallelRound)%2 == 0 {
			pi = runParallel64(ctx, b, fb.floorInsert, n+i, m)
			pf = runParallel64(ctx, b, fb.verifyFirst(fb.par), i, m)
		} else {
			pf = runParallel64(ctx, b, fb.verifyFirst(fb.par), i, m)
			pi = runParallel64(ctx, b, fb.floorInsert, n+i, m)
		}
		par = append(par, float64(pi)/float64(pf))
	}
	return par
}

// reportFloorRatios reports each operation's mean time and the median
// ratios of BenchmarkFloorRatios.
func reportFloorRatios(b *testing.B, ops []*timed, par []float64) {
	byName := map[string]*timed{}
	for _, t := range ops {
		byName[t.name] = t
		b.ReportMetric(float64(t.per())/float64(time.Microsecond), t.name+"-µs")
	}
	ins, sel := byName["insert"], byName["select1"]
	b.ReportMetric(byName["first"].medianRatio(ins), "first-x-insert")
	b.ReportMetric(byName["reserve"].medianRatio(ins), "reserve-x-insert")
	b.ReportMetric(byName["retry"].medianRatio(sel), "retry-x-select1")
	b.ReportMetric(byName["lookup"].medianRatio(sel), "lookup-x-select1")
	b.ReportMetric(median(par), "par64-of-inserts")
}

// benchFloorRatios is BenchmarkFloorRatios on dialect d.
func benchFloorRatios(b *testing.B, d sqlstore.Dialect) {
	skipUnlessAvailable(b, d)
	fb := newFloorBench(b, d, b.N)
	ops := fb.ops(b)
	b.ResetTimer()
	par := fb.run(b, ops, b.N)
	b.StopTimer()
	reportFloorRatios(b, ops, par)
}
