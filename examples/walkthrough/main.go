// Command walkthrough shows, step by step, how a filing system verifies the
// product behind an ICP filing application with package icpverify, how
// each of the three failures of the provider's FAQ reads to the applicant in
// English, Simplified Chinese and Traditional Chinese, which other instances
// a quota refusal offers, and how a backend warns of instances about to
// expire.
//
// It runs on a MemoryStore with a fixed clock, so its output is the same on
// every run: service codes are random, so they are never printed. An
// Observer counts the Verifier's decisions, as an audit trail would record
// them.
//
//	go run ./examples/walkthrough
//
// It exits with status 1 if any step does not turn out as expected.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
}

// clock is a settable clock for icpverify.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cst is China Standard Time, in which the walkthrough shows dates.
var cst = time.FixedZone("CST", 8*60*60)

// languages are the languages each refusal is shown in.
var languages = []struct {
	label string
	tag   language.Tag
}{
	{"en     ", language.English},
	{"zh-Hans", language.SimplifiedChinese},
	{"zh-Hant", language.TraditionalChinese},
}

// Instance IDs and accounts of the walkthrough.
const (
	ecsMain   = "i-bp1ecs0001hz" // alice's ECS subscription in cn-hangzhou
	ecsShort  = "i-uf6ecs0002sh" // bob's 3-month ECS subscription, soon to expire
	ecsOld    = "i-2zeecs0003bj" // carol's ECS instance, already expired
	ecsAgency = "i-wz9ecs0004sz" // an agency's ECS instance that serves several subjects
	ecsSpare  = "i-wz9ecs0005sz" // the agency's second ECS instance, with every slot free

	alice  = "alice"
	bob    = "bob"
	carol  = "carol"
	agency = "agency"
)

// maskedCode stands for a masked service code in the output: the masked
// form keeps eight of the random code's characters.
const maskedCode = "XXXX-****-****-XXXX"

// tally counts the decisions an Observer receives, by verdict.
type tally struct {
	mu sync.Mutex
	n  map[icpverify.Verdict]int
}

// Observe counts d.
func (t *tally) Observe(d icpverify.Decision) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n[d.Verdict]++
}

// count returns the decisions counted with verdict v.
func (t *tally) count(v icpverify.Verdict) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[v]
}

// walk holds the state of one run of the walkthrough.
type walk struct {
	ctx       context.Context
	w         io.Writer
	clock     *clock
	store     *icpverify.MemoryStore
	v         *icpverify.Verifier
	decisions *tally // what the Verifier's Observer received
	err       error  // the first write error
}

// printf writes to the output, remembering the first error.
func (k *walk) printf(format string, args ...any) {
	if k.err != nil {
		return
	}
	_, k.err = fmt.Fprintf(k.w, format, args...)
}

// run runs the walkthrough, writing what it does to w. It returns an error if
// a step does not turn out as expected or w cannot be written.
func run(w io.Writer) error {
	ctx := context.Background()
	start := time.Date(2025, time.March, 1, 10, 0, 0, 0, cst)
	k := &walk{ctx: ctx, w: w, clock: &clock{t: start}, store: icpverify.NewMemoryStore(),
		decisions: &tally{n: make(map[icpverify.Verdict]int)}}
	// The Observer gets every decision of k.v, as an audit trail would;
	// icpverify.SlogObserver would log them instead.
	k.v = icpverify.New(k.store, k.store, icpverify.WithClock(k.clock.Now),
		icpverify.WithObserver(icpverify.ObserverFunc(k.decisions.Observe)))

	steps := []func() error{k.inventory, k.success, k.invalidProduct, k.serviceCodeInvalid, k.quotaReached, k.expiring}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
		if k.err != nil {
			return fmt.Errorf("writing output: %w", k.err)
		}
	}
	k.printf("\nAll steps turned out as expected.\n")

	// The Observer got each decision before its operation returned.
	passed, refused, failed := k.decisions.count(icpverify.Passed), k.decisions.count(icpverify.Refused), k.decisions.count(icpverify.Failed)
	k.printf("%d decisions recorded (%d passed, %d refused, %d failed).\n", passed+refused+failed, passed, refused, failed)
	if k.err != nil {
		return fmt.Errorf("writing output: %w", k.err)
	}
	return nil
}

// inventory loads the instances into the store and lists them.
func (k *walk) inventory() error {
	now := k.clock.Now()
	instances := []icpverify.Instance{
		{ID: ecsMain, Account: alice, Product: icpverify.ProductECS, Region: "cn-hangzhou",
			Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.10",
			Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)},
		{ID: ecsShort, Account: bob, Product: icpverify.ProductECS, Region: "cn-shanghai",
			Billing: icpverify.Subscription, TermMonths: 3, PublicIP: "203.0.113.20",
			Status: icpverify.Running, ExpiresAt: now.AddDate(0, 3, 0)},
		{ID: ecsOld, Account: carol, Product: icpverify.ProductECS, Region: "cn-beijing",
			Billing: icpverify.Subscription, TermMonths: 6, PublicIP: "203.0.113.30",
			Status: icpverify.Running, ExpiresAt: now.AddDate(0, -1, 0)},
		{ID: ecsAgency, Account: agency, Product: icpverify.ProductECS, Region: "cn-shenzhen",
			Billing: icpverify.Subscription, TermMonths: 36, PublicIP: "203.0.113.40",
			Status: icpverify.Running, ExpiresAt: now.AddDate(3, 0, 0)},
		{ID: ecsSpare, Account: agency, Product: icpverify.ProductECS, Region: "cn-shenzhen",
			Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.41",
			Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)},
	}
	k.printf("ICP filing product verification: a walkthrough\n")
	k.printf("The clock reads %s.\n\n", now.Format("2006-01-02 15:04 MST"))
	k.printf("Inventory (MemoryStore.PutInstance):\n")
	for _, inst := range instances {
		if err := k.store.PutInstance(inst); err != nil {
			return fmt.Errorf("loading instance %s: %w", inst.ID, err)
		}
		k.printf("  %-15s %-4s %-12s account %-7s %s, %2d months, public IP %s, expires %s\n",
			inst.ID, inst.Product, inst.Region, inst.Account, inst.Billing, inst.TermMonths,
			inst.PublicIP, inst.ExpiresAt.In(cst).Format(time.DateOnly))
	}
	k.printf("Service codes are random, so this walkthrough never prints them.\n")
	return nil
}

// success verifies a good request, then retries it.
func (k *walk) success() error {
	k.printf("\n== 1. Success: the right product type and a valid service code ==\n")
	code, err := k.issue(ecsMain, alice)
	if err != nil {
		return err
	}
	req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: alice, Subject: "Hangzhou Example Technology Co., Ltd."}
	k.printf("\nalice selects ECS, enters the code of %s and files for %q.\n", ecsMain, req.Subject)
	res, err := k.v.Verify(k.ctx, req)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	k.printf("\nThe form is submitted twice: the same request again.\n")
	res, err = k.v.Verify(k.ctx, req)
	if err := k.passed(res, err, true); err != nil {
		return err
	}
	if res.Used != 1 {
		return fmt.Errorf("unexpected: the retry took a second slot: %d used", res.Used)
	}
	k.printf("  The retry took no second slot: still %d of %d used.\n", res.Used, res.Limit)
	return nil
}

// invalidProduct shows "Invalid product information".
func (k *walk) invalidProduct() error {
	k.printf("\n== 2. \"Invalid product information\" ==\n")
	code, err := k.issue(ecsMain, alice)
	if err != nil {
		return err
	}
	subject := "Hangzhou Example Trading Co., Ltd."

	k.printf("\nalice selects Server Load Balancer (SLB) and enters the code of ECS instance %s.\n", ecsMain)
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductSLB, ServiceCode: code, Account: alice, Subject: subject})
	if err := k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonProductNotFileable); err != nil {
		return err
	}

	k.printf("\nalice selects Simple Application Server and enters the code of ECS instance %s.\n", ecsMain)
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductSimpleApplicationServer, ServiceCode: code, Account: alice, Subject: subject})
	if err := k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonProductMismatch); err != nil {
		return err
	}

	k.printf("\nalice selects ECS, as she should, with the same code.\n")
	res, err := k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: alice, Subject: subject})
	return k.passed(res, err, false)
}

// serviceCodeInvalid shows "Product information verification failed.
// Interface exception".
func (k *walk) serviceCodeInvalid() error {
	k.printf("\n== 3. \"Product information verification failed. Interface exception\" ==\n")

	k.printf("\ncarol asks for a service code from %s, which has already expired.\n", ecsOld)
	_, err := k.v.IssueServiceCode(k.ctx, ecsOld, carol)
	if err := k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonInstanceExpired); err != nil {
		return err
	}
	k.printf("  A code can only be issued from a valid instance: bob gets his while his is valid.\n")

	code, err := k.issue(ecsShort, bob)
	if err != nil {
		return err
	}
	k.printf("  bob puts the filing off; %s is not renewed.\n", ecsShort)
	k.clock.Advance(100 * 24 * time.Hour)
	k.printf("  100 days later the clock reads %s.\n", k.clock.Now().Format("2006-01-02 15:04 MST"))
	req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: bob, Subject: "Shanghai Example Media Co., Ltd."}
	k.printf("\nbob selects ECS and enters the code he was issued from %s.\n", ecsShort)
	_, err = k.v.Verify(k.ctx, req)
	if err := k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonInstanceExpired); err != nil {
		return err
	}

	alicesCode, err := k.issue(ecsMain, alice)
	if err != nil {
		return err
	}
	typo := mistype(alicesCode)
	k.printf("\nalice selects ECS and types that code with one character wrong.\n")
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: typo, Account: alice, Subject: "Hangzhou Example Studio"})
	if err := k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeMalformed); err != nil {
		return err
	}
	k.printf("  The check character catches the typo before any store is asked (ValidServiceCodeFormat: %t).\n",
		icpverify.ValidServiceCodeFormat(typo))
	return nil
}

// quotaReached shows "The ICP Filing subject quantity limit has been
// reached".
func (k *walk) quotaReached() error {
	k.printf("\n== 4. \"The ICP Filing subject quantity limit has been reached\" ==\n")
	k.printf("\nAn agency files five subjects on its instance %s, one service code each.\n", ecsAgency)
	codes := make([]string, 0, 6)
	for i := 1; i <= 5; i++ {
		code, err := k.v.IssueServiceCode(k.ctx, ecsAgency, agency)
		if err != nil {
			return fmt.Errorf("unexpected: issuing code %d from %s: %w", i, ecsAgency, err)
		}
		codes = append(codes, code)
		subject := fmt.Sprintf("Shenzhen Example Client %d Co., Ltd.", i)
		res, err := k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: agency, Subject: subject})
		if err != nil {
			return fmt.Errorf("unexpected: verifying subject %d: %w", i, err)
		}
		k.printf("  subject %d (%s): passed, %d of %d subject slots used\n", i, subject, res.Used, res.Limit)
	}
	sixth := "Shenzhen Example Client 6 Co., Ltd."

	k.printf("\nThe agency asks for a sixth service code, for %q.\n", sixth)
	_, err := k.v.IssueServiceCode(k.ctx, ecsAgency, agency)
	if err := k.refused(err, icpverify.ErrQuotaReached, icpverify.ReasonCodeLimit); err != nil {
		return err
	}
	k.printf("  Under the default policy an instance issues as many codes (5) as it\n")
	k.printf("  serves subjects (5), so the service codes run out first.\n")

	// A provider that sells extra service codes raises CodeLimit; the
	// subject limit stays at 5. Both Verifiers share the store; this one
	// has no Observer, so its one decision is not counted.
	extra := icpverify.DefaultPolicy(icpverify.ProductECS)
	extra.CodeLimit = 10
	seller := icpverify.New(k.store, k.store, icpverify.WithClock(k.clock.Now), icpverify.WithPolicy(icpverify.ProductECS, extra))
	k.printf("\nThe agency buys extra service codes (CodeLimit 10) and gets a sixth.\n")
	code, err := seller.IssueServiceCode(k.ctx, ecsAgency, agency)
	if err != nil {
		return fmt.Errorf("unexpected: issuing the sixth code: %w", err)
	}
	codes = append(codes, code)
	req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: agency, Subject: sixth}
	k.printf("\nThe agency verifies the sixth subject with it.\n")
	_, err = k.v.Verify(k.ctx, req)
	if err := k.refused(err, icpverify.ErrQuotaReached, icpverify.ReasonQuotaReached); err != nil {
		return err
	}
	k.printf("  The refusal offers the agency's other instance, %s: a service code from it\n", ecsSpare)
	k.printf("  would pass now (Verify asks the MemoryStore, an InstanceLister).\n")

	k.printf("\nThe agency keeps to %s instead. The application of subject 5 is withdrawn:\n", ecsAgency)
	k.printf("Release its service code.\n")
	if err := k.v.Release(k.ctx, codes[4]); err != nil {
		return fmt.Errorf("unexpected: releasing the code of subject 5: %w", err)
	}
	k.printf("  released\n")
	k.printf("\nThe sixth subject tries again.\n")
	res, err := k.v.Verify(k.ctx, req)
	if err := k.passed(res, err, false); err != nil {
		return err
	}

	k.printf("\nThe filing of subject 1 is approved: Complete its code. Releasing it now is refused.\n")
	if err := k.v.Complete(k.ctx, codes[0]); err != nil {
		return fmt.Errorf("unexpected: completing the code of subject 1: %w", err)
	}
	err = k.v.Release(k.ctx, codes[0])
	return k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeUsed)
}

// expiring shows the renewal warnings of Verifier.Expiring, as a backend
// would send them before a filing fails.
func (k *walk) expiring() error {
	k.printf("\n== 5. Renewal warnings (Expiring, Catalog.LocalizeExpiry) ==\n")
	catalog := icpverify.NewCatalog()
	k.clock.Advance(245 * 24 * time.Hour)
	now := k.clock.Now()
	const within = 30 * 24 * time.Hour
	k.printf("\n245 days later the clock reads %s. Which of alice's service codes in use\n", now.Format("2006-01-02 15:04 MST"))
	k.printf("or under review have an instance that expires within 30 days?\n")
	xs, err := k.v.Expiring(k.ctx, alice, within)
	if err != nil {
		return fmt.Errorf("unexpected: Expiring: %w", err)
	}
	if len(xs) != 2 {
		return fmt.Errorf("unexpected: Expiring gave %d warnings, want 2: %+v", len(xs), xs)
	}
	// Expiring orders the codes of one instance by their masked form,
	// which is random here: order them by subject instead.
	slices.SortStableFunc(xs, func(a, b icpverify.Expiry) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	for _, x := range xs {
		state := "under review"
		if x.Filed {
			state = "filed"
		}
		k.printf("  -> %s, %q (%s), expires %s\n", x.Instance, x.Subject, state, x.ExpiresAt.In(cst).Format(time.DateOnly))
		x.Code = maskedCode // its masked form varies from run to run
		for _, l := range languages[:2] {
			k.printf("     %s  %s\n", l.label, catalog.LocalizeExpiry(x, l.tag))
		}
	}
	x := xs[0]
	x.Code = maskedCode
	after := x.ExpiresAt.Add(24 * time.Hour)
	x.Expired = true
	k.printf("\nThe same warning on %s, when the instance has expired:\n", after.In(cst).Format(time.DateOnly))
	k.printf("     %s  %s\n", languages[0].label, catalog.LocalizeExpiry(x, languages[0].tag))
	k.printf("  (Service codes are shown masked as %s here: the masked form keeps eight random characters.)\n", maskedCode)
	return nil
}

// issue issues a service code and says so, without printing the code.
func (k *walk) issue(instance, account string) (string, error) {
	code, err := k.v.IssueServiceCode(k.ctx, instance, account)
	if err != nil {
		return "", fmt.Errorf("unexpected: issuing a service code from %s for %s: %w", instance, account, err)
	}
	k.printf("\n%s is issued a service code from %s (IssueServiceCode).\n", account, instance)
	return code, nil
}

// passed prints a passed verification, or returns an error if it was not
// one or its Retry is not retry.
func (k *walk) passed(res icpverify.Result, err error, retry bool) error {
	if err != nil {
		return fmt.Errorf("unexpected refusal: %w", err)
	}
	if res.Retry != retry {
		return fmt.Errorf("unexpected: Result.Retry is %t, want %t", res.Retry, retry)
	}
	k.printf("  -> passed: instance %s (%s), subject %q, %d of %d subject slots used, Retry %t\n",
		res.Instance, res.Product, res.Subject, res.Used, res.Limit, res.Retry)
	return nil
}

// refused prints a refusal as a program and as the applicant sees it, or
// returns an error if err is not the expected refusal.
func (k *walk) refused(err, sentinel error, reason icpverify.Reason) error {
	if err == nil {
		return fmt.Errorf("unexpected: not refused, want %v (%s)", sentinel, reason)
	}
	var e *icpverify.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) || e.Reason != reason {
		return fmt.Errorf("unexpected error, want %v (%s): %w", sentinel, reason, err)
	}
	k.printf("  -> refused: errors.Is(err, icpverify.%s) is true; errors.As gives Reason %q", sentinelName(sentinel), e.Reason)
	if e.Limit != 0 {
		k.printf(", %d of %d", e.Used, e.Limit)
	}
	k.printf("\n")
	for _, a := range e.Alternatives {
		k.printf("     Error.Alternatives: %s (%s), %d free subject slots, expires %s\n",
			a.Instance, a.Product, a.Free, a.ExpiresAt.In(cst).Format(time.DateOnly))
	}
	for _, l := range languages {
		k.printf("     %s  %s\n", l.label, icpverify.Localize(err, l.tag))
	}
	return nil
}

// sentinelName returns the name of a sentinel error of icpverify.
func sentinelName(sentinel error) string {
	switch sentinel {
	case icpverify.ErrInvalidProduct:
		return "ErrInvalidProduct"
	case icpverify.ErrServiceCodeInvalid:
		return "ErrServiceCodeInvalid"
	case icpverify.ErrQuotaReached:
		return "ErrQuotaReached"
	case icpverify.ErrNotFound:
		return "ErrNotFound"
	}
	return sentinel.Error()
}

// codeAlphabet is the alphabet of service codes.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// mistype returns code with its first character replaced by the next one of
// the code alphabet, as a typing mistake would.
func mistype(code string) string {
	b := []byte(code)
	for i, c := range []byte(codeAlphabet) {
		if c == b[0] {
			b[0] = codeAlphabet[(i+1)%len(codeAlphabet)]
			break
		}
	}
	return string(b)
}
