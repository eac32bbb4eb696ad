package storetest

import (
	"crypto/rand"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/icpfiling/icpverify"
)

// Benchmark measures the hot paths of the stores newStore returns. Each
// sub-benchmark calls newStore and loads its data before it starts the
// timer, runs its operations from parallel goroutines (b.RunParallel) and
// reports allocations (b.ReportAllocs):
//
//   - Reserve/First: the first reservation of a fresh subject, with a code
//     issued beforehand, spread over 256 instances; every call is Reserved.
//   - Reserve/Held: a retry of one of 1024 existing reservations on 256
//     instances; every call is Held.
//   - ServiceCode: a lookup of one of 1024 stored codes.
//   - Instance: a lookup of one of 256 stored instances.
//
// Reservations are made for 1024 accounts. Keys are made before the timer
// starts, so the allocations reported are the store's own.
//
// newStore is called once per run of a sub-benchmark, and the testing
// package runs each several times while it picks b.N. Reserve/First stores
// b.N codes before its timer starts, so a slow store makes its setup long;
// and the store grows by b.N reservations while it is timed, so its ns/op
// includes that growth and rises with b.N. Compare stores at a fixed count,
// as in -benchtime=100000x.
func Benchmark(b *testing.B, newStore func(b *testing.B) Store) {
	b.Helper()
	if newStore == nil {
		b.Fatal("storetest: Benchmark called with a nil newStore")
	}
	b.Run("Reserve", func(b *testing.B) {
		b.Run("First", func(b *testing.B) { benchReserveFirst(b, newStore(b)) })
		b.Run("Held", func(b *testing.B) { benchReserveHeld(b, newStore(b)) })
	})
	b.Run("ServiceCode", func(b *testing.B) { benchServiceCode(b, newStore(b)) })
	b.Run("Instance", func(b *testing.B) { benchInstance(b, newStore(b)) })
}

const (
	benchInstances = 256  // instances the benchmarks spread over
	benchCodes     = 1024 // codes and reservations of the lookups and retries
	benchAccounts  = 1024 // accounts the reservations are made for
	benchWorkers   = 8    // goroutines loading data before the timer starts
)

// benchLimit is a limit of codes or subjects the benchmarks never reach.
const benchLimit = math.MaxInt32

// benchSetup runs load(0), ..., load(n-1) from benchWorkers goroutines and
// stops the benchmark on the first error.
func benchSetup(b *testing.B, n int, load func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for w := range benchWorkers {
		wg.Go(func() {
			for i := w; i < n && failed.Load() == nil; i += benchWorkers {
				if err := load(i); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("storetest: loading the benchmark's data: %v", *err)
	}
}

// benchData is the data a benchmark loads before its timer starts.
type benchData struct {
	accounts  []string // applicants, benchAccounts of them
	instances []string
	codes     []string
}

// loadInstances stores benchInstances instances.
func loadInstances(b *testing.B, s Store) *benchData {
	b.Helper()
	k := newKeys()
	d := &benchData{accounts: make([]string, benchAccounts), instances: make([]string, benchInstances)}
	for i := range d.accounts {
		d.accounts[i] = k.account()
	}
	for i := range d.instances {
		d.instances[i] = k.instance()
	}
	owner := k.account()
	benchSetup(b, len(d.instances), func(i int) error {
		return s.PutInstanceContext(b.Context(), icpverify.Instance{
			ID:         d.instances[i],
			Account:    owner,
			Product:    icpverify.ProductECS,
			Region:     "cn-hangzhou",
			Billing:    icpverify.Subscription,
			TermMonths: 12,
			PublicIP:   "203.0.113.7",
			Status:     icpverify.Running,
			ExpiresAt:  baseTime,
		})
	})
	return d
}

// loadCodes stores n codes, the i-th on instance i mod benchInstances.
func (d *benchData) loadCodes(b *testing.B, s Store, n int) {
	b.Helper()
	g := newCodeGen()
	d.codes = make([]string, n)
	for i := range d.codes {
		d.codes[i] = g.next()
	}
	benchSetup(b, n, func(i int) error {
		_, _, err := s.AddServiceCode(b.Context(), d.reservation(i).serviceCode(), benchLimit)
		return err
	})
}

// benchReservation is the i-th reservation of a benchmark.
type benchReservation icpverify.Reservation

func (r benchReservation) serviceCode() icpverify.ServiceCode {
	return icpverify.ServiceCode{Code: r.Code, Instance: r.Instance, Owner: r.Account, IssuedAt: r.ReservedAt}
}

// reservation returns the reservation of the i-th code, for a subject of its
// own and one of benchAccounts accounts.
func (d *benchData) reservation(i int) benchReservation {
	return benchReservation{
		Code:       d.codes[i],
		Instance:   d.instances[i%len(d.instances)],
		Account:    d.accounts[i%len(d.accounts)],
		Subject:    d.codes[i], // distinct, and no more memory
		SubjectKey: d.codes[i],
		ReservedAt: baseTime,
		// Distinct, and the same for a retry of the code's reservation.
		Application: strings.ReplaceAll(d.codes[i], "-", ""),
	}
}

// counter counts unexpected results in parallel and reports them once.
type counter struct {
	n     atomic.Int64
	first atomic.Pointer[string]
}

func (c *counter) add(msg string) {
	if c.n.Add(1) == 1 {
		c.first.Store(&msg)
	}
}

func (c *counter) report(b *testing.B) {
	b.Helper()
	if n := c.n.Load(); n > 0 {
		b.Errorf("storetest: %d of %d calls went wrong; one: %s", n, b.N, *c.first.Load())
	}
}

func benchReserveFirst(b *testing.B, s Store) {
	d := loadInstances(b, s)
	d.loadCodes(b, s, b.N)
	ctx := b.Context()
	var next atomic.Int64
	var bad counter
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := icpverify.Reservation(d.reservation(int(next.Add(1) - 1)))
			o, _, err := s.Reserve(ctx, r, benchLimit)
			if err != nil || o != icpverify.Reserved {
				bad.add("Reserve = " + outcome(o) + ", error " + errString(err) + "; want Reserved")
			}
		}
	})
	b.StopTimer()
	bad.report(b)
}

func benchReserveHeld(b *testing.B, s Store) {
	d := loadInstances(b, s)
	d.loadCodes(b, s, benchCodes)
	ctx := b.Context()
	benchSetup(b, benchCodes, func(i int) error {
		_, _, err := s.Reserve(ctx, icpverify.Reservation(d.reservation(i)), benchLimit)
		return err
	})
	var bad counter
	var worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			i++
			r := icpverify.Reservation(d.reservation(i % benchCodes))
			o, _, err := s.Reserve(ctx, r, benchLimit)
			if err != nil || o != icpverify.Held {
				bad.add("Reserve = " + outcome(o) + ", error " + errString(err) + "; want Held")
			}
		}
	})
	b.StopTimer()
	bad.report(b)
}

func benchServiceCode(b *testing.B, s Store) {
	d := loadInstances(b, s)
	d.loadCodes(b, s, benchCodes)
	ctx := b.Context()
	var bad counter
	var worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			i++
			code := d.codes[i%benchCodes]
			if sc, err := s.ServiceCode(ctx, code); err != nil || sc.Code != code {
				bad.add("ServiceCode(" + strconv.Quote(code) + ") = " + strconv.Quote(sc.Code) + ", error " + errString(err))
			}
		}
	})
	b.StopTimer()
	bad.report(b)
}

func benchInstance(b *testing.B, s Store) {
	d := loadInstances(b, s)
	ctx := b.Context()
	var bad counter
	var worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			i++
			id := d.instances[i%benchInstances]
			if inst, err := s.Instance(ctx, id); err != nil || inst.ID != id {
				bad.add("Instance(" + strconv.Quote(id) + ") = " + strconv.Quote(inst.ID) + ", error " + errString(err))
			}
		}
	})
	b.StopTimer()
	bad.report(b)
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// codeGen makes distinct canonical service codes fast, for loading
// benchmark data: a random prefix of 10 symbols and a counter of 5. It is
// not safe for concurrent use.
type codeGen struct {
	v [codeSymbols]byte
	n uint32
}

func newCodeGen() *codeGen {
	g := &codeGen{}
	g.draw()
	return g
}

// draw draws a new random prefix and restarts the counter.
func (g *codeGen) draw() {
	var raw [10]byte
	rand.Read(raw[:])
	for i, r := range raw {
		g.v[i] = r & 31
	}
	g.n = 0
}

func (g *codeGen) next() string {
	if g.n == 1<<25 {
		g.draw()
	}
	for i := range 5 {
		g.v[10+i] = byte(g.n>>(5*(4-i))) & 31
	}
	g.n++
	return encodeCode(&g.v)
}
