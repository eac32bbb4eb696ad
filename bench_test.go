package icpverify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify/subject"
)

// BenchmarkVerifyRetry verifies a subject that already holds its slot: the
// path of a client that retries. Sub-benchmarks: without an Observer, with
// one that does nothing (the cost of the audit trail), with the default
// clock, time.Now, instead of the fixture's, with the subject named by its
// certificate (a USCC), and by a Chinese company name with a website.
func BenchmarkVerifyRetry(b *testing.B) {
	nop := Observer{End: func(context.Context, Decision) {}}
	uscc := subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}
	for _, bm := range []struct {
		name string
		opts []Option
		edit func(*Request)
	}{
		{"plain", nil, nil},
		{"observed", []Option{WithObserver(nop)}, nil},
		{"time.Now", []Option{WithClock(time.Now)}, nil},
		{"subject ID", nil, func(r *Request) { r.SubjectID = uscc }},
		{"Chinese name and website", nil, func(r *Request) {
			r.Subject, r.Website = "杭州示例网络科技有限公司", "www.example.com"
		}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			f := newFixture(b, bm.opts...)
			code := f.instanceWithCode("i-1", "a")
			req := request(code, "a", "Subject")
			if bm.edit != nil {
				bm.edit(&req)
			}
			ctx := context.Background()
			if _, err := f.v.Verify(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.v.Verify(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFloor is the floor of a retry on the memory store: two map
// reads of string keys under a read lock, as the store's lookup of a code
// and its reservation were before they shared one entry. A retry's figure
// is worth reading as a multiple of it, measured in the same run.
func BenchmarkFloor(b *testing.B) {
	var mu sync.RWMutex
	codes := map[string]int{"7KQ2-M9XD-4TRB-WH6C": 1}
	reserved := map[string]int{"7KQ2-M9XD-4TRB-WH6C": 2}
	key := strings.Clone("7KQ2-M9XD-4TRB-WH6C")
	n := 0
	for b.Loop() {
		mu.RLock()
		n += codes[key] + reserved[key]
		mu.RUnlock()
	}
	if n == 0 {
		b.Fatal("nothing read")
	}
}

// BenchmarkClock measures the clock the Verifier reads by default: its cost
// on the machine at hand bounds what any Verify with the default clock can
// reach.
func BenchmarkClock(b *testing.B) {
	var t time.Time
	for b.Loop() {
		t = time.Now()
	}
	_ = t
}

// BenchmarkVerifyFirst verifies fresh codes on instances with free slots:
// the reservation itself. A pool of 1024 instances, each of its own account
// with five codes (the code limit), is reserved code by code; when it is
// used up, it is released with the timer stopped and used again. The store's
// maps so stay at their working size, as in a long-running backend; see
// BenchmarkVerifyFirstGrowing for a store that grows on every call.
func BenchmarkVerifyFirst(b *testing.B) {
	benchmarkFirst(b, newFixture(b))
}

// BenchmarkVerifyFirstQuotas is BenchmarkVerifyFirst under a Profile whose
// limits give each reservation five quotas beside its slot (websites per
// instance and per account, subjects per account, accounts per subject,
// filings in progress), none of which the pool fills. The Verifier then
// reads the code before it reserves, in two calls.
func BenchmarkVerifyFirstQuotas(b *testing.B) {
	pol := DefaultPolicy(ProductECS)
	pol.WebsitesPerInstance, pol.WebsitesPerAccount = 5, 5
	benchmarkFirst(b, newFixture(b, WithProfile(Profile{
		Policies:           map[ProductType]Policy{ProductECS: pol},
		SubjectsPerAccount: 5, AccountsPerSubject: 1, FilingsInProgress: 5,
	})))
}

// benchmarkFirst runs BenchmarkVerifyFirst on f.
func benchmarkFirst(b *testing.B, f *fixture) {
	reqs := firstRequests(f, 1024*5)
	apps := make([]string, len(reqs))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(reqs)
		if k == 0 && i > 0 {
			b.StopTimer()
			for _, app := range apps {
				if err := f.v.Release(ctx, app); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		res, err := f.v.Verify(ctx, reqs[k])
		if err != nil || res.Retry {
			b.Fatal(err, res.Retry)
		}
		apps[k] = res.Application
	}
}

// BenchmarkVerifyFirstGrowing verifies b.N fresh codes on b.N/5 instances,
// so that every call adds to the store's maps, which grow all the time.
func BenchmarkVerifyFirstGrowing(b *testing.B) {
	f := newFixture(b)
	reqs := firstRequests(f, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := f.v.Verify(ctx, reqs[i])
		if err != nil || res.Retry {
			b.Fatal(err, res.Retry)
		}
	}
}

// firstRequests makes n requests for fresh codes, five on each instance,
// each instance of its own account.
func firstRequests(f *fixture, n int) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		id, acct := fmt.Sprint("i-", i/5), fmt.Sprint("acct-", i/5)
		if i%5 == 0 {
			f.put(ecs(id, acct))
		}
		reqs[i] = request(f.issue(id, acct), acct, fmt.Sprint("subject ", i))
	}
	return reqs
}

// BenchmarkVerifyParallel runs retries over many instances from every
// core; it scales only if the store does not serialize on one lock.
func BenchmarkVerifyParallel(b *testing.B) {
	f := newFixture(b)
	const n = 1024
	reqs := make([]Request, n)
	ctx := context.Background()
	for i := range reqs {
		reqs[i] = request(f.instanceWithCode(fmt.Sprint("i-", i), "a"), "a", "Subject")
		if _, err := f.v.Verify(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(7919)
		for pb.Next() {
			i++
			if _, err := f.v.Verify(ctx, reqs[i%n]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLocalize(b *testing.B) {
	err := &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Instance: "i-bp1abc", Used: 5, Limit: 5}
	for _, tag := range []language.Tag{language.English, language.SimplifiedChinese, language.MustParse("zh-TW")} {
		b.Run(tag.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if Localize(err, tag) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}

func BenchmarkMatchLanguage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MatchLanguage("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7")
	}
}
