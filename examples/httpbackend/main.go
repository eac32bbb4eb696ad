// Command httpbackend is an example ICP filing backend: it serves product
// verification with packages icpverify and icphttp over HTTP, JSON in and
// out, on two listeners.
//
//	go run ./examples/httpbackend [-addr 127.0.0.1:8080] [-internal-addr 127.0.0.1:8081]
//
// The applicants' listener (-addr) serves icphttp.Handler, with a toy
// authenticator that maps a bearer token to an account:
//
//	POST /verify    {"product","service_code","subject","subject_id":{"type","number"}[,"website"]} -> the result, with the application's identity
//	POST /check     the same, as a dry run that reserves nothing
//	POST /withdraw  {"application"}: the applicant withdraws their application (204)
//
// The internal listener (-internal-addr) serves the provider-side
// endpoints, which must NEVER face applicants: release, complete and
// revoke are the provider's own actions, issuing and granting codes belong
// to the instance owner's console, and expiry warnings to the provider's
// reminders. They trust the account they are given.
//
//	POST /codes     {"instance","account"} -> a new service code
//	POST /grant     {"service_code","owner","grantee"}: "grantee":"" withdraws the grant
//	POST /release   {"application"}: the provider rejected that application
//	POST /complete  {"application"}: that application's filing was approved
//	POST /revoke    {"service_code"}: the provider invalidates the code for good
//	GET  /expiring?account=...&within=720h -> the account's expiry warnings
//
//	GET  /metrics   the metrics, for Prometheus
//
// It keeps everything in a MemoryStore seeded with demo instances, and
// prints the demo service codes it issued from them and a bearer token for
// the demo account. An error is answered with RFC 9457 problem details
// (application/problem+json). Every decision of the Verifier is logged to
// standard error as an audit trail (icpverify.SlogObserver), with the
// server's own failures. Every request and every operation of the Verifier
// is traced and measured with OpenTelemetry (package icpotel): the spans
// are written to standard output, or sent over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set; the metrics are served on /metrics
// of the internal listener. See README.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/icpfiling/icpverify"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address of the applicants' listener")
	internalAddr := flag.String("internal-addr", "127.0.0.1:8081", "address of the internal listener; never expose it to applicants")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	tel, err := newTelemetry(ctx, os.Stdout)
	if err == nil {
		err = run(ctx, *addr, *internalAddr, os.Stdout, logger, tel)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = errors.Join(err, tel.shutdown(shutdownCtx))
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpbackend:", err)
		os.Exit(1)
	}
}

// run seeds a MemoryStore, prints the demo codes and token to out and
// serves on addr (applicants) and internalAddr (the provider's systems)
// until ctx is done. It logs the Verifier's decisions and the server's
// failures to logger, and traces and measures requests and decisions with
// tel, whose metrics it serves on /metrics of the internal listener.
func run(ctx context.Context, addr, internalAddr string, out io.Writer, logger *slog.Logger, tel *telemetry) error {
	store := icpverify.NewMemoryStore()
	v := icpverify.New(store, store, icpverify.WithObserver(tel.observer(icpverify.SlogObserver(logger))))
	codes, err := seed(ctx, store, v, time.Now())
	if err != nil {
		return err
	}
	// The toy authenticator's one token, new at every start.
	token := rand.Text()
	tokens := map[string]string{token: demoAccount}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	internalLn, err := lc.Listen(ctx, "tcp", internalAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listening: %w", err)
	}
	fmt.Fprintf(out, "Demo service codes (account %q):\n", demoAccount)
	for _, c := range codes {
		fmt.Fprintf(out, "  %-8s %-16s %s\n", c.product, c.instance, c.code)
	}
	fmt.Fprintf(out, "Bearer token of account %q: %s\n", demoAccount, token)
	fmt.Fprintf(out, "Internal endpoints (never expose them to applicants) on http://%s\n", internalLn.Addr())
	fmt.Fprintf(out, "Metrics on http://%s/metrics\n", internalLn.Addr())
	fmt.Fprintf(out, "Listening on http://%s\n", ln.Addr())

	internal := http.NewServeMux()
	internal.Handle("/metrics", tel.metrics)
	internal.Handle("/", tel.handler(newInternalHandler(v, logger), "internal"))
	servers := []*http.Server{
		newHTTPServer(tel.handler(newApplicantHandler(v, tokens, logger), "applicants")),
		newHTTPServer(internal),
	}
	return serve(ctx, servers, []net.Listener{ln, internalLn})
}

// serve serves each of servers on its listener until ctx is done or one
// of them fails, then shuts them all down.
func serve(ctx context.Context, servers []*http.Server, listeners []net.Listener) error {
	served := make(chan error, len(servers))
	for i, l := range listeners {
		go func() { served <- servers[i].Serve(l) }()
	}
	select {
	case err := <-served:
		for _, srv := range servers {
			srv.Close()
		}
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down: %w", err))
		}
	}
	for range servers {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serving: %w", err))
		}
	}
	return errors.Join(errs...)
}

// newHTTPServer returns a server of h with timeouts.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// demoAccount owns the demo instances.
const demoAccount = "demo"

// demoCode is a service code seed issued.
type demoCode struct {
	product  icpverify.ProductType
	instance string
	code     string
}

// seed loads the demo instances into store, with terms relative to now, and
// issues a service code from each that can issue one.
func seed(ctx context.Context, store icpverify.MemoryStore, v *icpverify.Verifier, now time.Time) ([]demoCode, error) {
	instances := []icpverify.Instance{
		{ID: "i-demo-ecs-hz", Account: demoAccount, Product: icpverify.ProductECS, Region: "cn-hangzhou",
			Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.10",
			Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)},
		{ID: "i-demo-swas-sh", Account: demoAccount, Product: icpverify.ProductSimpleApplicationServer, Region: "cn-shanghai",
			Billing: icpverify.Subscription, TermMonths: 6, PublicIP: "203.0.113.20",
			Status: icpverify.Running, ExpiresAt: now.AddDate(0, 6, 0)},
		// Pay-as-you-go: /codes refuses it with not_subscription.
		{ID: "i-demo-ecs-payg", Account: demoAccount, Product: icpverify.ProductECS, Region: "cn-beijing",
			Billing: icpverify.PayAsYouGo, PublicIP: "203.0.113.30", Status: icpverify.Running},
	}
	var codes []demoCode
	for _, inst := range instances {
		if err := store.PutInstanceContext(context.Background(), inst); err != nil {
			return nil, fmt.Errorf("seeding %s: %w", inst.ID, err)
		}
		if inst.Billing != icpverify.Subscription {
			continue
		}
		code, err := v.IssueServiceCode(ctx, inst.ID, inst.Account)
		if err != nil {
			return nil, fmt.Errorf("seeding: issuing a code from %s: %w", inst.ID, err)
		}
		codes = append(codes, demoCode{product: inst.Product, instance: inst.ID, code: code})
	}
	return codes, nil
}
