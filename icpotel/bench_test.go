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
// in a loop) and compare with benchstat.
func BenchmarkVerifyRetry(b *testing.B) {
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
	for _, bm := range []struct {
		name string
		obs  func(*testing.B) icpverify.Observer
	}{
		{"none", func(*testing.B) icpverify.Observer { return icpverify.Observer{} }},
		{"noop", func(*testing.B) icpverify.Observer {
			return icpotel.New(icpotel.WithTracerProvider(tracenoop.NewTracerProvider()),
				icpotel.WithMeterProvider(metricnoop.NewMeterProvider()))
		}},
		{"global-unset", func(*testing.B) icpverify.Observer { return icpotel.New() }},
		{"sdk", sdk(true, true)},
		{"sdk-traces", sdk(true, false)},
		{"sdk-metrics", sdk(false, true)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			s := newStore()
			code := seed(b, s, "i-1")[0]
			v := icpverify.New(s, s, icpverify.WithClock(func() time.Time { return t0 }),
				icpverify.WithObserver(bm.obs(b)))
			req := request(code)
			ctx := context.Background()
			if _, err := v.Verify(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
