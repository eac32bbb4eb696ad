package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/storetest"
)

// benchConns bounds the pools of the benchmarks: the 64 concurrent
// verifiers share 40 connections, within PostgreSQL's default
// max_connections of 100 shared with other clients.
const benchConns = 40

// benchPolicy is ECS's default policy with a code limit the benchmarks
// never reach, so that one instance can issue the codes of many subjects.
var benchPolicy = func() icpverify.Policy {
	p := icpverify.DefaultPolicy(icpverify.ProductECS)
	p.CodeLimit = 1 << 30
	return p
}()

// eligible returns an instance that can issue codes.
func eligible(id, account string) icpverify.Instance {
	return icpverify.Instance{
		ID: id, Account: account, Product: icpverify.ProductECS, Region: "cn-hangzhou",
		Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.7",
		Status: icpverify.Running, ExpiresAt: time.Now().AddDate(1, 0, 0),
	}
}

// issueCodes stores instances of 5 subjects each and issues n codes, 5 on
// each instance, from 8 goroutines. It returns the requests that verify
// them, each for its own subject.
func issueCodes(b testing.TB, s *sqlstore.Store, v *icpverify.Verifier, n int) []icpverify.Request {
	b.Helper()
	ctx := context.Background()
	tag := randomName("")
	reqs := make([]icpverify.Request, n)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < (n+4)/5 && failed.Load() == nil; i += workers {
				account := fmt.Sprintf("acct-%s-%d", tag, i)
				id := fmt.Sprintf("i-%s-%d", tag, i)
				if err := s.PutInstanceContext(ctx, eligible(id, account)); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				for j := i * 5; j < min(n, i*5+5); j++ {
					code, err := v.IssueServiceCode(ctx, id, account)
					if err != nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					reqs[j] = icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
						Account: account, Subject: fmt.Sprintf("subject-%s-%d", tag, j)}
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("issuing codes: %v", *err)
	}
	return reqs
}

// BenchmarkStore measures, on each dialect, a bare SELECT 1 on the store's
// pool, Verify for a retry and for a first reservation, and the throughput
// of 64 concurrent verifiers making first reservations.
func BenchmarkStore(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			skipUnlessAvailable(b, d)
			db := newDatabase(b, d)
			s := db.store(b)
			s.DB().SetMaxOpenConns(benchConns)
			s.DB().SetMaxIdleConns(benchConns)
			v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
			ctx := context.Background()

			b.Run("Select1", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var one int
					if err := s.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("VerifyRetry", func(b *testing.B) {
				req := issueCodes(b, s, v, 1)[0]
				if _, err := v.Verify(ctx, req); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					res, err := v.Verify(ctx, req)
					if err != nil || !res.Retry {
						b.Fatalf("Verify = %+v, %v; want a retry", res, err)
					}
				}
			})
			// The three calls of a retried Verify, one by one.
			b.Run("Calls", func(b *testing.B) {
				req := issueCodes(b, s, v, 1)[0]
				res, err := v.Verify(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				b.Run("ServiceCode", func(b *testing.B) {
					for b.Loop() {
						if _, err := s.ServiceCode(ctx, res.ServiceCode); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("Instance", func(b *testing.B) {
					for b.Loop() {
						if _, err := s.Instance(ctx, res.Instance); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("ReserveHeld", func(b *testing.B) {
					r := icpverify.Reservation{Code: res.ServiceCode, Instance: res.Instance, Account: req.Account, Subject: req.Subject,
						SubjectKey: nameKey(b, req.Subject)}
					for b.Loop() {
						if out, _, err := s.Reserve(ctx, r, benchPolicy.SubjectLimit); err != nil || out != icpverify.Held {
							b.Fatal(out, err)
						}
					}
				})
			})
			b.Run("VerifyFirst", func(b *testing.B) {
				reqs := issueCodes(b, s, v, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					res, err := v.Verify(ctx, reqs[i])
					if err != nil || res.Retry {
						b.Fatalf("Verify = %+v, %v; want a first reservation", res, err)
					}
				}
			})
			b.Run("VerifyFirstParallel64", func(b *testing.B) {
				reqs := issueCodes(b, s, v, b.N)
				// Concurrent verifiers mostly hit different instances.
				rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
				var next atomic.Int64
				b.ReportAllocs()
				// RunParallel starts parallelism × GOMAXPROCS goroutines.
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((64 + procs - 1) / procs)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := reqs[next.Add(1)-1]
						if res, err := v.Verify(ctx, req); err != nil || res.Retry {
							b.Errorf("Verify = %+v, %v; want a first reservation", res, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifies/s")
			})
		})
	}
}

// BenchmarkConformance runs storetest.Benchmark on each dialect, each
// sub-benchmark on a fresh database.
func BenchmarkConformance(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			skipUnlessAvailable(b, d)
			storetest.Benchmark(b, func(b *testing.B) storetest.Store {
				s := newDatabase(b, d).store(b)
				s.DB().SetMaxOpenConns(benchConns)
				s.DB().SetMaxIdleConns(benchConns)
				return s
			})
		})
	}
}
