// Command httpbackend is an example ICP filing backend: it serves product
// verification with package icpverify over HTTP, JSON in and out.
//
//	go run ./examples/httpbackend [-addr 127.0.0.1:8080]
//
// It keeps everything in a MemoryStore seeded with demo instances, and
// prints the demo service codes it issued from them. The endpoints:
//
//	POST /verify    {"product","service_code","account","subject"} -> the result
//	POST /check     the same, as a dry run that reserves nothing
//	POST /release   {"service_code"}: the application was withdrawn or rejected
//	POST /complete  {"service_code"}: the filing was approved
//	POST /codes     {"instance","account"} -> a new service code
//	GET  /expiring?account=...&within=720h -> the account's expiry warnings
//
// An error is answered with RFC 9457 problem details
// (application/problem+json): a status that fits it, the refusal's reason,
// and a title and detail in the language of the Accept-Language header.
// Every decision of the Verifier is logged to standard error as an audit
// trail (icpverify.SlogObserver), with the server's own failures. See
// README.md.
//
// This is an example: it trusts the account in the request body. A real
// backend takes the account from the authenticated session and lets only
// the filing system itself release and complete codes.
package main

import (
	"context"
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
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, *addr, os.Stdout, logger); err != nil {
		fmt.Fprintln(os.Stderr, "httpbackend:", err)
		os.Exit(1)
	}
}

// run seeds a MemoryStore, prints the demo codes to out and serves on addr
// until ctx is done. It logs the Verifier's decisions and the server's
// failures to logger.
func run(ctx context.Context, addr string, out io.Writer, logger *slog.Logger) error {
	store := icpverify.NewMemoryStore()
	v := icpverify.New(store, store, icpverify.WithObserver(icpverify.SlogObserver(logger)))
	// On the early returns; the shutdown below closes it first, which
	// makes this call a no-op.
	defer v.Close()
	codes, err := seed(ctx, store, v, time.Now())
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	fmt.Fprintf(out, "Demo service codes (account %q):\n", demoAccount)
	for _, c := range codes {
		fmt.Fprintf(out, "  %-8s %-16s %s\n", c.product, c.instance, c.code)
	}
	fmt.Fprintf(out, "Listening on http://%s\n", ln.Addr())

	srv := &http.Server{
		Handler:           newServer(v, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	// Every request has ended: hand the last decisions to the log.
	if err := v.Close(); err != nil {
		return fmt.Errorf("closing the verifier: %w", err)
	}
	if n := v.Dropped(); n > 0 {
		logger.Warn("audit records dropped", "count", n)
	}
	return nil
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
func seed(ctx context.Context, store *icpverify.MemoryStore, v *icpverify.Verifier, now time.Time) ([]demoCode, error) {
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
		if err := store.PutInstance(inst); err != nil {
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
