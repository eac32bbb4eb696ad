// Command httpbackend is an example ICP filing backend: it serves product
// verification with package icpverify over HTTP, JSON in and out.
//
//	go run ./examples/httpbackend [-addr 127.0.0.1:8080]
//
// It keeps everything in a MemoryStore seeded with demo instances, and
// prints the demo service codes it issued from them. The endpoints, all
// POST:
//
//	/verify    {"product","service_code","account","subject"} -> the result
//	/check     the same, as a dry run that reserves nothing
//	/release   {"service_code"}: the application was withdrawn or rejected
//	/complete  {"service_code"}: the filing was approved
//	/codes     {"instance","account"} -> a new service code
//
// A refusal is answered with a status that fits it and a JSON body with the
// refusal's reason and a message in the language of the Accept-Language
// header. See README.md.
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
	if err := run(ctx, *addr, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httpbackend:", err)
		os.Exit(1)
	}
}

// run seeds a MemoryStore, prints the demo codes to out and serves on addr
// until ctx is done.
func run(ctx context.Context, addr string, out io.Writer) error {
	store := icpverify.NewMemoryStore()
	v := icpverify.New(store, store)
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
		Handler:           newServer(v),
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
