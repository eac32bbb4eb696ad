// Command walkthrough shows, step by step, how a filing system verifies the
// product behind an ICP filing application with package icpverify, how
// each of the three failures of the provider's FAQ reads to the applicant in
// English, Simplified Chinese and Traditional Chinese, which other instances
// a quota refusal offers, and how a backend warns of instances about to
// expire.
//
// Along the way it shows the applicant's Withdraw and the provider's
// Complete and Release, each naming an application by the identity Verify
// gave it (Result.Application), the provider's RevokeServiceCode, and what
// counts as one filing subject: its certificate (Request.SubjectID), or
// else its name however it is typed. Last, one applicant files under two
// providers' rules (package profile): Huawei Cloud's, where a deregistered
// filing gives nothing back, and JD Cloud's, where it frees its places.
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
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
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
	dave   = "dave"
)

// maskedCode stands for a masked service code in the output: the masked
// form shows the code's last four characters, which are random.
const maskedCode = "****-****-****-XXXX"

// maskedLike reports whether masked, a service code masked by icpverify,
// has the shape of maskedCode: its last four symbols shown, the rest hidden.
func maskedLike(masked string) bool {
	const hidden = len(maskedCode) - 4
	return len(masked) == len(maskedCode) && masked[:hidden] == maskedCode[:hidden] &&
		!strings.Contains(masked[hidden:], "*")
}

// tally counts the decisions an observer receives, by verdict, and keeps
// the last one.
type tally struct {
	mu   sync.Mutex
	n    map[icpverify.Verdict]int
	last icpverify.Decision
}

// observe counts d.
func (t *tally) observe(_ context.Context, d icpverify.Decision) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n[d.Verdict]++
	t.last = d
}

// lastDecision returns the last decision observed.
func (t *tally) lastDecision() icpverify.Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
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
	store     icpverify.MemoryStore
	v         *icpverify.Verifier
	decisions *tally // what the Verifier's Observer received
	// released is the identity of an application whose reservation was
	// released (step 3's, with its revoked code): it holds nothing now.
	released string
	err      error // the first write error
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
		icpverify.WithObserver(icpverify.Observer{End: k.decisions.observe}))

	steps := []func() error{k.inventory, k.success, k.invalidProduct, k.serviceCodeInvalid, k.quotaReached, k.subjects, k.expiring, k.profiles}
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
	k.printf("Inventory (MemoryStore.PutInstanceContext):\n")
	for _, inst := range instances {
		if err := k.store.PutInstanceContext(context.Background(), inst); err != nil {
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
	req.SubjectID = certOf(req.Subject)
	k.printf("\nalice selects ECS, enters the code of %s and files for %q.\n", ecsMain, req.Subject)
	first, err := k.v.Verify(k.ctx, req)
	if err := k.passed(first, err, false); err != nil {
		return err
	}
	k.printf("\nThe form is submitted twice: the same request again.\n")
	res, err := k.v.Verify(k.ctx, req)
	if err := k.passed(res, err, true); err != nil {
		return err
	}
	if res.Used != 1 {
		return fmt.Errorf("unexpected: the retry took a second slot: %d used", res.Used)
	}
	k.printf("  The retry took no second slot: still %d of %d used.\n", res.Used, res.Limit)
	if first.Application == "" || res.Application != first.Application {
		return fmt.Errorf("unexpected: the retry names another application: %q, then %q", first.Application, res.Application)
	}
	k.printf("  Both name the same application (Result.Application, an opaque identity that is\n")
	k.printf("  random, so not printed): Withdraw, Release and Complete name the application by it.\n")
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
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductSLB, ServiceCode: code, Account: alice, Subject: subject, SubjectID: certOf(subject)})
	if err := k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonProductNotFileable); err != nil {
		return err
	}

	k.printf("\nalice selects Simple Application Server and enters the code of ECS instance %s.\n", ecsMain)
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductSimpleApplicationServer, ServiceCode: code, Account: alice, Subject: subject, SubjectID: certOf(subject)})
	if err := k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonProductMismatch); err != nil {
		return err
	}

	k.printf("\nalice selects ECS, as she should, with the same code.\n")
	res, err := k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: alice, Subject: subject, SubjectID: certOf(subject)})
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
	req.SubjectID = certOf(req.Subject)
	k.printf("\nbob selects ECS and enters the code he was issued from %s.\n", ecsShort)
	_, err = k.v.Verify(k.ctx, req)
	if err := k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonInstanceExpired); err != nil {
		return err
	}
	return k.mistypedAndRevoked()
}

// mistypedAndRevoked shows a code typed wrong, refused offline, and a
// code the provider revokes, whose reservation goes with it.
func (k *walk) mistypedAndRevoked() error {
	alicesCode, err := k.issue(ecsMain, alice)
	if err != nil {
		return err
	}
	typo := mistype(alicesCode)
	k.printf("\nalice selects ECS and types that code with one character wrong.\n")
	_, err = k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: typo, Account: alice, Subject: "Hangzhou Example Studio",
		SubjectID: certOf("Hangzhou Example Studio")})
	if err := k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeMalformed); err != nil {
		return err
	}
	_, wellFormed := codeformat.Normalize(typo)
	k.printf("  The check character catches the typo before any store is asked (codeformat.Normalize: %t).\n", wellFormed)

	studio := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: alicesCode, Account: alice, Subject: "Hangzhou Example Studio",
		SubjectID: certOf("Hangzhou Example Studio")}
	k.printf("\nalice types the code right.\n")
	res, err := k.v.Verify(k.ctx, studio)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	k.printf("\nThe provider invalidates the code, say because it leaked (RevokeServiceCode).\n")
	if err := k.v.RevokeServiceCode(k.ctx, alicesCode); err != nil {
		return fmt.Errorf("unexpected: revoking alice's code: %w", err)
	}
	used, err := k.used(ecsMain)
	if err != nil {
		return err
	}
	if used != res.Used-1 {
		return fmt.Errorf("unexpected: the revoked code's reservation was not released: %d used, want %d", used, res.Used-1)
	}
	k.printf("  revoked; its reservation is released: %d of %d subject slots of %s used (MemoryStore.Usage)\n", used, res.Limit, ecsMain)
	k.released = res.Application
	k.printf("\nalice submits the form again with that code.\n")
	_, err = k.v.Verify(k.ctx, studio)
	return k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeRevoked)
}

// quotaReached shows "The ICP Filing subject quantity limit has been
// reached", then the applications that give a slot back: a withdrawal, and
// not a filing that is complete.
func (k *walk) quotaReached() error {
	k.printf("\n== 4. \"The ICP Filing subject quantity limit has been reached\" ==\n")
	apps, err := k.fillAgency()
	if err != nil {
		return err
	}
	sixth, err := k.sixthSubject()
	if err != nil {
		return err
	}
	if err := k.strangerWithdraws(apps[4]); err != nil {
		return err
	}
	if err := k.withdrawForSixth(apps[4], sixth); err != nil {
		return err
	}
	return k.completeFirst(apps[0])
}

// fillAgency files five subjects on the agency's instance, one code each,
// and returns their applications' identities.
func (k *walk) fillAgency() ([]string, error) {
	k.printf("\nAn agency files five subjects on its instance %s, one service code each.\n", ecsAgency)
	apps := make([]string, 0, 5)
	for i := 1; i <= 5; i++ {
		code, err := k.v.IssueServiceCode(k.ctx, ecsAgency, agency)
		if err != nil {
			return nil, fmt.Errorf("unexpected: issuing code %d from %s: %w", i, ecsAgency, err)
		}
		subject := fmt.Sprintf("Shenzhen Example Client %d Co., Ltd.", i)
		res, err := k.v.Verify(k.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: agency, Subject: subject, SubjectID: certOf(subject)})
		if err != nil {
			return nil, fmt.Errorf("unexpected: verifying subject %d: %w", i, err)
		}
		apps = append(apps, res.Application)
		k.printf("  subject %d (%s): passed, %d of %d subject slots used\n", i, subject, res.Used, res.Limit)
	}
	k.printf("  The agency keeps each application's identity (Result.Application) with its file.\n")
	return apps, nil
}

// sixthSubject shows the code limit, then, with more codes bought, the
// subject limit; it returns the sixth subject's refused request.
func (k *walk) sixthSubject() (icpverify.Request, error) {
	sixth := "Shenzhen Example Client 6 Co., Ltd."
	k.printf("\nThe agency asks for a sixth service code, for %q.\n", sixth)
	_, err := k.v.IssueServiceCode(k.ctx, ecsAgency, agency)
	if err := k.refused(err, icpverify.ErrQuotaReached, icpverify.ReasonCodeLimit); err != nil {
		return icpverify.Request{}, err
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
		return icpverify.Request{}, fmt.Errorf("unexpected: issuing the sixth code: %w", err)
	}
	req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: agency, Subject: sixth, SubjectID: certOf(sixth)}
	k.printf("\nThe agency verifies the sixth subject with it.\n")
	_, err = k.v.Verify(k.ctx, req)
	if err := k.refused(err, icpverify.ErrQuotaReached, icpverify.ReasonQuotaReached); err != nil {
		return icpverify.Request{}, err
	}
	k.printf("  The refusal offers the agency's other instance, %s: a service code from it\n", ecsSpare)
	k.printf("  would pass now (Verify asks the MemoryStore, an InstanceLister).\n")
	return req, nil
}

// strangerWithdraws shows that a stranger who knows a held application's
// identity can withdraw nothing and learns nothing that an application
// with no reservation would not tell.
func (k *walk) strangerWithdraws(held string) error {
	k.printf("\nThe agency keeps to %s instead: it will withdraw the application of subject 5.\n", ecsAgency)
	k.printf("But first bob, no client of the agency, who has seen subject 5's application identity, tries to withdraw it.\n")
	err := k.v.Withdraw(k.ctx, held, bob)
	if err := k.refused(err, icpverify.ErrNotFound, icpverify.ReasonNotReserved); err != nil {
		return err
	}
	d := k.decisions.lastDecision()
	if d.Op != icpverify.OpWithdraw || d.Cause != icpverify.ReasonCodeNotOwned || d.Holder != agency || d.Application != held {
		return fmt.Errorf("unexpected: the audit trail of bob's Withdraw: %+v", d)
	}
	// Applications that hold no reservation: step 3's, released with its
	// revoked code, and one bob makes up.
	if k.released == "" {
		return errors.New("unexpected: step 3 left no released application")
	}
	for _, free := range []string{k.released, "0123456789abcdef0123456789abcdef"} {
		if err := k.sameAnswer(err, k.v.Withdraw(k.ctx, free, bob)); err != nil {
			return err
		}
	}
	k.printf("  bob learns nothing: an application that holds no reservation (step 3's, released with\n")
	k.printf("  its revoked code, or one he makes up) gets him the same answer word for word.\n")
	k.printf("  Only the audit trail tells support staff the truth:\n")
	k.printf("  Decision.Cause %q, Decision.Holder %q.\n", d.Cause, d.Holder)
	return nil
}

// withdrawForSixth withdraws the application app, subject 5's, verifies
// the sixth subject's request again, which passes now, and shows that the
// withdrawal retried changes nothing.
func (k *walk) withdrawForSixth(app string, sixth icpverify.Request) error {
	k.printf("\nThe agency withdraws the application of subject 5 (Withdraw).\n")
	if err := k.v.Withdraw(k.ctx, app, agency); err != nil {
		return fmt.Errorf("unexpected: withdrawing the application of subject 5: %w", err)
	}
	used, err := k.used(ecsAgency)
	if err != nil {
		return err
	}
	if used != 4 {
		return fmt.Errorf("unexpected: %d subject slots used after the withdrawal, want 4", used)
	}
	k.printf("  withdrawn: %d of 5 subject slots of %s used (MemoryStore.Usage)\n", used, ecsAgency)
	k.printf("\nThe sixth subject tries again.\n")
	res, err := k.v.Verify(k.ctx, sixth)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	k.printf("\nThe agency's Withdraw of subject 5, sent again (its answer was lost), finds nothing to withdraw.\n")
	err = k.v.Withdraw(k.ctx, app, agency)
	if err := k.refusedQuietly(err, icpverify.ErrNotFound, icpverify.ReasonNotReserved); err != nil {
		return err
	}
	if used, err := k.used(ecsAgency); err != nil || used != 5 {
		return fmt.Errorf("unexpected: %d subject slots used after the retried withdrawal, want 5 (%v)", used, err)
	}
	k.printf("  The sixth subject's application is another: still 5 of 5 used.\n")
	return nil
}

// completeFirst completes the filing of app, subject 1's application, and
// shows that neither a withdrawal nor the provider's Release frees it then.
func (k *walk) completeFirst(app string) error {
	k.printf("\nThe filing of subject 1 is approved: Complete its application. Withdrawing it now is refused.\n")
	if err := k.v.Complete(k.ctx, app); err != nil {
		return fmt.Errorf("unexpected: completing the application of subject 1: %w", err)
	}
	err := k.v.Withdraw(k.ctx, app, agency)
	if err := k.refused(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeUsed); err != nil {
		return err
	}
	var e *icpverify.Error
	if err := k.v.Release(k.ctx, app); !errors.As(err, &e) || e.Reason != icpverify.ReasonCodeUsed {
		return fmt.Errorf("unexpected: releasing the filed application of subject 1: %v", err)
	}
	k.printf("  The provider's Release is refused alike (%s).\n", e.Reason)
	return nil
}

// certificates are the unified social credit codes of the walkthrough's
// companies.
var certificates = map[string]string{
	"Hangzhou Example Technology Co., Ltd.": "91330106MA27WX1AXM",
	"Hangzhou Example Trading Co., Ltd.":    "91330106MA2H3K4B24",
	"Hangzhou Example Studio":               "91330106MA2J1N2K2R",
	"Shanghai Example Media Co., Ltd.":      "91310115MA1K5E6C99",
	"Shenzhen Example Client 1 Co., Ltd.":   "91440300MA5F7G8D9P",
	"Shenzhen Example Client 2 Co., Ltd.":   "91440300MA5G9H1E74",
	"Shenzhen Example Client 3 Co., Ltd.":   "91440300MA5H2J3F61",
	"Shenzhen Example Client 4 Co., Ltd.":   "91440300MA5J4K5G2A",
	"Shenzhen Example Client 5 Co., Ltd.":   "91440300MA5K6L7H8J",
	"Shenzhen Example Client 6 Co., Ltd.":   "91440300MA5L8M9J1J",
	"Beijing Dave Studio":                   "91110108MA02E7R362",
	"Beijing Dave Trading Co., Ltd.":        "91110108MA02E7R375",
}

// certOf returns the certificate of the company of that name: its
// unified social credit code.
func certOf(name string) subject.ID {
	return subject.ID{Type: subject.CertUSCC, Number: certificates[name]}
}

// subjects shows what counts as one filing subject: its certificate when
// the request gives one, or else its name in a canonical form.
func (k *walk) subjects() error {
	k.printf("\n== 5. One subject, one slot: its certificate (Request.SubjectID), or, for a provider without certificates, its name ==\n")
	k.printf("\nThe agency files two new clients on its second instance, %s.\n", ecsSpare)
	if err := k.subjectByCertificate(); err != nil {
		return err
	}
	return k.subjectByName()
}

// subjectByCertificate shows a subject known by its certificate, whatever
// it is called: one code per website, one slot for every name.
func (k *walk) subjectByCertificate() error {
	first, err := k.issue(ecsSpare, agency)
	if err != nil {
		return err
	}
	byID := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: first, Account: agency,
		Subject:   "Fuzhou Example Information Co., Ltd.",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91350100M000100Y43"},
		Website:   "www.example-fz.cn"}
	k.printf("\nThe agency files %s for %q,\nwith its unified social credit code %s.\n", byID.Website, byID.Subject, byID.SubjectID.Number)
	res, err := k.v.Verify(k.ctx, byID)
	if err := k.passed(res, err, false); err != nil {
		return err
	}

	other := byID
	other.Website = "shop.example-fz.cn"
	k.printf("\nThe same code for the client's second website, %s, is refused: a code files one website.\n", other.Website)
	_, err = k.v.Verify(k.ctx, other)
	// Only the program's view is shown: the applicant's text of
	// code_in_use speaks of a code used by another subject.
	if err := k.refusedQuietly(err, icpverify.ErrServiceCodeInvalid, icpverify.ReasonCodeInUse); err != nil {
		return err
	}
	return k.sameCertificate(other)
}

// sameCertificate shows the client's certificate, typed otherwise or as
// its old organisation code, as one subject with one slot, and a typo in
// it refused; other is the request for the client's second website.
func (k *walk) sameCertificate(other icpverify.Request) error {
	second, err := k.issue(ecsSpare, agency)
	if err != nil {
		return err
	}
	other.ServiceCode = second
	other.Subject = "福州示例信息技术有限公司"
	other.SubjectID.Number = "９１３５０１００ｍ０００１００ｙ４３"
	k.printf("\nThe shop is filed with the new code. The clerk names the client in Chinese, %q,\n", other.Subject)
	k.printf("and types its certificate with the input method's full-width forms, %q.\n", other.SubjectID.Number)
	res, err := k.v.Verify(k.ctx, other)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	if res.Used != 1 {
		return fmt.Errorf("unexpected: one certificate took %d subject slots", res.Used)
	}
	k.printf("  One certificate, one subject: the second website takes no second slot, still %d of %d used.\n", res.Used, res.Limit)

	third, err := k.issue(ecsSpare, agency)
	if err != nil {
		return err
	}
	byOrgCode := other
	byOrgCode.ServiceCode, byOrgCode.Website = third, "blog.example-fz.cn"
	byOrgCode.SubjectID = subject.ID{Type: subject.CertOrgCode, Number: "M000100Y-4"}
	k.printf("\nA third website, %s, is filed with the client's old organisation code, %s:\n", byOrgCode.Website, byOrgCode.SubjectID.Number)
	k.printf("the 9th to 17th characters of its unified social credit code.\n")
	res, err = k.v.Verify(k.ctx, byOrgCode)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	if res.Used != 1 {
		return fmt.Errorf("unexpected: a USCC and its organisation code took %d subject slots", res.Used)
	}
	k.printf("  The organisation code is the same subject: still %d of %d used.\n", res.Used, res.Limit)

	typo := other
	typo.SubjectID.Number = "91350100M000010Y43"
	k.printf("\nA certificate typed with two characters swapped, %s, is refused before any store is asked.\n", typo.SubjectID.Number)
	_, err = k.v.Verify(k.ctx, typo)
	return k.refused(err, icpverify.ErrInvalidProduct, icpverify.ReasonSubjectIDMalformed)
}

// subjectByName shows that the default policy asks for a certificate,
// and a subject known by its name under a policy that does not, whose
// canonical form folds how it is typed.
func (k *walk) subjectByName() error {
	fourth, err := k.issue(ecsSpare, agency)
	if err != nil {
		return err
	}
	byName := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: fourth, Account: agency,
		Subject: "示例网络科技（深圳）有限公司\u3000"}
	k.printf("\nThe other client gives no certificate. The default policy asks for one (RequireSubjectID).\n")
	_, err = k.v.Verify(k.ctx, byName)
	if err := k.refusedQuietly(err, icpverify.ErrInvalidProduct, icpverify.ReasonSubjectIDMalformed); err != nil {
		return err
	}

	// A provider whose filing system has names alone turns it off, at
	// the cost of keying subjects by what applicants type. This Verifier
	// shares the store and has no Observer.
	names := icpverify.DefaultPolicy(icpverify.ProductECS)
	names.RequireSubjectID = false
	byNames := icpverify.New(k.store, k.store, icpverify.WithClock(k.clock.Now), icpverify.WithPolicy(icpverify.ProductECS, names))
	k.printf("\nUnder a policy without RequireSubjectID the client is known by its name, typed here with\n")
	k.printf("full-width parentheses and a trailing ideographic space: %q.\n", byName.Subject)
	res, err := byNames.Verify(k.ctx, byName)
	if err := k.passed(res, err, false); err != nil {
		return err
	}
	byName.Subject = "示例网络科技 (深圳) 有限公司"
	k.printf("\nThe form is sent again with the name typed with ASCII brackets and spaces, %q.\n", byName.Subject)
	res, err = byNames.Verify(k.ctx, byName)
	if err := k.passed(res, err, true); err != nil {
		return err
	}
	k.printf("  Width, case, invisible characters and the spaces between Chinese characters and around\n")
	k.printf("  punctuation are folded: one name, so a retry, still %d of %d used.\n", res.Used, res.Limit)
	return nil
}

// expiring shows the renewal warnings of Verifier.Expiring, as a backend
// would send them before a filing fails.
func (k *walk) expiring() error {
	k.printf("\n== 6. Renewal warnings (Expiring, Catalog.LocalizeExpiry) ==\n")
	texts := catalog.New()
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
	// Expiring orders the warnings by date, instance and subject.
	for _, x := range xs {
		state := "under review"
		if x.Filed {
			state = "filed"
		}
		k.printf("  -> %s, %q (%s), expires %s\n", x.Instance, x.Subject, state, x.ExpiresAt.In(cst).Format(time.DateOnly))
		if !maskedLike(x.Code) {
			return fmt.Errorf("unexpected: Expiry.Code %q is not masked as %s is", x.Code, maskedCode)
		}
		x.Code = maskedCode // its last four symbols vary from run to run
		for _, l := range languages[:2] {
			k.printf("     %s  %s\n", l.label, texts.LocalizeExpiry(x, l.tag))
		}
	}
	x := xs[0]
	x.Code = maskedCode
	after := x.ExpiresAt.Add(24 * time.Hour)
	x.Expired = true
	k.printf("\nThe same warning on %s, when the instance has expired:\n", after.In(cst).Format(time.DateOnly))
	k.printf("     %s  %s\n", languages[0].label, texts.LocalizeExpiry(x, languages[0].tag))
	k.printf("  (Service codes are shown masked as %s here: the masked form shows the last four\n", maskedCode)
	k.printf("  characters, which are random.)\n")
	return nil
}

// used returns the number of subject slots used on an instance, as the
// store keeps it.
func (k *walk) used(instance string) (int, error) {
	n, _, err := k.store.Usage(k.ctx, instance, "")
	if err != nil {
		return 0, fmt.Errorf("unexpected: reading the usage of %s: %w", instance, err)
	}
	return n, nil
}

// sameAnswer returns an error unless two refusals have the same Reason and
// read alike in every language.
func (k *walk) sameAnswer(a, b error) error {
	var ea, eb *icpverify.Error
	if !errors.As(a, &ea) || !errors.As(b, &eb) || ea.Reason != eb.Reason || a.Error() != b.Error() {
		return fmt.Errorf("unexpected: two answers differ: %v; %v", a, b)
	}
	for _, l := range languages {
		if icpverify.Localize(a, l.tag) != icpverify.Localize(b, l.tag) {
			return fmt.Errorf("unexpected: two answers read differently in %s: %v; %v", l.tag, a, b)
		}
	}
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
// one, names no application, or its Retry is not retry.
func (k *walk) passed(res icpverify.Result, err error, retry bool) error {
	if err != nil {
		return fmt.Errorf("unexpected refusal: %w", err)
	}
	if res.Retry != retry {
		return fmt.Errorf("unexpected: Result.Retry is %t, want %t", res.Retry, retry)
	}
	if res.Application == "" {
		return errors.New("unexpected: the Result names no application")
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

// refusedQuietly prints a refusal as a program sees it, or returns an error
// if err is not the expected refusal.
func (k *walk) refusedQuietly(err, sentinel error, reason icpverify.Reason) error {
	var e *icpverify.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) || e.Reason != reason {
		return fmt.Errorf("unexpected result, want %v (%s): %v", sentinel, reason, err)
	}
	k.printf("  -> refused: errors.Is(err, icpverify.%s) is true; errors.As gives Reason %q\n", sentinelName(sentinel), e.Reason)
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
