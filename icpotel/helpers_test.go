package icpotel_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icpotel"
	"github.com/icpfiling/icpverify/subject"
)

// t0 is the time the test clock starts at.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// telemetry is an SDK tracer provider that keeps its spans in memory and
// an SDK meter provider read by hand.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t testing.TB) *telemetry {
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

// observer returns icpotel's Observer on tel's providers.
func (tel *telemetry) observer() icpverify.Observer {
	return icpotel.New(icpotel.WithTracerProvider(tel.tp), icpotel.WithMeterProvider(tel.mp))
}

// metrics collects the metrics recorded so far.
func (tel *telemetry) metrics(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	return rm
}

// decisions keeps the Decisions an observer saw, with the code masked.
type decisions struct {
	mu sync.Mutex
	ds []icpverify.Decision
}

// wrap returns o, whose End also keeps each Decision.
func (c *decisions) wrap(o icpverify.Observer) icpverify.Observer {
	end := o.End
	o.End = func(ctx context.Context, d icpverify.Decision) {
		if end != nil {
			end(ctx, d)
		}
		c.mu.Lock()
		c.ds = append(c.ds, d)
		c.mu.Unlock()
	}
	return o
}

func (c *decisions) all() []icpverify.Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]icpverify.Decision(nil), c.ds...)
}

// stepClock is a clock that moves a millisecond on each reading.
func stepClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// store is a MemoryStore that can fail and can trace its calls to
// Release and ReserveServiceCode, as an instrumented database would.
type store struct {
	icpverify.MemoryStore
	tracer trace.Tracer // if not nil, traces Release and ReserveServiceCode
	fail   error        // if not nil, what LookupServiceCode, ReserveServiceCode and Release return
}

func newStore() *store { return &store{MemoryStore: icpverify.NewMemoryStore()} }

func (s *store) LookupServiceCode(ctx context.Context, code string) (icpverify.CodeRecord, error) {
	if s.fail != nil {
		return icpverify.CodeRecord{}, s.fail
	}
	return s.MemoryStore.LookupServiceCode(ctx, code)
}

func (s *store) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	if s.tracer != nil {
		var span trace.Span
		ctx, span = s.tracer.Start(ctx, "store.ReserveServiceCode")
		defer span.End()
	}
	if s.fail != nil {
		return icpverify.CodeRecord{}, 0, s.fail
	}
	return s.MemoryStore.ReserveServiceCode(ctx, r, limit, g)
}

func (s *store) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if s.tracer != nil {
		var span trace.Span
		ctx, span = s.tracer.Start(ctx, "store.Release")
		defer span.End()
	}
	if s.fail != nil {
		return icpverify.Reservation{}, s.fail
	}
	return s.MemoryStore.Release(ctx, r)
}

// driverError is a database driver's error, whose text holds the values
// of a row, as MySQL's "Duplicate entry" does.
type driverError struct{ msg string }

func (e *driverError) Error() string { return e.msg }

// The subject, its certificate, and the accounts of the tests: none may
// be recorded.
const (
	subjectName = "杭州示例网络科技有限公司"
	certNumber  = "91330100MA27XK5X25"
	account     = "applicant-7741"
	grantee     = "agency-5521"
)

// ecs returns a running ECS instance of account that may issue codes.
func ecs(id string) icpverify.Instance {
	return icpverify.Instance{ID: id, Account: account, Product: icpverify.ProductECS,
		Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12,
		PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: t0.AddDate(0, 0, 20)}
}

// seed puts the instances ids in s and issues a code from each, through a
// Verifier of its own, which nothing observes.
func seed(t testing.TB, s *store, ids ...string) []string {
	t.Helper()
	ctx := context.Background()
	v := icpverify.New(s, s, icpverify.WithClock(func() time.Time { return t0 }))
	codes := make([]string, len(ids))
	for i, id := range ids {
		require.NoError(t, s.PutInstanceContext(ctx, ecs(id)))
		code, err := v.IssueServiceCode(ctx, id, account)
		require.NoError(t, err)
		codes[i] = code
	}
	return codes
}

// request returns a request of the test's subject for code.
func request(code string) icpverify.Request {
	return icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: account,
		Subject: subjectName, SubjectID: subjectID()}
}

// attrs returns the attributes of a span or a data point as a map.
func attrs(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// points returns the data points of the metric name, by their attributes
// in a canonical text: the value of a sum, the count of a histogram.
func points(t testing.TB, rm metricdata.ResourceMetrics, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					out[p.Attributes.Encoded(attribute.DefaultEncoder())] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					out[p.Attributes.Encoded(attribute.DefaultEncoder())] += int64(p.Count)
				}
			default:
				t.Fatalf("metric %s is a %T", name, m.Data)
			}
		}
	}
	return out
}

// histogram returns the data point of the histogram name whose attributes
// are encoded as set.
func histogram(t testing.TB, rm metricdata.ResourceMetrics, name, set string) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var found []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, p := range h.DataPoints {
					enc := p.Attributes.Encoded(attribute.DefaultEncoder())
					if enc == set {
						return p
					}
					found = append(found, enc)
				}
			}
		}
	}
	sort.Strings(found)
	t.Fatalf("no point %s of %s in %q", set, name, found)
	return metricdata.HistogramDataPoint[float64]{}
}

// failure is a store failure whose text holds everything that must not
// be recorded.
func failure(code string) error {
	return fmt.Errorf("sqlstore: reserving: %w",
		&driverError{msg: fmt.Sprintf("Error 1062: Duplicate entry '%s' for subject %s (%s), account %s", code, subjectName, certNumber, account)})
}

// subjectID is the test subject's certificate.
func subjectID() subject.ID { return subject.ID{Type: subject.CertUSCC, Number: certNumber} }
