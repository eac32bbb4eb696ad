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
						Account: account, Subject: fmt.Sprintf("subject-%s-%d", tag, j), SubjectID: certOf(fmt.Sprintf("subject-%s-%d", tag, j))}
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

// floor holds the figures of the floor of one dialect's run of
// BenchmarkStore, which the other figures are reported as ratios to.
type floor struct {
	insert, select1 time.Duration // per call, one client
	insertRate      float64       // INSERTs per second, 64 clients
}

// perOp returns the time per call of a benchmark that made n calls since
// start.
func perOp(start time.Time, n int) time.Duration { return time.Since(start) / time.Duration(max(n, 1)) }

// reportRatios reports d, the time per call, as ratios to the floor's
// durable INSERT and SELECT 1.
func (f *floor) reportRatios(b *testing.B, d time.Duration) {
	if f.insert > 0 {
		b.ReportMetric(float64(d)/float64(f.insert), "x-insert")
	}
	if f.select1 > 0 {
		b.ReportMetric(float64(d)/float64(f.select1), "x-select1")
	}
}

// floorTable creates the table of the floor's INSERTs and returns the
// INSERT, in the dialect's placeholders.
func floorTable(b *testing.B, d sqlstore.Dialect, s *sqlstore.Store) string {
	ddl := `CREATE TABLE bench_floor (id VARCHAR(64) NOT NULL PRIMARY KEY, v VARCHAR(64) NOT NULL)`
	if _, err := s.DB().Exec(ddl); err != nil {
		b.Fatal(err)
	}
	if d == sqlstore.Postgres {
		return `INSERT INTO bench_floor (id, v) VALUES ($1, $2)`
	}
	return `INSERT INTO bench_floor (id, v) VALUES (?, ?)`
}

// parallel64 runs op b.N times from 64 goroutines and returns the calls
// per second.
func parallel64(b *testing.B, op func(i int64) error) float64 {
	var next atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((64 + procs - 1) / procs) // RunParallel starts parallelism × GOMAXPROCS goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(next.Add(1) - 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return float64(b.N) / time.Since(start).Seconds()
}

// benchFloor measures the floor on the store's pool: a durable single-row
// INSERT in autocommit, SELECT 1, and the INSERTs of 64 concurrent clients.
func benchFloor(b *testing.B, d sqlstore.Dialect, s *sqlstore.Store, f *floor) {
	ctx := context.Background()
	insert := floorTable(b, d, s)
	tag := randomName("")
	b.Run("FloorSelect1", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			var one int
			if err := s.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
		f.select1 = perOp(start, b.N)
	})
	b.Run("FloorInsert", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := s.DB().ExecContext(ctx, insert, fmt.Sprintf("s-%s-%d-%d", tag, b.N, i), "v"); err != nil {
				b.Fatal(err)
			}
		}
		f.insert = perOp(start, b.N)
		f.reportRatios(b, f.insert)
	})
	b.Run("FloorInsertParallel64", func(b *testing.B) {
		f.insertRate = parallel64(b, func(i int64) error {
			_, err := s.DB().ExecContext(ctx, insert, fmt.Sprintf("p-%s-%d-%d", tag, b.N, i), "v")
			return err
		})
		b.ReportMetric(f.insertRate, "inserts/s")
	})
}

// BenchmarkStore measures, on each dialect, the floor (a durable
// single-row INSERT in autocommit, SELECT 1, and the INSERTs of 64
// concurrent clients, on the store's pool), then Verify for a retry and
// for a first reservation, and the throughput of 64 concurrent verifiers
// making first reservations, each reported as ratios to the floor too:
// x-insert and x-select1 per call, of-inserts for the throughput.
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
			var fl floor
			benchFloor(b, d, s, &fl)
			// Through ReserveServiceCode (one round trip), and, for
			// comparison, through the plain calls of the two
			// interfaces, as the store is used beside another
			// InstanceStore.
			plain := icpverify.New(s, quotasOnly{s}, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
			for _, c := range []struct {
				name string
				v    *icpverify.Verifier
			}{{"VerifyRetry", v}, {"VerifyRetryPlain", plain}} {
				b.Run(c.name, func(b *testing.B) { benchRetry(b, s, c.v, &fl) })
			}
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
						SubjectKey: keyOf(b, req), Application: newApp()}
					for b.Loop() {
						if out, _, err := s.Reserve(ctx, r, benchPolicy.SubjectLimit); err != nil || out != icpverify.Held {
							b.Fatal(out, err)
						}
					}
				})
			})
			for _, c := range []struct {
				name string
				v    *icpverify.Verifier
			}{{"VerifyFirst", v}, {"VerifyFirstPlain", plain}, {"VerifyFirstQuotas", withQuotas(s)}} {
				b.Run(c.name, func(b *testing.B) { benchFirst(b, s, c.v, &fl) })
			}
			b.Run("VerifyFirstParallel64", func(b *testing.B) {
				reqs := issueCodes(b, s, v, b.N)
				// Concurrent verifiers mostly hit different instances.
				rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
				b.ReportAllocs()
				rate := parallel64(b, func(i int64) error {
					if res, err := v.Verify(ctx, reqs[i]); err != nil || res.Retry {
						return fmt.Errorf("Verify = %+v, %v; want a first reservation", res, err)
					}
					return nil
				})
				b.ReportMetric(rate, "verifies/s")
				if fl.insertRate > 0 {
					b.ReportMetric(rate/fl.insertRate, "of-inserts")
				}
			})
		})
	}
}

// withQuotas returns a Verifier on s under a Profile that gives each
// reservation five quotas beside its slot (websites per instance and per
// account, subjects per account, accounts per subject, filings in
// progress), none of which issueCodes' requests fill.
func withQuotas(s *sqlstore.Store) *icpverify.Verifier {
	pol := benchPolicy
	pol.WebsitesPerInstance, pol.WebsitesPerAccount = 5, 5
	return icpverify.New(s, s, icpverify.WithProfile(icpverify.Profile{
		Policies:           map[icpverify.ProductType]icpverify.Policy{icpverify.ProductECS: pol},
		SubjectsPerAccount: 5, AccountsPerSubject: 1, FilingsInProgress: 5,
	}))
}

// benchRetry measures a retried Verify of v.
func benchRetry(b *testing.B, s *sqlstore.Store, v *icpverify.Verifier, fl *floor) {
	ctx := context.Background()
	req := issueCodes(b, s, v, 1)[0]
	if _, err := v.Verify(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res, err := v.Verify(ctx, req)
		if err != nil || !res.Retry {
			b.Fatalf("Verify = %+v, %v; want a retry", res, err)
		}
	}
	fl.reportRatios(b, perOp(start, b.N))
}

// benchFirst measures a first reservation by v's Verify.
func benchFirst(b *testing.B, s *sqlstore.Store, v *icpverify.Verifier, fl *floor) {
	ctx := context.Background()
	reqs := issueCodes(b, s, v, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		res, err := v.Verify(ctx, reqs[i])
		if err != nil || res.Retry {
			b.Fatalf("Verify = %+v, %v; want a first reservation", res, err)
		}
	}
	fl.reportRatios(b, perOp(start, b.N))
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

// quotasOnly is the store as a QuotaStore alone: beside the store as the
// InstanceStore, the Verifier reads codes and instances with ServiceCode
// and Instance and reserves with Reserve.
type quotasOnly struct{ icpverify.QuotaStore }
