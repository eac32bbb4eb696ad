package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/subject"
)

// get fetches url and returns the body of its 200 answer.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// wantMetrics checks the Prometheus exposition of TestRun's metrics: the
// Verifier's decisions, their durations, and the HTTP server's requests.
func wantMetrics(t *testing.T, metrics string) {
	t.Helper()
	for _, want := range []string{
		`icpverify_decisions_total{icpverify_operation_name="issue",icpverify_product_type="ecs",icpverify_verdict="passed"`,
		`icpverify_decisions_total{icpverify_operation_name="verify",icpverify_reason="product_not_fileable",icpverify_verdict="refused"`,
		`icpverify_decisions_total{icpverify_operation_name="release",icpverify_reason="not_reserved",icpverify_verdict="refused"`,
		`icpverify_operation_duration_seconds_bucket{icpverify_operation_name="issue",icpverify_verdict="passed"`,
		`http_server_request_duration_seconds_count{`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
}

// span is what TestRun reads of a span that stdouttrace wrote.
type span struct {
	Name        string
	SpanKind    int
	SpanContext struct{ SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

// wantSpans checks the spans TestRun wrote: the Verifier's operations,
// each inside the span of the HTTP request that made it, with their
// attributes.
func wantSpans(t *testing.T, out string) {
	t.Helper()
	byID := map[string]span{}
	var ops []span
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var s span
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading the spans: %v\n%s", err, out)
		}
		byID[s.SpanContext.SpanID] = s
		if strings.HasPrefix(s.Name, "icpverify.") {
			ops = append(ops, s)
		}
	}
	var names []string
	for _, s := range ops {
		names = append(names, s.Name)
		attrs := map[string]any{}
		for _, a := range s.Attributes {
			attrs[a.Key] = a.Value.Value
		}
		if attrs["icpverify.operation.name"] != strings.TrimPrefix(s.Name, "icpverify.") || attrs["icpverify.verdict"] == nil {
			t.Errorf("span %s has the attributes %v", s.Name, attrs)
		}
		if s.Name == "icpverify.issue" {
			continue // at start, outside any request
		}
		if parent, ok := byID[s.Parent.SpanID]; !ok || parent.SpanKind != 2 { // trace.SpanKindServer
			t.Errorf("span %s is not a child of an HTTP server's span: %+v", s.Name, parent)
		}
	}
	want := "icpverify.issue icpverify.issue icpverify.verify icpverify.release icpverify.withdraw"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("spans %s, want %s", got, want)
	}
}

// TestTelemetryOTLP checks that the spans go over OTLP/HTTP, and nowhere
// else, when OTEL_EXPORTER_OTLP_ENDPOINT is set.
func TestTelemetryOTLP(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			if b, _ := io.ReadAll(r.Body); bytes.Contains(b, []byte("icpverify.verify")) {
				posts.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")

	var stdout bytes.Buffer
	tel, err := newTelemetry(context.Background(), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	store := icpverify.NewMemoryStore()
	v := icpverify.New(store, store, icpverify.WithObserver(tel.observer(icpverify.Observer{})))
	_, err = v.Verify(context.Background(), icpverify.Request{Product: icpverify.ProductECS, ServiceCode: "7KQ2-M9XD-4TRB-WH6Q", Account: "a",
		Subject: "S", SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}})
	if !errors.Is(err, icpverify.ErrServiceCodeInvalid) {
		t.Fatalf("Verify: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if posts.Load() != 1 {
		t.Errorf("the collector got %d exports of the span", posts.Load())
	}
	if stdout.Len() != 0 {
		t.Errorf("spans written out as well: %s", stdout.String())
	}
}
