package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/profile"
)

// profileRule is a rule of a provider's profile, checked through a
// Verifier on the store: the row of the project's PROVIDERS.md it pins,
// with its grade, and a run that fails unless the rule holds. Rules that
// count check the last place under 64 racers.
type profileRule struct {
	provider string
	rule     string
	profile  func() icpverify.Profile
	run      func(w *world)
}

// profileTests lists the rules of every profile of package profile.
var profileTests = profileCases(
	alibabaRules, tencentRules, tencentQuotaRules, huaweiRules, jdRules, baiduRules, qingCloudRules)

// profileCases turns lists of rules into the subtests of Run.
func profileCases(lists ...[]profileRule) []testCase {
	var cases []testCase
	for _, list := range lists {
		for _, r := range list {
			cases = append(cases, testCase{name: r.provider + "/" + r.rule, run: func(t *testing.T, s Store) {
				r.run(newWorld(t, s, r.profile()))
			}})
		}
	}
	return cases
}

// adjusted returns p with the policy of product changed by edit.
func adjusted(p icpverify.Profile, product icpverify.ProductType, edit func(*icpverify.Policy)) icpverify.Profile {
	pol := p.Policies[product]
	edit(&pol)
	p.Policies[product] = pol
	return p
}

// moreCodes returns a profile function for p whose product issues more codes
// than a race needs, as if the provider sold extra ones, so that the limit
// under test binds first.
func moreCodes(p func() icpverify.Profile, product icpverify.ProductType) func() icpverify.Profile {
	return func() icpverify.Profile {
		return adjusted(p(), product, func(pol *icpverify.Policy) { pol.CodeLimit = 100 })
	}
}

var alibabaRules = []profileRule{
	{"Alibaba", "codes per instance: 5 (A)", profile.Alibaba, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		for range 5 {
			w.issue(inst, "")
		}
		w.cannotIssue(inst, icpverify.ReasonCodeLimit)
	}},
	{"Alibaba", "instance state: only running instances (A)", profile.Alibaba, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account(), func(i *icpverify.Instance) { i.Status = icpverify.Stopped })
		w.cannotIssue(inst, icpverify.ReasonNotRunning)
	}},
	{"Alibaba", "instance state: no public IP, no code (A)", profile.Alibaba, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account(), func(i *icpverify.Instance) { i.PublicIP = "" })
		w.cannotIssue(inst, icpverify.ReasonNoPublicIP)
	}},
	{"Alibaba", "code per website/subject: permanently used after success (A)", profile.Alibaba, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		code := w.issue(inst, "")
		app := w.filed(inst, code, inst.Account, w.subject())
		w.want("Deregister", w.v.Deregister(w.ctx, app), "")
		w.usage(inst.ID, 1)
		w.file(inst, code, inst.Account, w.subject(), icpverify.ReasonCodeUsed)
	}},
	{"Alibaba", "grant: GrantBsnCode to another account (A)", profile.Alibaba, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		code, grantee := w.issue(inst, ""), w.k.account()
		w.want("GrantServiceCode", w.v.GrantServiceCode(w.ctx, code, inst.Account, grantee), "")
		w.file(inst, code, grantee, w.subject(), "")
	}},
}

var tencentRules = []profileRule{
	{"Tencent", "products that can generate codes: CVM only, Lighthouse cannot (A)", profile.Tencent, func(w *world) {
		lh := w.server(profile.Lighthouse, w.k.account())
		_, err := w.v.IssueServiceCodeTo(w.ctx, lh.ID, lh.Account, w.k.account())
		w.want("IssueServiceCodeTo another account from Lighthouse", err, icpverify.ReasonNotGrantable)
		w.file(lh, w.issue(lh, ""), lh.Account, w.subject(), "")
	}},
	{"Tencent", "term: purchased at least 3 months, renewals included (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account(), func(i *icpverify.Instance) { i.TermMonths = 2 })
		w.cannotIssue(inst, icpverify.ReasonTermTooShort)
	}},
	{"Tencent", "term: at least 1 month remaining during the filing (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account(), func(i *icpverify.Instance) { i.ExpiresAt = baseTime.AddDate(0, 0, 20) })
		w.file(inst, w.issue(inst, ""), inst.Account, w.subject(), icpverify.ReasonRemainingTooShort)
	}},
	{"Tencent", "billing: pay-as-you-go cannot file or generate codes (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account(), func(i *icpverify.Instance) { i.Billing = icpverify.PayAsYouGo })
		w.cannotIssue(inst, icpverify.ReasonNotSubscription)
	}},
	{"Tencent", "region: mainland only (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account(), func(i *icpverify.Instance) { i.Region = "ap-hongkong" })
		w.cannotIssue(inst, icpverify.ReasonNotMainland)
	}},
	{"Tencent", "codes per instance: at most 5 per CVM (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account())
		for range 5 {
			w.issue(inst, "")
		}
		w.cannotIssue(inst, icpverify.ReasonCodeLimit)
	}},
	{"Tencent", "grant model: the grantee is entered at generation (A)", profile.Tencent, func(w *world) {
		inst, grantee := w.server(profile.CVM, w.k.account()), w.k.account()
		w.file(inst, w.issue(inst, grantee), grantee, w.subject(), "")
		err := w.v.GrantServiceCode(w.ctx, w.issue(inst, ""), inst.Account, w.k.account())
		w.want("GrantServiceCode after issue", err, icpverify.ReasonGrantFixed)
	}},
	{"Tencent", "who may generate codes: enterprise accounts; sub-accounts cannot be grantees (A)", func() icpverify.Profile {
		p := profile.Tencent()
		p.MayIssue = func(_ context.Context, issuer, grantee string) (bool, error) {
			return issuer[:3] == "ent" && grantee[:3] != "sub", nil
		}
		return p
	}, func(w *world) {
		personal := w.server(profile.CVM, "personal-"+w.k.account())
		w.cannotIssue(personal, icpverify.ReasonGrantNotAllowed)
		ent := w.server(profile.CVM, "ent-"+w.k.account())
		_, err := w.v.IssueServiceCodeTo(w.ctx, ent.ID, ent.Account, "sub-"+w.k.account())
		w.want("IssueServiceCodeTo a sub-account", err, icpverify.ReasonGrantNotAllowed)
		w.issue(ent, "main-"+w.k.account())
	}},
	{"Tencent", "reuse: an abandoned filing's code is reusable while valid (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CVM, w.k.account())
		code, subj := w.issue(inst, ""), w.subject()
		app := w.file(inst, code, inst.Account, subj, "")
		w.want("Release", w.v.Release(w.ctx, app), "")
		w.file(inst, code, inst.Account, subj, "")
	}},
	{"Tencent", "one account, one subject (A)", profile.Tencent, func(w *world) {
		account := w.k.account()
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(profile.CVM, account)
			return w.request(inst, w.issue(inst, ""), account, w.subject())
		}, icpverify.ReasonAccountSubjects)
	}},
}

var tencentQuotaRules = []profileRule{
	{"Tencent", "websites per instance: at most 5 per CVM (A)", moreCodes(profile.Tencent, profile.CVM), func(w *world) {
		inst, subj := w.server(profile.CVM, w.k.account()), w.subject()
		for range 4 {
			w.filed(inst, w.issue(inst, ""), inst.Account, subj)
		}
		w.raceForLast(func(int) icpverify.Request {
			return w.request(inst, w.issue(inst, ""), inst.Account, subj)
		}, icpverify.ReasonInstanceWebsites)
	}},
	{"Tencent", "other quotas: an SCF pack files 2 websites an account (A)", profile.Tencent, func(w *world) {
		w.fillThenRace(profile.SCF, 1, icpverify.ReasonAccountWebsites)
	}},
	{"Tencent", "other quotas: a CloudBase Run IP files 2 websites (A)", profile.Tencent, func(w *world) {
		w.fillThenRace(profile.CloudBaseRun, 1, icpverify.ReasonIPWebsites)
	}},
	{"Tencent", "other quotas: a CloudBase Run pack has at least 3 months remaining (A)", profile.Tencent, func(w *world) {
		inst := w.server(profile.CloudBaseRun, w.k.account(), func(i *icpverify.Instance) { i.ExpiresAt = baseTime.AddDate(0, 2, 0) })
		w.file(inst, w.issue(inst, ""), inst.Account, w.subject(), icpverify.ReasonRemainingTooShort)
	}},
	{"Tencent", "in-flight limit: one order of at most 10 new websites (A)", profile.Tencent, func(w *world) {
		account, subj := w.k.account(), w.subject()
		var last string
		for range 9 {
			inst := w.server(profile.CVM, account)
			last = w.file(inst, w.issue(inst, ""), account, subj, "")
		}
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(profile.CVM, account)
			return w.request(inst, w.issue(inst, ""), account, subj)
		}, icpverify.ReasonFilingInProgress)
		w.want("Complete", w.v.Complete(w.ctx, last), "")
		inst := w.server(profile.CVM, account)
		w.file(inst, w.issue(inst, ""), account, subj, "")
	}},
}

var huaweiRules = []profileRule{
	{"Huawei", "products: ECS at least 3 months, renewals included (B)", profile.Huawei, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account(), func(i *icpverify.Instance) { i.TermMonths = 2 })
		w.cannotIssue(inst, icpverify.ReasonTermTooShort)
	}},
	{"Huawei", "products: dedicated cloud yearly, at least 1 year (B)", profile.Huawei, func(w *world) {
		short := w.server(profile.DedicatedCloud, w.k.account(), func(i *icpverify.Instance) { i.TermMonths = 6 })
		w.cannotIssue(short, icpverify.ReasonTermTooShort)
		w.issue(w.server(profile.DedicatedCloud, w.k.account()), "")
	}},
	{"Huawei", "websites/codes per server: 5 codes per ECS (B)", profile.Huawei, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		for range 5 {
			w.issue(inst, "")
		}
		w.cannotIssue(inst, icpverify.ReasonCodeLimit)
	}},
	{"Huawei", "quota release: none (B)", profile.Huawei, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		app := w.filed(inst, w.issue(inst, ""), inst.Account, w.subject())
		w.want("Deregister", w.v.Deregister(w.ctx, app), "")
		w.usage(inst.ID, 1)
		w.file(inst, w.issue(inst, ""), inst.Account, w.subject(), icpverify.ReasonAccountSubjects)
	}},
	{"Huawei", "one account, one subject (B)", profile.Huawei, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		w.filed(inst, w.issue(inst, ""), inst.Account, w.subject())
		w.file(inst, w.issue(inst, ""), inst.Account, w.subject(), icpverify.ReasonAccountSubjects)
	}},
	{"Huawei", "a subject may use only one main account (B)", profile.Huawei, func(w *world) {
		subj := w.subject()
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(icpverify.ProductECS, w.k.account())
			return w.request(inst, w.issue(inst, ""), inst.Account, subj)
		}, icpverify.ReasonSubjectAccounts)
	}},
}

var jdRules = []profileRule{
	{"JD", "code TTL: 1 year from application (B)", profile.JD, func(w *world) {
		inst := w.server(profile.VM, w.k.account(), func(i *icpverify.Instance) { i.ExpiresAt = baseTime.AddDate(3, 0, 0) })
		code := w.issue(inst, "")
		w.setClock(baseTime.AddDate(1, 0, 1))
		w.file(inst, code, inst.Account, w.subject(), icpverify.ReasonCodeExpired)
	}},
	{"JD", "websites per server: at most 5 held at once; deregistering frees (A)", moreCodes(profile.JD, profile.VM), func(w *world) {
		inst, subj := w.server(profile.VM, w.k.account()), w.subject()
		var first string
		for i := range 4 {
			app := w.filed(inst, w.issue(inst, ""), inst.Account, subj)
			if i == 0 {
				first = app
			}
		}
		w.raceForLast(func(int) icpverify.Request {
			return w.request(inst, w.issue(inst, ""), inst.Account, subj)
		}, icpverify.ReasonInstanceWebsites)
		w.file(inst, w.issue(inst, ""), inst.Account, subj, icpverify.ReasonInstanceWebsites)
		w.want("Deregister", w.v.Deregister(w.ctx, first), "")
		w.file(inst, w.issue(inst, ""), inst.Account, subj, "")
	}},
	{"JD", "codes per unit: 5 per IP (B)", profile.JD, func(w *world) {
		w.fillThenRace(profile.VM, 4, icpverify.ReasonIPWebsites)
	}},
	{"JD", "one account, one subject; deregistering frees (A)", profile.JD, func(w *world) {
		inst := w.server(profile.VM, w.k.account())
		app := w.filed(inst, w.issue(inst, ""), inst.Account, w.subject())
		other := w.subject()
		w.file(inst, w.issue(inst, ""), inst.Account, other, icpverify.ReasonAccountSubjects)
		w.want("Deregister", w.v.Deregister(w.ctx, app), "")
		w.usage(inst.ID, 0)
		w.file(inst, w.issue(inst, ""), inst.Account, other, "")
	}},
}

var baiduRules = []profileRule{
	{"Baidu", "who may use: own account or any other account (A)", profile.Baidu, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		w.file(inst, w.issue(inst, ""), w.k.account(), w.subject(), "")
	}},
	{"Baidu", "code validity: invalid once its instance expires (A)", profile.Baidu, func(w *world) {
		inst := w.server(icpverify.ProductECS, w.k.account())
		code := w.issue(inst, "")
		w.setClock(inst.ExpiresAt.Add(time.Hour))
		w.file(inst, code, w.k.account(), w.subject(), icpverify.ReasonInstanceExpired)
	}},
}

var qingCloudRules = []profileRule{
	{"QingCloud", "subjects per account: up to 5 (A)", profile.QingCloud, func(w *world) {
		account := w.k.account()
		for range 4 {
			inst := w.server(icpverify.ProductECS, account)
			w.filed(inst, w.issue(inst, ""), account, w.subject())
		}
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(icpverify.ProductECS, account, func(in *icpverify.Instance) { in.PublicIP = w.newIP() })
			return w.request(inst, w.issue(inst, ""), account, w.subject())
		}, icpverify.ReasonAccountSubjects)
	}},
	{"QingCloud", "websites per subject: up to 10 (A)", profile.QingCloud, func(w *world) {
		account, subj := w.k.account(), w.subject()
		own := func(in *icpverify.Instance) { in.PublicIP = w.newIP() }
		for range 3 {
			inst := w.server(icpverify.ProductECS, account, own)
			for range 3 {
				w.filed(inst, w.issue(inst, ""), account, subj)
			}
		}
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(icpverify.ProductECS, account, own)
			return w.request(inst, w.issue(inst, ""), account, subj)
		}, icpverify.ReasonSubjectWebsites)
	}},
	{"QingCloud", "IP binding: one public IP serves at most 10 websites (A)", profile.QingCloud, func(w *world) {
		for range 9 {
			inst := w.server(icpverify.ProductECS, w.k.account())
			w.filed(inst, w.issue(inst, ""), inst.Account, w.subject())
		}
		w.raceForLast(func(int) icpverify.Request {
			inst := w.server(icpverify.ProductECS, w.k.account())
			return w.request(inst, w.issue(inst, ""), inst.Account, w.subject())
		}, icpverify.ReasonIPWebsites)
	}},
}

// want fails the subtest unless err is a refusal with the reason want, or
// nil if want is empty.
func (w *world) want(what string, err error, want icpverify.Reason) {
	w.t.Helper()
	if msg := wantReason(err, want); msg != "" {
		w.t.Fatalf("%s: %s", what, msg)
	}
}

// fillThenRace files n websites of one account for one subject, each with
// a code of a new instance of product at the world's IP, completed, then
// races 64 more for what must be the last place, the rest refused with
// the reason full.
func (w *world) fillThenRace(product icpverify.ProductType, n int, full icpverify.Reason) {
	w.t.Helper()
	account, subj := w.k.account(), w.subject()
	for range n {
		inst := w.server(product, account)
		w.filed(inst, w.issue(inst, ""), account, subj)
	}
	w.raceForLast(func(int) icpverify.Request {
		inst := w.server(product, account)
		return w.request(inst, w.issue(inst, ""), account, subj)
	}, full)
}

// cannotIssue fails the subtest unless IssueServiceCode of inst, by its
// owner, is refused with the reason want.
func (w *world) cannotIssue(inst icpverify.Instance, want icpverify.Reason) {
	w.t.Helper()
	_, err := w.v.IssueServiceCode(w.ctx, inst.ID, inst.Account)
	w.want(fmt.Sprintf("IssueServiceCode of %s (%s, %d months, %s, %s)", inst.ID, inst.Product, inst.TermMonths, inst.Status, inst.Region), err, want)
}

// usage fails the subtest unless want subjects hold a slot on instance.
func (w *world) usage(instance string, want int) {
	w.t.Helper()
	used, _, err := w.s.Usage(w.ctx, instance, "")
	if err != nil || used != want {
		w.t.Fatalf("Usage(%q) = %d, %v; want %d subjects", instance, used, err, want)
	}
}
