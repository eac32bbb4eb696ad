package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icpotel"
)

// telemetry is the backend's OpenTelemetry: a tracer provider that exports
// spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables itself), and as JSON to a writer
// otherwise; and a meter provider read by the Prometheus exporter, whose
// registry metrics serves. Neither is set as the global provider, so that
// several servers may run in one process, as the tests run them.
type telemetry struct {
	tp      *sdktrace.TracerProvider
	mp      *sdkmetric.MeterProvider
	metrics http.Handler // the Prometheus exposition of the metrics
}

// newTelemetry sets up the backend's telemetry, with spans written to
// traceOut unless an OTLP endpoint is set.
func newTelemetry(ctx context.Context, traceOut io.Writer) (*telemetry, error) {
	var spans sdktrace.SpanExporter
	var err error
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		spans, err = otlptracehttp.New(ctx)
	} else {
		spans, err = stdouttrace.New(stdouttrace.WithWriter(traceOut))
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: the span exporter: %w", err)
	}
	registry := prometheus.NewRegistry()
	reader, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	if err != nil {
		return nil, fmt.Errorf("telemetry: the Prometheus exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName("icp-httpbackend"))
	return &telemetry{
		tp:      sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res)),
		mp:      sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res)),
		metrics: promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
	}, nil
}

// observer returns the Observer of the Verifier: icpotel's spans and
// metrics, then the audit trail that audit keeps.
func (t *telemetry) observer(audit icpverify.Observer) icpverify.Observer {
	o := icpotel.New(icpotel.WithTracerProvider(t.tp), icpotel.WithMeterProvider(t.mp))
	end := o.End
	o.End = func(ctx context.Context, d icpverify.Decision) {
		end(ctx, d)
		if audit.End != nil {
			audit.End(ctx, d) // with the operation's span in ctx
		}
	}
	return o
}

// handler returns h traced and measured as an HTTP server: its span is the
// parent of the Verifier's.
func (t *telemetry) handler(h http.Handler, name string) http.Handler {
	return otelhttp.NewHandler(h, name, otelhttp.WithTracerProvider(t.tp), otelhttp.WithMeterProvider(t.mp))
}

// shutdown flushes the spans not yet exported and stops both providers.
func (t *telemetry) shutdown(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}
