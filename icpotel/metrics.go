package icpotel

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/icpfiling/icpverify"
)

// The metrics' names, after OpenTelemetry's semantic-convention guidelines.
const (
	metricDecisions   = "icpverify.decisions"
	metricDuration    = "icpverify.operation.duration"
	metricUtilization = "icpverify.subject_slot.utilization"
)

// durationBounds are the bucket boundaries, in seconds, of the duration
// histogram: from 50 µs, an operation on a MemoryStore, to 10 s.
var durationBounds = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// utilizationBounds are the bucket boundaries of the utilization
// histogram: fifths of the limit, so that under the default limit of 5
// subjects each count of slots in use has a bucket of its own, and a count
// over the limit (the limit lowered below what is held) falls past 1.
var utilizationBounds = []float64{0.2, 0.4, 0.6, 0.8, 1}

// instruments are the meter's instruments, and the attribute sets they
// were given, kept for reuse.
type instruments struct {
	decisions   metric.Int64Counter
	duration    metric.Float64Histogram
	utilization metric.Float64Histogram
	cache       sync.Map // setKey → *attrSets
	nsets       atomic.Int64
}

// newInstruments makes the instruments of m. An error (there is none for
// these names) goes to otel.Handle; the instrument is then one that does
// nothing, as the API promises.
func newInstruments(m metric.Meter) *instruments {
	var in instruments
	var err error
	in.decisions, err = m.Int64Counter(metricDecisions,
		metric.WithUnit("{decision}"),
		metric.WithDescription("Operations of icpverify Verifiers, by operation, verdict and reason."))
	handle(err)
	in.duration, err = m.Float64Histogram(metricDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the operations of icpverify Verifiers, by the Verifier's clock."),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	handle(err)
	in.utilization, err = m.Float64Histogram(metricUtilization,
		metric.WithUnit("1"),
		metric.WithDescription("Subject slots in use on the instance verified, as a fraction of its limit, as Verify and Check found them."),
		metric.WithExplicitBucketBoundaries(utilizationBounds...))
	handle(err)
	return &in
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// setKey is what the metrics' attributes of a Decision are made of. Each
// of its fields takes a bounded set of values, so that there are few keys.
type setKey struct {
	op      icpverify.Op
	verdict icpverify.Verdict
	reason  icpverify.Reason
	cause   icpverify.Reason
	product string
	errType string
}

// attrSets are the attribute sets of one setKey, one per instrument, as
// the options of a measurement, made once so that a measurement allocates
// none.
type attrSets struct {
	decisions             []metric.AddOption
	duration, utilization []metric.RecordOption
}

// maxSets bounds the attribute sets kept for reuse; past it, each is made
// for its measurement and dropped.
const maxSets = 4096

// record records the metrics of the Decision d.
func (in *instruments) record(ctx context.Context, d *icpverify.Decision) {
	decisions := in.decisions.Enabled(ctx)
	duration := in.duration.Enabled(ctx)
	utilization, used := slotUtilization(d)
	utilization = utilization && in.utilization.Enabled(ctx)
	if !decisions && !duration && !utilization {
		return
	}
	s := in.attrSets(d)
	if decisions {
		in.decisions.Add(ctx, 1, s.decisions...)
	}
	if duration {
		in.duration.Record(ctx, d.Duration.Seconds(), s.duration...)
	}
	if utilization {
		in.utilization.Record(ctx, used, s.utilization...)
	}
}

// slotUtilization returns the subject slots in use against the limit that
// d carries, if it carries them: a Verify or a Check that passed, or that
// was refused because the instance had no slot left.
func slotUtilization(d *icpverify.Decision) (bool, float64) {
	if d.Op != icpverify.OpVerify && d.Op != icpverify.OpCheck || d.Limit <= 0 {
		return false, 0
	}
	if d.Verdict != icpverify.Passed && d.Reason != icpverify.ReasonQuotaReached {
		return false, 0
	}
	return true, float64(d.Used) / float64(d.Limit)
}

// attrSets returns the attribute sets of the metrics of d.
func (in *instruments) attrSets(d *icpverify.Decision) *attrSets {
	k := setKey{op: d.Op, verdict: d.Verdict, reason: d.Reason, cause: d.Cause}
	if d.Product != "" {
		k.product = product(d.Product)
	}
	if d.Verdict == icpverify.Failed {
		k.errType = errorType(d.Err)
	}
	if s, ok := in.cache.Load(k); ok {
		return s.(*attrSets)
	}
	s := newSets(k)
	if in.nsets.Load() < maxSets {
		if prev, loaded := in.cache.LoadOrStore(k, s); loaded {
			return prev.(*attrSets)
		}
		in.nsets.Add(1)
	}
	return s
}

// newSets makes the attribute sets of k: the decisions are counted by
// operation, verdict, reason, cause, product and error.type; the durations
// by operation, verdict and error.type; the utilization by operation,
// verdict and product.
func newSets(k setKey) *attrSets {
	var all, short, util []attribute.KeyValue
	add := func(kv attribute.KeyValue, in ...*[]attribute.KeyValue) {
		for _, s := range in {
			*s = append(*s, kv)
		}
	}
	add(keyOperation.String(string(k.op)), &all, &short, &util)
	add(keyVerdict.String(string(k.verdict)), &all, &short, &util)
	if k.reason != "" {
		add(keyReason.String(string(k.reason)), &all)
	}
	if k.cause != "" {
		add(keyCause.String(string(k.cause)), &all)
	}
	if k.product != "" {
		add(keyProduct.String(k.product), &all, &util)
	}
	if k.errType != "" {
		add(keyErrorType.String(k.errType), &all, &short)
	}
	return &attrSets{
		decisions:   []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(all...))},
		duration:    []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(short...))},
		utilization: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(util...))},
	}
}
