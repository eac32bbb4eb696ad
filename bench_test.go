package icpverify

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/text/language"
)

// BenchmarkVerifyRetry verifies a subject that already holds its slot: the
// path of a client that retries.
func BenchmarkVerifyRetry(b *testing.B) {
	f := newFixture(b)
	code := f.instanceWithCode("i-1", "a")
	req := request(code, "a", "Subject")
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
}

// BenchmarkVerifyFirst verifies a fresh code on an instance with free
// slots: the reservation itself. Each iteration gets its own instance and
// code, made before the timer runs.
func BenchmarkVerifyFirst(b *testing.B) {
	f := newFixture(b)
	reqs := make([]Request, 0, 1<<16)
	next := 0
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if next == len(reqs) {
			b.StopTimer()
			reqs = reqs[:0]
			for i := range cap(reqs) {
				id := fmt.Sprintf("i-%d-%d", next, i)
				reqs = append(reqs, request(f.instanceWithCode(id, "a"), "a", "Subject"))
			}
			next = 0
			b.StartTimer()
		}
		res, err := f.v.Verify(ctx, reqs[next])
		if err != nil || res.Retry {
			b.Fatal(err, res.Retry)
		}
		next++
	}
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

func BenchmarkValidServiceCodeFormat(b *testing.B) {
	code := mustCode(b)
	b.ReportAllocs()
	for b.Loop() {
		if !ValidServiceCodeFormat(code) {
			b.Fatal("refused")
		}
	}
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
