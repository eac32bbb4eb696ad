package main

import (
	"fmt"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/profile"
)

// provider is one provider's Verifier, on a store of its own, with the
// applicant's server there.
type provider struct {
	name    string
	v       *icpverify.Verifier
	store   icpverify.MemoryStore
	product icpverify.ProductType
	server  string
}

// profiles runs one applicant's filings under the rules of Huawei Cloud
// and of JD Cloud: both let an account file for one subject, but only JD
// gives a deregistered filing's places back.
func (k *walk) profiles() error {
	k.printf("\n== 7. Two providers' rules (WithProfile, Deregister) ==\n")
	k.printf("\nHuawei Cloud and JD Cloud both let one account file for one subject. When a\n")
	k.printf("filing is deregistered, Huawei gives nothing back; JD frees its places.\n")
	providers := []*provider{
		{name: "Huawei", product: icpverify.ProductECS, server: "ecs-hw-0001", store: icpverify.NewMemoryStore()},
		{name: "JD", product: profile.VM, server: "vm-jd-0001", store: icpverify.NewMemoryStore()},
	}
	providers[0].v = icpverify.New(providers[0].store, providers[0].store,
		icpverify.WithProfile(profile.Huawei()), icpverify.WithClock(k.clock.Now))
	providers[1].v = icpverify.New(providers[1].store, providers[1].store,
		icpverify.WithProfile(profile.JD()), icpverify.WithClock(k.clock.Now))
	for _, p := range providers {
		if err := k.underProfile(p); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// underProfile files a website for one subject with p, completes and
// deregisters it, and files for another subject: refused under Huawei's
// rules, passed under JD's.
func (k *walk) underProfile(p *provider) error {
	now := k.clock.Now()
	inst := icpverify.Instance{ID: p.server, Account: dave, Product: p.product, Region: "cn-north-1",
		Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "198.51.100.7",
		Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)}
	if err := p.store.PutInstanceContext(k.ctx, inst); err != nil {
		return fmt.Errorf("loading instance %s: %w", inst.ID, err)
	}
	k.printf("\n%s: dave owns %s (%s), a 12-month subscription.\n", p.name, inst.ID, inst.Product)
	first, err := k.fileWith(p, "Beijing Dave Studio")
	if err := k.passed(first, err, false); err != nil {
		return err
	}
	if err := p.v.Complete(k.ctx, first.Application); err != nil {
		return fmt.Errorf("unexpected: Complete: %w", err)
	}
	k.printf("  The filing is approved (Complete), and later deregistered (Deregister).\n")
	if err := p.v.Deregister(k.ctx, first.Application); err != nil {
		return fmt.Errorf("unexpected: Deregister: %w", err)
	}
	used, _, err := p.store.Usage(k.ctx, inst.ID, "")
	if err != nil {
		return fmt.Errorf("unexpected: Usage: %w", err)
	}
	k.printf("  %d of %d subject slots of %s used after the deregistration.\n", used, first.Limit, inst.ID)
	second, err := k.fileWith(p, "Beijing Dave Trading Co., Ltd.")
	if p.name == "Huawei" {
		return k.refused(err, icpverify.ErrQuotaReached, icpverify.ReasonAccountSubjects)
	}
	return k.passed(second, err, false)
}

// fileWith issues dave a code from his server with p and verifies his
// filing for the named subject with it.
func (k *walk) fileWith(p *provider, subjectName string) (icpverify.Result, error) {
	code, err := p.v.IssueServiceCode(k.ctx, p.server, dave)
	if err != nil {
		return icpverify.Result{}, fmt.Errorf("unexpected: issuing a code from %s: %w", p.server, err)
	}
	k.printf("  dave files a website for %q with a new code of %s.\n", subjectName, p.server)
	return p.v.Verify(k.ctx, icpverify.Request{Product: p.product, ServiceCode: code, Account: dave,
		Subject: subjectName, SubjectID: certOf(subjectName)})
}
