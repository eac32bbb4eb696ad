package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// bulkInstance returns the i-th instance of a load, tagged so that a
// replacement differs in every column.
func bulkInstance(i int, tag string) icpverify.Instance {
	inst := icpverify.Instance{
		ID: fmt.Sprintf("i-bulk-%06d", i), Account: fmt.Sprintf("acct-%s-%d", tag, i%37),
		Product: icpverify.ProductECS, Region: "cn-hangzhou-" + tag, Billing: icpverify.Subscription,
		TermMonths: 3 + i%24, PublicIP: fmt.Sprintf("203.0.%d.%d", i%256, len(tag)),
		Trial: i%5 == 0, Status: icpverify.Running,
		ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Microsecond),
	}
	if tag != "old" {
		inst.Product, inst.Billing, inst.Status = icpverify.ProductSimpleApplicationServer, icpverify.PayAsYouGo, icpverify.Stopped
	}
	if i%7 == 0 {
		inst.ExpiresAt = time.Time{} // NULL
	}
	return inst
}

// countInstances returns the number of rows of the instances table.
func countInstances(t testing.TB, s *sqlstore.Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+sqlstore.DefaultPrefix+"instances").Scan(&n); err != nil {
		t.Fatalf("counting instances: %v", err)
	}
	return n
}

func TestPutInstancesRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		ctx := context.Background()

		// Nothing to store: no error, no write.
		if err := s.PutInstances(ctx, nil); err != nil {
			t.Fatalf("PutInstances(nil) = %v", err)
		}
		if err := s.PutInstances(ctx, []icpverify.Instance{}); err != nil {
			t.Fatalf("PutInstances(empty) = %v", err)
		}

		// 2,500 instances: a transaction of several statements and a
		// short last statement.
		const n = 2500
		want := make(map[string]icpverify.Instance)
		var first []icpverify.Instance
		for i := range n {
			first = append(first, bulkInstance(i, "old"))
		}
		if err := s.PutInstances(ctx, first); err != nil {
			t.Fatalf("PutInstances: %v", err)
		}
		for _, inst := range first {
			want[inst.ID] = inst
		}
		// A code issued from an instance, which its replacement keeps.
		sc := icpverify.ServiceCode{Code: "AAAA-AAAA-AAAA-AAAA", Instance: first[10].ID, Owner: first[10].Account}
		if issued, added, err := s.AddServiceCode(ctx, sc, 2); err != nil || !added || issued != 1 {
			t.Fatalf("AddServiceCode = %d, %v, %v", issued, added, err)
		}

		// Replace every third, add new ones, and give one ID twice in one
		// statement and one twice across transactions: the last wins.
		var second []icpverify.Instance
		for i := 0; i < n+300; i += 3 {
			second = append(second, bulkInstance(i, "new"))
		}
		dup := bulkInstance(9, "dup")
		second = append(second[:1], append([]icpverify.Instance{dup}, second[1:]...)...) // before its "new" (at 4) in the same statement: "new" wins
		late := bulkInstance(12, "late")
		second = append(second, late)
		for _, inst := range second {
			want[inst.ID] = inst
		}
		if err := s.PutInstances(ctx, second); err != nil {
			t.Fatalf("PutInstances (replacements): %v", err)
		}
		if got := countInstances(t, s); got != len(want) {
			t.Fatalf("%d instances stored, want %d", got, len(want))
		}
		for id, w := range want {
			got, err := s.Instance(ctx, id)
			if err != nil {
				t.Fatalf("Instance(%q): %v", id, err)
			}
			if !got.ExpiresAt.Equal(w.ExpiresAt) {
				t.Fatalf("Instance(%q).ExpiresAt = %v, want %v", id, got.ExpiresAt, w.ExpiresAt)
			}
			got.ExpiresAt = w.ExpiresAt
			if got != w {
				t.Fatalf("Instance(%q) = %+v, want %+v", id, got, w)
			}
		}
		if got := want[bulkInstance(9, "").ID]; got.Region != "cn-hangzhou-new" {
			t.Fatalf("instance 9 kept %q, want the last of the statement", got.Region)
		}
		// The replaced instance still counts its code: one more fits its
		// limit of 2, then none.
		sc.Code = "BBBB-BBBB-BBBB-BBBB"
		if issued, added, err := s.AddServiceCode(ctx, sc, 2); err != nil || !added || issued != 2 {
			t.Fatalf("AddServiceCode after the replacement = %d, %v, %v; want 2, true", issued, added, err)
		}
	})
}

// badInstances are instances PutInstanceContext refuses, by what is wrong.
func badInstances() map[string]icpverify.Instance {
	ok := bulkInstance(1, "old")
	bad := map[string]icpverify.Instance{}
	for name, f := range map[string]func(*icpverify.Instance){
		"empty ID":       func(i *icpverify.Instance) { i.ID = "" },
		"long ID":        func(i *icpverify.Instance) { i.ID = strings.Repeat("i", sqlstore.MaxLen+1) },
		"NUL account":    func(i *icpverify.Instance) { i.Account = "a\x00b" },
		"invalid UTF-8":  func(i *icpverify.Instance) { i.Region = "cn-\xff" },
		"long public IP": func(i *icpverify.Instance) { i.PublicIP = strings.Repeat("1", sqlstore.MaxLen+1) },
		"year 10000":     func(i *icpverify.Instance) { i.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		inst := ok
		f(&inst)
		bad[name] = inst
	}
	return bad
}

func TestPutInstancesRefusesBadInstance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		ctx := context.Background()
		for name, bad := range badInstances() {
			t.Run(name, func(t *testing.T) {
				// PutInstances refuses what PutInstanceContext refuses.
				if err := s.PutInstanceContext(ctx, bad); !errors.Is(err, sqlstore.ErrInvalid) {
					t.Fatalf("PutInstanceContext = %v, want ErrInvalid", err)
				}
				// 1,500 instances, the bad one in the middle of the second
				// statement: nothing is written, not even the first
				// statement's.
				insts := make([]icpverify.Instance, 1500)
				for i := range insts {
					insts[i] = bulkInstance(i, "old")
				}
				const at = 1234
				insts[at] = bad
				err := s.PutInstances(ctx, insts)
				var pe *sqlstore.PutInstancesError
				if !errors.As(err, &pe) || !errors.Is(err, sqlstore.ErrInvalid) {
					t.Fatalf("PutInstances = %v, want a *PutInstancesError wrapping ErrInvalid", err)
				}
				if pe.Index != at || pe.ID != bad.ID || pe.Stored != 0 {
					t.Fatalf("PutInstancesError = %+v, want Index %d, ID %q, Stored 0", pe, at, bad.ID)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("instance %d ", at)) {
					t.Errorf("error %q does not name index %d", err, at)
				}
				if got := countInstances(t, s); got != 0 {
					t.Fatalf("%d instances stored after a refusal, want 0", got)
				}
			})
		}
	})
}

func TestPutInstancesContext(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		// Three transactions; two on SQLite, slow under the race detector.
		n := 25000
		if d == sqlstore.SQLite {
			n = 12000
		}
		insts := make([]icpverify.Instance, n)
		for i := range insts {
			insts[i] = bulkInstance(i, "old")
		}

		// Cancelled before the call: nothing is stored.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.PutInstances(ctx, insts); !errors.Is(err, context.Canceled) {
			t.Fatalf("PutInstances(cancelled) = %v, want context.Canceled", err)
		}
		if got := countInstances(t, s); got != 0 {
			t.Fatalf("%d instances stored with a cancelled context, want 0", got)
		}

		// How long a whole load takes here.
		start := time.Now()
		if err := s.PutInstances(context.Background(), insts); err != nil {
			t.Fatalf("PutInstances: %v", err)
		}
		whole := time.Since(start)

		// Cancelled during the load: it returns at once, and what is
		// stored is what Stored says, give or take the transaction whose
		// COMMIT was in flight.
		for _, after := range []time.Duration{time.Millisecond, whole / 2, whole * 9 / 10} {
			if _, err := s.DB().ExecContext(context.Background(), "DELETE FROM "+sqlstore.DefaultPrefix+"instances"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), after)
			start := time.Now()
			err := s.PutInstances(ctx, insts)
			took := time.Since(start)
			cancel()
			if err == nil {
				continue // it finished first
			}
			if took > after+2*time.Second {
				t.Errorf("PutInstances with a deadline of %v returned after %v", after, took)
			}
			var pe *sqlstore.PutInstancesError
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Index != -1 {
				t.Fatalf("PutInstances past its deadline = %v, want a *PutInstancesError wrapping DeadlineExceeded", err)
			}
			got := countInstances(t, s)
			t.Logf("deadline %v: returned after %v, %d stored (%d rows)", after, took, pe.Stored, got)
			if got < pe.Stored || got > pe.Stored+10000 {
				t.Fatalf("%d instances stored, PutInstancesError says %d", got, pe.Stored)
			}
			for _, i := range []int{0, pe.Stored - 1} {
				if i < 0 || i >= pe.Stored {
					continue
				}
				if _, err := s.Instance(context.Background(), insts[i].ID); err != nil {
					t.Fatalf("instance %d of the %d stored: %v", i, pe.Stored, err)
				}
			}
			// Resuming from Stored completes the load.
			if err := s.PutInstances(context.Background(), insts[pe.Stored:]); err != nil {
				t.Fatalf("resuming: %v", err)
			}
			if got := countInstances(t, s); got != len(insts) {
				t.Fatalf("%d instances after resuming, want %d", got, len(insts))
			}
		}
	})
}
