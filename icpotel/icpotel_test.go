package icpotel_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/icpotel"
)

// lifecycle runs every operation of a Verifier observed by obs on s, with
// the test's subject, and returns the code it verified most and the
// identity of the application it completed.
func lifecycle(t *testing.T, s *store, obs icpverify.Observer) (code, completed string) {
	t.Helper()
	ctx := context.Background()
	codes := seed(t, s, "i-1", "i-2")
	code = codes[0]
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(obs))
	code2, err := v.IssueServiceCode(ctx, "i-1", account)
	require.NoError(t, err)
	typed := strings.ToLower(code) // as an applicant might type it
	req := request(typed)

	_, err = v.Check(ctx, req)
	require.NoError(t, err)
	res, err := v.Verify(ctx, req)
	require.NoError(t, err)
	other := req
	other.Subject, other.SubjectID.Number = "Another Co., Ltd.", "91110000600037341L"
	_, err = v.Verify(ctx, other)
	require.ErrorIs(t, err, icpverify.ErrServiceCodeInvalid) // code_in_use
	bad := req
	bad.Product = icpverify.ProductType(subjectName) // typed in the wrong field
	_, err = v.Verify(ctx, bad)
	require.ErrorIs(t, err, icpverify.ErrInvalidProduct)
	// The code typed as an application's identity, which it might be.
	require.ErrorIs(t, v.Withdraw(ctx, strings.ReplaceAll(code, "-", ""), account), icpverify.ErrNotFound)
	require.NoError(t, v.Withdraw(ctx, res.Application, account))

	res, err = v.Verify(ctx, req)
	require.NoError(t, err)
	require.NoError(t, v.Release(ctx, res.Application))
	res, err = v.Verify(ctx, req)
	require.NoError(t, err)
	require.NoError(t, v.Complete(ctx, res.Application))
	completed = res.Application

	_, err = v.ServiceCodeStatus(ctx, code)
	require.NoError(t, err)
	_, err = v.ServiceCodes(ctx, "i-1", account)
	require.NoError(t, err)
	_, err = v.Expiring(ctx, account, 30*24*time.Hour)
	require.NoError(t, err)

	require.NoError(t, v.GrantServiceCode(ctx, code2, account, grantee))
	g := req
	g.ServiceCode, g.Account = code2, grantee
	_, err = v.Verify(ctx, g)
	require.NoError(t, err)
	require.NoError(t, v.GrantServiceCode(ctx, code2, account, "")) // releases grantee's reservation
	_, err = v.Verify(ctx, request(codes[1]))
	require.NoError(t, err)
	require.NoError(t, v.RevokeServiceCode(ctx, codes[1])) // releases it
	_, err = v.ReconcileInstance(ctx, "i-1")
	require.NoError(t, err)

	s.fail = failure(code)
	_, err = v.Verify(ctx, req)
	require.ErrorAs(t, err, new(*driverError))
	s.fail = nil
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = v.Check(cancelled, req)
	require.ErrorIs(t, err, context.Canceled)
	return code, completed
}

// TestSpans checks the span of every operation, attribute by attribute,
// its status and its times, against the Decision it records.
func TestSpans(t *testing.T) {
	tel := newTelemetry(t)
	var seen decisions
	code, completed := lifecycle(t, newStore(), seen.wrap(tel.observer()))
	masked := codeformat.Mask(nil, code)

	spans := tel.spans.Ended()
	ds := seen.all()
	require.Len(t, spans, len(ds), "one span per operation")
	var got []map[string]any
	for i, span := range spans {
		d := ds[i]
		a := attrs(span.Attributes())
		assert.Equal(t, "icpverify."+string(d.Op), span.Name(), "span %d", i)
		assert.Equal(t, trace.SpanKindInternal, span.SpanKind())
		assert.Equal(t, icpotel.ScopeName, span.InstrumentationScope().Name)
		assert.Equal(t, d.Duration, span.EndTime().Sub(span.StartTime()), "span %d lasts as long as its Decision", i)
		if d.Verdict == icpverify.Failed {
			assert.Equal(t, codes.Error, span.Status().Code, "span %d", i)
			assert.Equal(t, a["error.type"], span.Status().Description)
		} else {
			assert.Equal(t, codes.Unset, span.Status().Code, "a refusal is no error of the service: span %d", i)
		}
		assert.Empty(t, span.Events(), "span %d", i)
		// The application's identity is random: check it apart.
		if app, ok := a["icpverify.application.id"]; ok {
			assert.Equal(t, d.Application, app)
			a["icpverify.application.id"] = "APP"
		}
		got = append(got, a)
	}
	require.NotEmpty(t, completed)

	type m = map[string]any
	ecs := func(op, verdict string, extra m) m {
		a := m{"icpverify.operation.name": op, "icpverify.verdict": verdict,
			"icpverify.instance.id": "i-1", "icpverify.service_code": masked}
		for k, v := range extra {
			if v == nil {
				delete(a, k)
			} else {
				a[k] = v
			}
		}
		return a
	}
	slots := func(used int64) m {
		return m{"icpverify.product.type": "ecs", "icpverify.used": used, "icpverify.limit": int64(5)}
	}
	app := m{"icpverify.application.id": "APP"}
	join := func(ms ...m) m {
		out := m{}
		for _, x := range ms {
			for k, v := range x {
				out[k] = v
			}
		}
		return out
	}
	masked2 := got[0]["icpverify.service_code"]
	masked3 := got[18]["icpverify.service_code"]
	want := []m{
		ecs("issue", "passed", m{"icpverify.product.type": "ecs", "icpverify.service_code": masked2}),
		ecs("check", "passed", slots(0)),
		ecs("verify", "passed", join(slots(1), app)),
		ecs("verify", "refused", m{"icpverify.reason": "code_in_use", "icpverify.product.type": "ecs"}),
		ecs("verify", "refused", m{"icpverify.reason": "product_not_fileable", "icpverify.product.type": "_OTHER", "icpverify.instance.id": nil}),
		{"icpverify.operation.name": "withdraw", "icpverify.verdict": "refused", "icpverify.reason": "not_reserved"},
		ecs("withdraw", "passed", app),
		ecs("verify", "passed", join(slots(1), app)),
		ecs("release", "passed", app),
		ecs("verify", "passed", join(slots(1), app)),
		ecs("complete", "passed", app),
		ecs("status", "passed", join(app, m{"icpverify.product.type": "ecs"})),
		ecs("codes", "passed", m{"icpverify.service_code": nil, "icpverify.product.type": "ecs"}),
		{"icpverify.operation.name": "expiring", "icpverify.verdict": "passed"},
		ecs("grant", "passed", m{"icpverify.service_code": masked2}),
		// The grantee's subject holds its slot already, with the filed code.
		ecs("verify", "passed", join(slots(1), app, m{"icpverify.service_code": masked2})),
		ecs("release", "passed", join(app, m{"icpverify.cause": "code_not_owned", "icpverify.service_code": masked2})),
		ecs("ungrant", "passed", m{"icpverify.service_code": masked2}),
		ecs("verify", "passed", join(slots(1), app, m{"icpverify.instance.id": "i-2", "icpverify.service_code": masked3})),
		ecs("release", "passed", join(app, m{"icpverify.cause": "code_revoked", "icpverify.instance.id": "i-2", "icpverify.service_code": masked3})),
		ecs("revoke", "passed", join(app, m{"icpverify.instance.id": "i-2", "icpverify.service_code": masked3})),
		ecs("reconcile", "passed", m{"icpverify.service_code": nil, "icpverify.product.type": "ecs"}),
		ecs("verify", "failed", m{"icpverify.product.type": "ecs", "icpverify.instance.id": nil, "error.type": "*icpotel_test.driverError"}),
		ecs("check", "failed", m{"icpverify.product.type": "ecs", "icpverify.instance.id": nil, "error.type": "context.Canceled"}),
	}
	for i := range max(len(want), len(got)) {
		if i >= len(want) || i >= len(got) {
			t.Errorf("span %d: want %v, got %v", i, want[min(i, len(want)-1)], got[min(i, len(got)-1)])
			continue
		}
		assert.Equal(t, want[i], got[i], "span %d (%s)", i, spans[i].Name())
	}
}

// TestParentAndChildren checks the tree of spans: the caller's span, the
// operation's, a release the operation made by itself, and the store's
// calls inside each.
func TestParentAndChildren(t *testing.T) {
	tel := newTelemetry(t)
	s := newStore()
	code := seed(t, s, "i-1")[0]
	s.tracer = tel.tp.Tracer("store")
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(tel.observer()))

	ctx, caller := tel.tp.Tracer("caller").Start(context.Background(), "POST /verify")
	_, err := v.Verify(ctx, request(code))
	require.NoError(t, err)
	require.NoError(t, v.RevokeServiceCode(ctx, code))
	caller.End()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, span := range tel.spans.Ended() {
		require.NotContains(t, byName, span.Name(), "one span of each")
		byName[span.Name()] = span
	}
	parentOf := map[string]string{
		"icpverify.verify":         "POST /verify",
		"store.ReserveServiceCode": "icpverify.verify",
		"icpverify.revoke":         "POST /verify",
		"icpverify.release":        "icpverify.revoke",
		"store.Release":            "icpverify.release",
	}
	require.Len(t, byName, len(parentOf)+1)
	root := byName["POST /verify"]
	for child, parent := range parentOf {
		span, p := byName[child], byName[parent]
		require.NotNil(t, span, child)
		assert.Equal(t, root.SpanContext().TraceID(), span.SpanContext().TraceID(), child)
		assert.Equal(t, p.SpanContext().SpanID(), span.Parent().SpanID(), "%s is a child of %s", child, parent)
		assert.False(t, span.StartTime().Before(p.StartTime()), child)
	}
}

// TestConcurrent runs three operations on each of 64 instances from 64
// goroutines and finds one span and one count for each.
func TestConcurrent(t *testing.T) {
	const n = 64
	tel := newTelemetry(t)
	s := newStore()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "i-" + string(rune('A'+i/26)) + string(rune('a'+i%26))
	}
	codes := seed(t, s, ids...)
	var seen decisions
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(seen.wrap(tel.observer())))
	ctx, caller := tel.tp.Tracer("caller").Start(context.Background(), "batch")
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := request(codes[i])
			for _, verify := range []func(context.Context, icpverify.Request) (icpverify.Result, error){v.Verify, v.Verify, v.Check} {
				if _, err := verify(ctx, req); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	caller.End()

	perInstance := map[string]map[string]int{}
	for _, span := range tel.spans.Ended() {
		if span.Name() == "batch" {
			continue
		}
		assert.Equal(t, caller.SpanContext().SpanID(), span.Parent().SpanID())
		a := attrs(span.Attributes())
		inst := a["icpverify.instance.id"].(string)
		if perInstance[inst] == nil {
			perInstance[inst] = map[string]int{}
		}
		perInstance[inst][span.Name()]++
		assert.Equal(t, "passed", a["icpverify.verdict"])
	}
	require.Len(t, perInstance, n)
	for inst, count := range perInstance {
		assert.Equal(t, map[string]int{"icpverify.verify": 2, "icpverify.check": 1}, count, inst)
	}
	require.Len(t, seen.all(), 3*n)

	rm := tel.metrics(t)
	const (
		verify = "icpverify.operation.name=verify,icpverify.product.type=ecs,icpverify.verdict=passed"
		check  = "icpverify.operation.name=check,icpverify.product.type=ecs,icpverify.verdict=passed"
	)
	assert.Equal(t, map[string]int64{verify: 2 * n, check: n}, points(t, rm, "icpverify.decisions"))
	assert.Equal(t, map[string]int64{
		"icpverify.operation.name=verify,icpverify.verdict=passed": 2 * n,
		"icpverify.operation.name=check,icpverify.verdict=passed":  n,
	}, points(t, rm, "icpverify.operation.duration"))
	assert.Equal(t, map[string]int64{verify: 2 * n, check: n}, points(t, rm, "icpverify.subject_slot.utilization"))
}

// TestMetrics checks the metrics of the lifecycle: the counts by
// operation, verdict, reason, cause, product and error type, the
// durations by the Verifier's clock, and the slots in use.
func TestMetrics(t *testing.T) {
	tel := newTelemetry(t)
	var seen decisions
	lifecycle(t, newStore(), seen.wrap(tel.observer()))
	rm := tel.metrics(t)
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, icpotel.ScopeName, rm.ScopeMetrics[0].Scope.Name)
	units := map[string]string{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		units[m.Name] = m.Unit
	}
	assert.Equal(t, map[string]string{
		"icpverify.decisions":                "{decision}",
		"icpverify.operation.duration":       "s",
		"icpverify.subject_slot.utilization": "1",
	}, units)

	const p = "icpverify.operation.name="
	assert.Equal(t, map[string]int64{
		p + "issue,icpverify.product.type=ecs,icpverify.verdict=passed":                                            1,
		p + "check,icpverify.product.type=ecs,icpverify.verdict=passed":                                            1,
		p + "verify,icpverify.product.type=ecs,icpverify.verdict=passed":                                           5,
		p + "verify,icpverify.product.type=ecs,icpverify.reason=code_in_use,icpverify.verdict=refused":             1,
		p + "verify,icpverify.product.type=_OTHER,icpverify.reason=product_not_fileable,icpverify.verdict=refused": 1,
		p + "withdraw,icpverify.reason=not_reserved,icpverify.verdict=refused":                                     1,
		p + "withdraw,icpverify.verdict=passed":                                                                    1,
		p + "release,icpverify.verdict=passed":                                                                     1,
		"icpverify.cause=code_not_owned," + p + "release,icpverify.verdict=passed":                                 1,
		"icpverify.cause=code_revoked," + p + "release,icpverify.verdict=passed":                                   1,
		p + "complete,icpverify.verdict=passed":                                                                    1,
		p + "status,icpverify.product.type=ecs,icpverify.verdict=passed":                                           1,
		p + "codes,icpverify.product.type=ecs,icpverify.verdict=passed":                                            1,
		p + "expiring,icpverify.verdict=passed":                                                                    1,
		p + "grant,icpverify.verdict=passed":                                                                       1,
		p + "ungrant,icpverify.verdict=passed":                                                                     1,
		p + "revoke,icpverify.verdict=passed":                                                                      1,
		p + "reconcile,icpverify.product.type=ecs,icpverify.verdict=passed":                                        1,
		"error.type=*icpotel_test.driverError," + p + "verify,icpverify.product.type=ecs,icpverify.verdict=failed": 1,
		"error.type=context.Canceled," + p + "check,icpverify.product.type=ecs,icpverify.verdict=failed":           1,
	}, points(t, rm, "icpverify.decisions"))

	// The durations, by the Verifier's clock, which moves a millisecond
	// on each reading.
	var sum time.Duration
	var count int
	for _, d := range seen.all() {
		if d.Op == icpverify.OpVerify && d.Verdict == icpverify.Passed {
			sum += d.Duration
			count++
		}
	}
	h := histogram(t, rm, "icpverify.operation.duration", p+"verify,icpverify.verdict=passed")
	assert.Equal(t, uint64(count), h.Count)
	assert.InDelta(t, sum.Seconds(), h.Sum, 1e-9)
	assert.Equal(t, []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
		0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}, h.Bounds)
	h = histogram(t, rm, "icpverify.operation.duration", "error.type=context.Canceled,"+p+"check,icpverify.verdict=failed")
	assert.Equal(t, uint64(1), h.Count)

	// Verify passed five times with 1 slot of 5 in use; Check with 0.
	h = histogram(t, rm, "icpverify.subject_slot.utilization", p+"verify,icpverify.product.type=ecs,icpverify.verdict=passed")
	assert.Equal(t, []float64{0.2, 0.4, 0.6, 0.8, 1}, h.Bounds)
	assert.Equal(t, []uint64{5, 0, 0, 0, 0, 0}, h.BucketCounts)
	h = histogram(t, rm, "icpverify.subject_slot.utilization", p+"check,icpverify.product.type=ecs,icpverify.verdict=passed")
	assert.Equal(t, []uint64{1, 0, 0, 0, 0, 0}, h.BucketCounts)
	assert.Len(t, points(t, rm, "icpverify.subject_slot.utilization"), 2)
}

// TestNothingSensitive searches every span and every metric for the
// subject's name, its certificate number, the unmasked code and the
// accounts, after every operation, a code typed where an application's
// identity goes, a subject's name typed as the product, and a store
// failure whose text holds them all.
func TestNothingSensitive(t *testing.T) {
	tel := newTelemetry(t)
	code, _ := lifecycle(t, newStore(), tel.observer())
	secrets := []string{subjectName, certNumber, account, grantee, code,
		strings.ReplaceAll(code, "-", ""), code[5:9], code[:4]}

	var texts []string
	for _, span := range tel.spans.Ended() {
		texts = append(texts, span.Name(), span.Status().Description)
		for _, kv := range span.Attributes() {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
		for _, e := range span.Events() {
			texts = append(texts, e.Name)
			for _, kv := range e.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, kv := range span.Resource().Attributes() {
			texts = append(texts, kv.Value.String())
		}
	}
	require.NotEmpty(t, texts)
	for _, series := range []string{"icpverify.decisions", "icpverify.operation.duration", "icpverify.subject_slot.utilization"} {
		pts := points(t, tel.metrics(t), series)
		require.NotEmpty(t, pts)
		for set := range pts {
			texts = append(texts, set)
		}
	}
	for _, text := range texts {
		for _, secret := range secrets {
			assert.NotContains(t, strings.ToUpper(text), strings.ToUpper(secret))
		}
	}
}

// TestNoopProviders checks that New leaves out a no-op provider: with
// both, the Observer is the zero one, which a Verifier does not call.
func TestNoopProviders(t *testing.T) {
	tel := newTelemetry(t)
	for _, c := range []struct {
		name       string
		opts       []icpotel.Option
		start, end bool
	}{
		{"both no-op", []icpotel.Option{icpotel.WithTracerProvider(tracenoop.NewTracerProvider()), icpotel.WithMeterProvider(metricnoop.NewMeterProvider())}, false, false},
		{"pointers", []icpotel.Option{icpotel.WithTracerProvider(&tracenoop.TracerProvider{}), icpotel.WithMeterProvider(&metricnoop.MeterProvider{})}, false, false},
		{"no-op tracer", []icpotel.Option{icpotel.WithTracerProvider(tracenoop.NewTracerProvider()), icpotel.WithMeterProvider(tel.mp)}, false, true},
		{"no-op meter", []icpotel.Option{icpotel.WithTracerProvider(tel.tp), icpotel.WithMeterProvider(metricnoop.NewMeterProvider())}, true, true},
		{"nil options", []icpotel.Option{nil, icpotel.WithTracerProvider(nil), icpotel.WithTracerProvider(tel.tp), icpotel.WithMeterProvider(tel.mp)}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := icpotel.New(c.opts...)
			assert.Equal(t, c.start, o.Start != nil, "Start")
			assert.Equal(t, c.end, o.End != nil, "End")
		})
	}

	// With a no-op tracer, the caller's span is left alone.
	s := newStore()
	code := seed(t, s, "i-1")[0]
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(icpotel.New(
		icpotel.WithTracerProvider(tracenoop.NewTracerProvider()), icpotel.WithMeterProvider(tel.mp))))
	ctx, caller := tel.tp.Tracer("caller").Start(context.Background(), "caller")
	_, err := v.Verify(ctx, request(code))
	require.NoError(t, err)
	assert.True(t, caller.IsRecording(), "the caller's span was not ended")
	caller.End()
	assert.Len(t, tel.spans.Ended(), 1)
	assert.Len(t, points(t, tel.metrics(t), "icpverify.decisions"), 1)
}

// TestGlobalProviders checks that New takes the global providers by
// default, even when they are set after it was called.
func TestGlobalProviders(t *testing.T) {
	tp, mp := otel.GetTracerProvider(), otel.GetMeterProvider()
	t.Cleanup(func() { otel.SetTracerProvider(tp); otel.SetMeterProvider(mp) })
	tel := newTelemetry(t)
	s := newStore()
	code := seed(t, s, "i-1")[0]
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(icpotel.New()))
	_, err := v.Check(context.Background(), request(code)) // before: recorded nowhere
	require.NoError(t, err)
	otel.SetTracerProvider(tel.tp)
	otel.SetMeterProvider(tel.mp)
	_, err = v.Verify(context.Background(), request(code))
	require.NoError(t, err)
	require.Len(t, tel.spans.Ended(), 1)
	assert.Equal(t, "icpverify.verify", tel.spans.Ended()[0].Name())
	assert.Equal(t, map[string]int64{
		"icpverify.operation.name=verify,icpverify.product.type=ecs,icpverify.verdict=passed": 1,
	}, points(t, tel.metrics(t), "icpverify.decisions"))
}

// TestUnsampled checks that a span the sampler drops gets no attributes
// and the metrics are recorded all the same.
func TestUnsampled(t *testing.T) {
	tel := newTelemetry(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(tel.spans))
	s := newStore()
	code := seed(t, s, "i-1")[0]
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithObserver(icpotel.New(icpotel.WithTracerProvider(tp), icpotel.WithMeterProvider(tel.mp))))
	_, err := v.Verify(context.Background(), request(code))
	require.NoError(t, err)
	assert.Empty(t, tel.spans.Ended())
	assert.Len(t, points(t, tel.metrics(t), "icpverify.decisions"), 1)
}

// TestSlotUtilization checks the slots in use against the limit: recorded
// from a Verify or Check that passed or found the instance full, not from
// another refusal's figures (months of a term, codes issued).
func TestSlotUtilization(t *testing.T) {
	tel := newTelemetry(t)
	s := newStore()
	pol := icpverify.DefaultPolicy(icpverify.ProductECS)
	pol.SubjectLimit = 2
	v := icpverify.New(s, s, icpverify.WithClock(stepClock()), icpverify.WithPolicy(icpverify.ProductECS, pol),
		icpverify.WithObserver(tel.observer()))
	ctx := context.Background()
	codes := seed(t, s, "i-1")
	for range 2 {
		code, err := v.IssueServiceCode(ctx, "i-1", account)
		require.NoError(t, err)
		codes = append(codes, code)
	}
	subjects := []string{"91110000600037341L", certNumber}
	verify := func(code, cert string) error {
		req := request(code)
		req.SubjectID.Number = cert
		_, err := v.Verify(ctx, req)
		return err
	}
	require.NoError(t, verify(codes[0], subjects[0]))                                     // 1 of 2
	require.NoError(t, verify(codes[1], subjects[1]))                                     // 2 of 2
	require.ErrorIs(t, verify(codes[2], "91110108MA01KPGN57"), icpverify.ErrQuotaReached) // 2 of 2, full
	_, err := v.IssueServiceCode(ctx, "i-1", account)
	require.NoError(t, err)
	_, err = v.IssueServiceCode(ctx, "i-1", account)
	require.NoError(t, err)
	_, err = v.IssueServiceCode(ctx, "i-1", account) // a sixth: code_limit, 5 of 5 codes
	require.Error(t, err)
	short := ecs("i-2")
	short.TermMonths = 1
	require.NoError(t, s.PutInstanceContext(ctx, short))
	_, err = v.IssueServiceCode(ctx, "i-2", account) // term_too_short, 1 of 3 months
	require.Error(t, err)

	rm := tel.metrics(t)
	const p = "icpverify.operation.name=verify,icpverify.product.type=ecs,icpverify.verdict="
	assert.Equal(t, map[string]int64{p + "passed": 2, p + "refused": 1}, points(t, rm, "icpverify.subject_slot.utilization"))
	assert.Equal(t, []uint64{0, 0, 1, 0, 1, 0}, histogram(t, rm, "icpverify.subject_slot.utilization", p+"passed").BucketCounts)
	assert.Equal(t, []uint64{0, 0, 0, 0, 1, 0}, histogram(t, rm, "icpverify.subject_slot.utilization", p+"refused").BucketCounts)

	// The spans carry the figures of each Decision as they are.
	var figures [][2]int64
	for _, span := range tel.spans.Ended() {
		a := attrs(span.Attributes())
		if used, ok := a["icpverify.used"]; ok {
			figures = append(figures, [2]int64{used.(int64), a["icpverify.limit"].(int64)})
		}
	}
	assert.Equal(t, [][2]int64{{1, 2}, {2, 2}, {2, 2}, {5, 5}, {1, 3}}, figures)
}

// hidingProvider is a TracerProvider whose spans do not tell their start
// time, as an implementation other than the SDK's may not.
type hidingProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p hidingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return hidingTracer{tracer: p.tp.Tracer(name, opts...)}
}

type hidingTracer struct {
	embedded.Tracer
	tracer trace.Tracer
}

func (t hidingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, name, opts...)
	hidden := struct{ trace.Span }{span} // the interface's methods only
	return trace.ContextWithSpan(ctx, hidden), hidden
}

// TestSpanWithoutStartTime checks that a span that does not tell its start
// time ends when the operation ends, by the tracer's clock: a Verifier's
// clock that moves an hour on each reading does not make it last hours.
func TestSpanWithoutStartTime(t *testing.T) {
	tel := newTelemetry(t)
	s := newStore()
	code := seed(t, s, "i-1")[0]
	var n atomic.Int64
	hours := func() time.Time { return t0.Add(time.Duration(n.Add(1)) * time.Hour) }
	v := icpverify.New(s, s, icpverify.WithClock(hours), icpverify.WithObserver(icpotel.New(
		icpotel.WithTracerProvider(hidingProvider{tp: tel.tp}), icpotel.WithMeterProvider(tel.mp))))
	_, err := v.Check(context.Background(), request(code))
	require.NoError(t, err)
	spans := tel.spans.Ended()
	require.Len(t, spans, 1)
	assert.Less(t, spans[0].EndTime().Sub(spans[0].StartTime()), time.Minute)
	assert.False(t, spans[0].EndTime().Before(spans[0].StartTime()))
}
