package profile_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/profile"
	"github.com/icpfiling/icpverify/subject"
)

// now is the examples' clock.
var now = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// files verifies a filing of account for the subject with the given USCC,
// with a new code of the instance, and returns the application, or the
// refusal's Reason.
func files(v *icpverify.Verifier, instance, account, uscc string) (string, error) {
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, instance, account)
	if err != nil {
		return "", err
	}
	res, err := v.Verify(ctx, icpverify.Request{Product: profile.VM, ServiceCode: code, Account: account,
		Subject: "Example Co., Ltd.", SubjectID: subject.ID{Type: subject.CertUSCC, Number: uscc}})
	return res.Application, err
}

// JD Cloud lets an account file for one subject, and frees a filing's
// places when the filing is deregistered.
func ExampleJD() {
	ctx := context.Background()
	store := icpverify.NewMemoryStore()
	err := store.PutInstanceContext(ctx, icpverify.Instance{ID: "vm-1", Account: "acct-1", Product: profile.VM,
		Region: "cn-north-1", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "198.51.100.7",
		Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)})
	if err != nil {
		log.Fatal(err)
	}
	v := icpverify.New(store, store, icpverify.WithProfile(profile.JD()),
		icpverify.WithClock(func() time.Time { return now }))

	app, err := files(v, "vm-1", "acct-1", "91110000600037341L")
	if err != nil {
		log.Fatal(err)
	}
	if err := v.Complete(ctx, app); err != nil {
		log.Fatal(err)
	}
	_, err = files(v, "vm-1", "acct-1", "91110108MA02E7R362")
	var e *icpverify.Error
	if errors.As(err, &e) {
		fmt.Println("a second subject:", e.Reason)
	}
	if err := v.Deregister(ctx, app); err != nil {
		log.Fatal(err)
	}
	_, err = files(v, "vm-1", "acct-1", "91110108MA02E7R362")
	fmt.Println("after the first filing is deregistered:", err)
	// Output:
	// a second subject: account_subjects
	// after the first filing is deregistered: <nil>
}

// A provider adjusts a profile field by field before passing it: here
// Tencent's, with the provider's account service telling which accounts
// are verified enterprises, which alone issue codes, and CVM instances
// serving three subjects.
func ExampleTencent() {
	enterprise := map[string]bool{"acct-ent": true}
	p := profile.Tencent()
	p.MayIssue = func(_ context.Context, issuer, _ string) (bool, error) {
		return enterprise[issuer], nil
	}
	cvm := p.Policies[profile.CVM]
	cvm.SubjectLimit = 3
	p.Policies[profile.CVM] = cvm

	ctx := context.Background()
	store := icpverify.NewMemoryStore()
	for _, account := range []string{"acct-ent", "acct-personal"} {
		err := store.PutInstanceContext(ctx, icpverify.Instance{ID: "ins-" + account, Account: account,
			Product: profile.CVM, Region: "ap-guangzhou", Billing: icpverify.Subscription, TermMonths: 12,
			PublicIP: "198.51.100.8", Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)})
		if err != nil {
			log.Fatal(err)
		}
	}
	v := icpverify.New(store, store, icpverify.WithProfile(p), icpverify.WithClock(func() time.Time { return now }))

	// The grantee is named when the code is issued, and never changes.
	code, err := v.IssueServiceCodeTo(ctx, "ins-acct-ent", "acct-ent", "acct-client")
	fmt.Println("issued to a client:", err)
	var e *icpverify.Error
	if err := v.GrantServiceCode(ctx, code, "acct-ent", "acct-other"); errors.As(err, &e) {
		fmt.Println("granted to another:", e.Reason)
	}
	_, err = v.IssueServiceCode(ctx, "ins-acct-personal", "acct-personal")
	if errors.As(err, &e) {
		fmt.Println("a personal account:", e.Reason)
		fmt.Println(icpverify.Localize(err, language.SimplifiedChinese))
	}
	// Output:
	// issued to a client: <nil>
	// granted to another: grant_fixed
	// a personal account: grant_not_allowed
	// 产品信息无效。实例ins-acct-personal的备案服务码不能为该账号申请或授权给该账号：只有符合备案要求（如完成相应实名认证）的账号才能申请或获得备案服务码。请确认相关账号符合要求后重试，或使用您自己的实例申请备案服务码。
}
