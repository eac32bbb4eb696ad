package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/subject"
)

// world is a Verifier under a provider's Profile on the store of one
// subtest, with helpers that make its instances, codes and applicants and
// stop the subtest (t.Fatal) when a step that sets up the state fails.
// They must be called from the subtest's goroutine, except verify, which
// reports with its result.
type world struct {
	t      *testing.T
	s      Store
	ctx    context.Context
	k      keys
	v      *icpverify.Verifier
	region string // a mainland region under the profile
	ip     string // a public IP of this subtest's own
	ips    atomic.Int32
	now    atomic.Pointer[time.Time] // the Verifier's clock
}

// newWorld returns a world whose Verifier runs the profile p on s, with
// the clock stopped at baseTime.
func newWorld(t *testing.T, s Store, p icpverify.Profile) *world {
	w := &world{t: t, s: s, ctx: t.Context(), k: newKeys(), region: "cn-hangzhou"}
	if p.Mainland != nil && !p.Mainland(w.region) {
		w.region = "ap-guangzhou"
	}
	w.setClock(baseTime)
	w.v = icpverify.New(s, s, icpverify.WithProfile(p), icpverify.WithClock(func() time.Time { return *w.now.Load() }))
	w.ip = w.newIP()
	return w
}

// setClock sets the Verifier's clock to t.
func (w *world) setClock(t time.Time) { w.now.Store(&t) }

// newIP returns a public IP no other subtest uses: an IPv6 address in the
// documentation prefix with the subtest's random tag.
func (w *world) newIP() string {
	return fmt.Sprintf("2001:db8:%s:%s::%x", w.k.tag[:4], w.k.tag[4:8], w.ips.Add(1))
}

// server stores and returns a new instance of account that may file and
// issue codes under the usual terms, as edit leaves it: running, a
// subscription of 12 months with a year left, in a mainland region, at
// the world's public IP.
func (w *world) server(product icpverify.ProductType, account string, edit ...func(*icpverify.Instance)) icpverify.Instance {
	w.t.Helper()
	inst := icpverify.Instance{
		ID: w.k.instance(), Account: account, Product: product, Region: w.region,
		Billing: icpverify.Subscription, TermMonths: 12, PublicIP: w.ip,
		Status: icpverify.Running, ExpiresAt: baseTime.AddDate(1, 0, 0),
	}
	for _, e := range edit {
		e(&inst)
	}
	if err := w.s.PutInstanceContext(w.ctx, inst); err != nil {
		w.t.Fatalf("PutInstanceContext(%q): %v", inst.ID, err)
	}
	return inst
}

// issue issues a code of inst to its owner, granted to grantee if it is
// not empty, and fails the subtest if the Verifier refuses.
func (w *world) issue(inst icpverify.Instance, grantee string) string {
	w.t.Helper()
	code, err := w.v.IssueServiceCodeTo(w.ctx, inst.ID, inst.Account, grantee)
	if err != nil {
		w.t.Fatalf("IssueServiceCodeTo(%q, %q, %q): %v", inst.ID, inst.Account, grantee, err)
	}
	return code
}

// subject returns a new subject, known by a passport number of its own.
func (w *world) subject() subject.ID {
	return subject.ID{Type: subject.CertPassport, Number: "P" + strings.ToUpper(randomHex(10))}
}

// request returns the request of account, for subj, to file a new website
// with code, selecting inst's product type.
func (w *world) request(inst icpverify.Instance, code, account string, subj subject.ID) icpverify.Request {
	return icpverify.Request{Product: inst.Product, ServiceCode: code, Account: account,
		Subject: "Subject " + subj.Number, SubjectID: subj, Website: "w" + randomHex(8) + ".example.com"}
}

// file verifies the request of account to file a website with code for
// subj, and fails the subtest unless the result is a refusal with the
// reason want, or a pass if want is empty. It returns the application.
func (w *world) file(inst icpverify.Instance, code, account string, subj subject.ID, want icpverify.Reason) string {
	w.t.Helper()
	res, err := w.v.Verify(w.ctx, w.request(inst, code, account, subj))
	if msg := wantReason(err, want); msg != "" {
		w.t.Fatalf("Verify(code of %s by %s for %s): %s", inst.ID, account, subj.Number, msg)
	}
	return res.Application
}

// filed files a website as file does, and completes its filing.
func (w *world) filed(inst icpverify.Instance, code, account string, subj subject.ID) string {
	w.t.Helper()
	app := w.file(inst, code, account, subj, "")
	if err := w.v.Complete(w.ctx, app); err != nil {
		w.t.Fatalf("Complete(%s): %v", app, err)
	}
	return app
}

// wantReason returns what is wrong with err, expecting a refusal with the
// reason want, or no error if want is empty; "" if nothing is.
func wantReason(err error, want icpverify.Reason) string {
	var e *icpverify.Error
	switch {
	case want == "" && err == nil:
		return ""
	case want == "":
		return fmt.Sprintf("error %v; want it to pass", err)
	case errors.As(err, &e) && e.Reason == want:
		return ""
	case errors.As(err, &e):
		return fmt.Sprintf("refused with reason %q (%v); want %q", e.Reason, err, want)
	case err == nil:
		return fmt.Sprintf("passed; want a refusal with reason %q", want)
	}
	return fmt.Sprintf("error %v; want a refusal with reason %q", err, want)
}

// raceForLast runs 64 requests at once, made by req(i), for what should be
// the last free place, and fails the subtest unless exactly one passes and
// every other is refused with the reason full.
func (w *world) raceForLast(req func(i int) icpverify.Request, full icpverify.Reason) {
	w.t.Helper()
	const racers = 64
	reqs := make([]icpverify.Request, racers)
	for i := range reqs {
		reqs[i] = req(i)
	}
	errs := make([]error, racers)
	concurrently(racers, func(i int) {
		_, errs[i] = w.v.Verify(w.ctx, reqs[i])
	})
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		if msg := wantReason(err, full); msg != "" {
			w.t.Errorf("racer %d: %s", i, msg)
		}
	}
	if won != 1 {
		w.t.Errorf("%d of %d racers for the last place passed; want exactly 1", won, racers)
	}
}
