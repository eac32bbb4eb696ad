package icpotel_test

import (
	"context"
	"fmt"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icpotel"
	"github.com/icpfiling/icpverify/subject"
)

// A Verifier traced and measured through the SDK's providers; a backend
// would export them (or set them as the global providers, which New uses
// by default).
func ExampleNew() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	ctx := context.Background()
	store := icpverify.NewMemoryStore()
	_ = store.PutInstanceContext(ctx, icpverify.Instance{
		ID: "i-bp1example", Account: "acct-1", Product: icpverify.ProductECS,
		Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12,
		PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: time.Now().AddDate(1, 0, 0),
	})
	v := icpverify.New(store, store, icpverify.WithObserver(
		icpotel.New(icpotel.WithTracerProvider(tp), icpotel.WithMeterProvider(mp))))

	code, _ := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	_, _ = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
		Account: "acct-1", Subject: "Hangzhou Example Co., Ltd.",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}})
	_, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
		Account: "acct-2", Subject: "Another Co., Ltd.",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91330100MA27XK5X25"}})
	fmt.Println(err)

	for _, s := range spans.Ended() {
		fmt.Print(s.Name())
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "icpverify.verdict", "icpverify.reason", "icpverify.cause", "icpverify.used", "icpverify.limit":
				fmt.Printf(" %s=%s", kv.Key, kv.Value.String())
			}
		}
		fmt.Println()
	}
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(m.Name, m.Unit)
	}
	// Output:
	// icpverify: ICP filing service code is invalid: code_not_found, selected "ecs"
	// icpverify.issue icpverify.verdict=passed
	// icpverify.verify icpverify.verdict=passed icpverify.used=1 icpverify.limit=5
	// icpverify.verify icpverify.verdict=refused icpverify.reason=code_not_found icpverify.cause=code_not_owned
	// icpverify.decisions {decision}
	// icpverify.operation.duration s
	// icpverify.subject_slot.utilization 1
}
