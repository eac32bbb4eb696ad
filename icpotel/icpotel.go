package icpotel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/icpfiling/icpverify"
)

// ScopeName is the instrumentation scope of the tracer and the meter that
// New takes from its providers.
const ScopeName = "github.com/icpfiling/icpverify/icpotel"

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider makes New take its tracer from tp instead of the
// global TracerProvider (otel.GetTracerProvider). A nil tp is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithMeterProvider makes New take its meter from mp instead of the global
// MeterProvider (otel.GetMeterProvider). A nil mp is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// New returns an Observer that traces and measures the operations of a
// Verifier, for icpverify.WithObserver: a span per operation and the
// metrics described in the package documentation. It takes the tracer and
// the meter of the global providers as they are when it is called (those
// that otel.SetTracerProvider and otel.SetMeterProvider set, or the
// global ones' stand-ins, which forward to them once they are set), unless
// WithTracerProvider or WithMeterProvider gives others.
//
// A provider of the OpenTelemetry no-op packages (trace/noop,
// metric/noop) is left out altogether: with both, New returns the zero
// Observer, which costs a Verifier nothing.
func New(opts ...Option) icpverify.Observer {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	o := &observer{}
	if !isNoop(c.tp) {
		o.tracer = c.tp.Tracer(ScopeName)
	}
	if !isNoop(c.mp) {
		o.meter = newInstruments(c.mp.Meter(ScopeName))
	}
	switch {
	case o.tracer != nil:
		return icpverify.Observer{Start: o.start, End: o.end}
	case o.meter != nil:
		return icpverify.Observer{End: o.end}
	}
	return icpverify.Observer{}
}

// isNoop reports whether p is a provider of the no-op packages.
func isNoop(p any) bool {
	switch p.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider,
		metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return true
	}
	return false
}

// observer is what New's Observer calls: a nil tracer or meter is off.
type observer struct {
	tracer trace.Tracer
	meter  *instruments
}

// start starts the span of an operation op, a child of ctx's span, and
// returns the context that carries it.
func (o *observer) start(ctx context.Context, op icpverify.Op) context.Context {
	ctx, _ = o.tracer.Start(ctx, spanName(op))
	return ctx
}

// end ends the span that start put in ctx, if it records, with the
// Decision's attributes, and records the Decision's metrics.
func (o *observer) end(ctx context.Context, d icpverify.Decision) {
	if o.tracer != nil {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			endSpan(span, &d)
		}
	}
	if o.meter != nil {
		o.meter.record(ctx, &d)
	}
}

// spanName returns the name of the span of an operation op:
// "icpverify.verify" for OpVerify.
func spanName(op icpverify.Op) string {
	switch op {
	case icpverify.OpVerify:
		return "icpverify.verify"
	case icpverify.OpCheck:
		return "icpverify.check"
	case icpverify.OpRelease:
		return "icpverify.release"
	case icpverify.OpComplete:
		return "icpverify.complete"
	case icpverify.OpDeregister:
		return "icpverify.deregister"
	case icpverify.OpIssue:
		return "icpverify.issue"
	case icpverify.OpGrant:
		return "icpverify.grant"
	case icpverify.OpWithdraw:
		return "icpverify.withdraw"
	case icpverify.OpRevoke:
		return "icpverify.revoke"
	case icpverify.OpUngrant:
		return "icpverify.ungrant"
	case icpverify.OpReconcile:
		return "icpverify.reconcile"
	case icpverify.OpExpiring:
		return "icpverify.expiring"
	case icpverify.OpStatus:
		return "icpverify.status"
	case icpverify.OpCodes:
		return "icpverify.codes"
	}
	return "icpverify." + string(op)
}

// spanEnd returns the time the span of an operation that took d ends: its
// start, if the span tells it, plus d, so that the span lasts as long as
// the Decision says; otherwise now.
func spanEnd(span trace.Span, d time.Duration) time.Time {
	if s, ok := span.(interface{ StartTime() time.Time }); ok {
		return s.StartTime().Add(max(d, 0))
	}
	return time.Now()
}
