package icpotel_test

import (
	"context"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icpotel"
)

// BenchmarkVerifyRetry measures what icpotel adds to a Verify that is a
// retry, the cheapest operation, on a MemoryStore: without an observer;
// with New on the no-op providers; with New on the global providers while
// none is set (their stand-ins, which forward to nothing); and with New on
// the SDK's providers, every span sampled and handed to a batch processor
// whose exporter drops it, the metrics aggregated by a reader never read;
// and with the SDK's tracer or its meter alone.
// To compare them, run each sub-benchmark in turn several times (-count 1
// in a loop) and compare with benchstat, or see BenchmarkOverhead.
func BenchmarkVerifyRetry(b *testing.B) {
	for _, bm := range observers() {
		b.Run(bm.name, func(b *testing.B) {
			v, req := retryVerifier(b, bm.obs(b))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOverhead measures what each observer of BenchmarkVerifyRetry
// adds to a retry, as "ns-over-none/op": it alternates batches of retries
// on a Verifier with the observer and on one without, and reports the
// difference of their times, which the load of a shared machine changes
// less than it changes either. Its ns/op is the time of a batch of 64
// retries on each.
func BenchmarkOverhead(b *testing.B) {
	const batch = 64
	for _, bm := range observers()[1:] {
		b.Run(bm.name, func(b *testing.B) {
			none, noneReq := retryVerifier(b, icpverify.Observer{})
			observed, observedReq := retryVerifier(b, bm.obs(b))
			reqs := []icpverify.Request{noneReq, observedReq}
			ctx := context.Background()
			var spent [2]time.Duration
			n := 0
			for b.Loop() {
				for i, v := range []*icpverify.Verifier{none, observed} {
					start := time.Now()
					for range batch {
						if _, err := v.Verify(ctx, reqs[i]); err != nil {
							b.Fatal(err)
						}
					}
					spent[i] += time.Since(start)
				}
				n += batch
			}
			b.ReportMetric(float64(spent[1]-spent[0])/float64(n), "ns-over-none/op")
		})
	}
}

// retryVerifier returns a Verifier observed by obs on a MemoryStore, with
// a fixed clock, and a request it verified once already.
func retryVerifier(b *testing.B, obs icpverify.Observer) (*icpverify.Verifier, icpverify.Request) {
	s := newStore()
	code := seed(b, s, "i-1")[0]
	v := icpverify.New(s, s, icpverify.WithClock(func() time.Time { return t0 }), icpverify.WithObserver(obs))
	req := request(code)
	if _, err := v.Verify(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	return v, req
}

// benchObserver is an observer of the benchmarks, made for each.
type benchObserver struct {
	name string
	obs  func(*testing.B) icpverify.Observer
}

// observers returns the observers of the benchmarks: none, then New on the
// no-op providers, on the global providers while none is set, and on the
// SDK's (tracer and meter, tracer alone, meter alone).
func observers() []benchObserver {
	sdk := func(traces, metrics bool) func(b *testing.B) icpverify.Observer {
		return func(b *testing.B) icpverify.Observer {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			opts := []icpotel.Option{icpotel.WithTracerProvider(tracenoop.NewTracerProvider()), icpotel.WithMeterProvider(metricnoop.NewMeterProvider())}
			if traces {
				opts = append(opts, icpotel.WithTracerProvider(tp))
			}
			if metrics {
				opts = append(opts, icpotel.WithMeterProvider(mp))
			}
			return icpotel.New(opts...)
		}
	}
	return []benchObserver{
		{"none", func(*testing.B) icpverify.Observer { return icpverify.Observer{} }},
		{"noop", func(*testing.B) icpverify.Observer {
			return icpotel.New(icpotel.WithTracerProvider(tracenoop.NewTracerProvider()),
				icpotel.WithMeterProvider(metricnoop.NewMeterProvider()))
		}},
		{"global-unset", func(*testing.B) icpverify.Observer { return icpotel.New() }},
		{"sdk", sdk(true, true)},
		{"sdk-traces", sdk(true, false)},
		{"sdk-metrics", sdk(false, true)},
	}
}
