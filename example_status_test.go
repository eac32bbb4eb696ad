package icpverify_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/subject"
)

func ExampleVerifier_ServiceCodeStatus() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	show := func() {
		st, err := v.ServiceCodeStatus(ctx, code)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s (%d) owner %s subject %q filed %v invalid %q\n",
			st.State, st.State.ProviderCode(), st.Owner, st.Subject, st.Filed, st.Invalid)
	}
	show()

	// An application is submitted: the code is bound while it is under
	// review.
	res, err := v.Verify(ctx, icpverify.Request{
		Product:     icpverify.ProductECS,
		ServiceCode: code,
		Account:     "acct-1",
		Subject:     "Hangzhou Example Co., Ltd.",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	})
	if err != nil {
		log.Fatal(err)
	}
	show()

	// The filing is approved, then the provider revokes the code.
	if err := v.Complete(ctx, res.Application); err != nil {
		log.Fatal(err)
	}
	show()
	if err := v.RevokeServiceCode(ctx, code); err != nil {
		log.Fatal(err)
	}
	show()
	// Output:
	// unbound (0) owner acct-1 subject "" filed false invalid ""
	// bound (1) owner acct-1 subject "Hangzhou Example Co., Ltd." filed false invalid ""
	// filed (2) owner acct-1 subject "Hangzhou Example Co., Ltd." filed true invalid ""
	// invalid (3) owner acct-1 subject "Hangzhou Example Co., Ltd." filed true invalid "code_revoked"
}

func ExampleVerifier_ServiceCodes() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for range 2 {
		if _, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1"); err != nil {
			log.Fatal(err)
		}
	}
	codes, err := v.ServiceCodes(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	for _, st := range codes {
		fmt.Println(st.Instance, st.State, st.ExpiresAt.Format(time.DateOnly))
	}
	// A stranger is told the instance does not exist.
	_, err = v.ServiceCodes(ctx, "i-bp1example", "acct-2")
	fmt.Println(err)
	// Output:
	// i-bp1example unbound 2027-11-28
	// i-bp1example unbound 2027-11-28
	// icpverify: invalid product information: instance_not_found, instance "i-bp1example"
}
