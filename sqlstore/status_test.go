package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// TestServiceCodeStates runs the Verifier's ServiceCodes and
// ServiceCodeStatus on each dialect, with a table prefix other than the
// default: the codes of an instance in the order they were issued, with
// the states their reservations give them, and the status of one code read
// through the store's CodeReserver agreeing with the list.
func TestServiceCodeStates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t, sqlstore.WithTablePrefix("st_"))
		ctx := context.Background()
		now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
		clock := func() time.Time { return now }
		v := icpverify.New(s, s, icpverify.WithClock(clock))
		inst := icpverify.Instance{ID: "i-status", Account: "owner", Product: icpverify.ProductECS,
			Region: "cn-shanghai", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.9",
			Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0)}
		if err := s.PutInstanceContext(ctx, inst); err != nil {
			t.Fatal(err)
		}
		var codes []string
		for i := range 4 {
			now = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC).Add(time.Duration(3-i) * -time.Minute)
			code, err := v.IssueServiceCode(ctx, inst.ID, "owner")
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, code)
		}
		now = now.Add(time.Hour)
		if _, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[1],
			Account: "owner", Subject: "Subject One", SubjectID: certOf("Subject One")}); err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[2],
			Account: "owner", Subject: "Subject Two", SubjectID: certOf("Subject Two")})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Complete(ctx, res.Application); err != nil {
			t.Fatal(err)
		}
		if err := v.RevokeServiceCode(ctx, codes[3]); err != nil {
			t.Fatal(err)
		}

		list, err := v.ServiceCodes(ctx, inst.ID, "owner")
		if err != nil {
			t.Fatalf("ServiceCodes: %v", err)
		}
		want := []icpverify.CodeState{icpverify.CodeUnbound, icpverify.CodeBound, icpverify.CodeFiled, icpverify.CodeInvalid}
		if len(list) != len(want) {
			t.Fatalf("ServiceCodes returned %d codes; want %d", len(list), len(want))
		}
		for i, st := range list {
			if st.Code != codes[i] || st.State != want[i] {
				t.Errorf("code %d = %s %s; want %s %s", i, st.Code, st.State, codes[i], want[i])
			}
			one, err := v.ServiceCodeStatus(ctx, st.Code)
			if err != nil {
				t.Fatalf("ServiceCodeStatus(%s): %v", st.Code, err)
			}
			if one != st {
				t.Errorf("ServiceCodeStatus(%s) = %+v; ServiceCodes listed %+v", st.Code, one, st)
			}
		}
		if list[1].Subject != "Subject One" || list[2].Applicant != "owner" || !list[2].Filed {
			t.Errorf("reservations not listed: %+v, %+v", list[1], list[2])
		}
		if _, err := v.ServiceCodes(ctx, inst.ID, "stranger"); err == nil {
			t.Error("ServiceCodes for a stranger succeeded")
		}
	})
}
