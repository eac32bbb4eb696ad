package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// faultFixture is an instance with one subject's slot taken and a code of
// another subject's about to be reserved.
type faultFixture struct {
	s    *sqlstore.Store
	v    *icpverify.Verifier
	req  icpverify.Request // the reservation the fault hits
	inst string
}

func newFaultFixture(t *testing.T, d sqlstore.Dialect) (*database, *faultFixture) {
	t.Helper()
	db := newDatabase(t, d)
	s := db.store(t)
	v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
	reqs := issueCodes(t, s, v, 2)
	if _, err := v.Verify(context.Background(), reqs[0]); err != nil {
		t.Fatal(err)
	}
	res, err := v.Check(context.Background(), reqs[1])
	if err != nil {
		t.Fatal(err)
	}
	return db, &faultFixture{s: s, v: v, req: reqs[1], inst: res.Instance}
}

// checkUntouched checks that the failed reservation left nothing behind and
// took nothing away, and that a retry succeeds.
func (f *faultFixture) checkUntouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	code, _ := icpverify.NormalizeServiceCode(f.req.ServiceCode)
	if r, err := f.s.Reservation(ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("after the failure: Reservation = %+v, %v; want ErrNotFound", r, err)
	}
	if used, held, err := f.s.Usage(ctx, f.inst, f.req.Subject); err != nil || used != 1 || held {
		t.Errorf("after the failure: Usage = %d, %v, %v; want 1 (the other subject), not held", used, held, err)
	}
	checkRows(t, f.s.DB(), 1, 1)
	// The rollback of a killed connection may still hold locks for a
	// moment; the retry waits for them.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := f.v.Verify(rctx, f.req)
	if err != nil || res.Retry || res.Used != 2 {
		t.Errorf("retry after the failure: Verify = %+v, %v; want a first reservation with 2 used", res, err)
	}
	checkRows(t, f.s.DB(), 2, 2)
}

// TestKilledConnection kills the connection of a reservation's transaction
// from another connection just before it commits: PostgreSQL with
// pg_terminate_backend, MariaDB/MySQL with KILL.
func TestKilledConnection(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			db, f := newFaultFixture(t, d)
			var fired atomic.Bool
			restore := sqlstore.SetTestHook(func(ctx context.Context, point string, q sqlstore.Querier) error {
				if point != "reserve:before-commit" || !fired.CompareAndSwap(false, true) {
					return nil
				}
				var id int64
				var kill string
				if d == sqlstore.Postgres {
					if err := q.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&id); err != nil {
						return err
					}
					var ok bool
					if err := db.admin.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", id).Scan(&ok); err != nil || !ok {
						return fmt.Errorf("pg_terminate_backend(%d) = %v, %v", id, ok, err)
					}
					return nil
				}
				if err := q.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
					return err
				}
				kill = fmt.Sprintf("KILL %d", id) // KILL takes no placeholder; id is the server's integer
				_, err := db.admin.ExecContext(ctx, kill)
				return err
			})
			defer restore()
			res, err := f.v.Verify(context.Background(), f.req)
			if !fired.Load() {
				t.Fatal("the hook did not run")
			}
			if err == nil {
				t.Fatalf("Verify with its connection killed = %+v, no error; want an error", res)
			}
			t.Logf("Verify with its connection killed: %v", err)
			restore()
			f.checkUntouched(t)
		})
	}
}

type pauseKey struct{}

// TestCancelledMidReservation cancels the context of a reservation inside
// its transaction, and times out another one that waits for the first's
// locks (on SQLite, for the write lock).
func TestCancelledMidReservation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		t.Run("BeforeCommit", func(t *testing.T) {
			_, f := newFaultFixture(t, d)
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), pauseKey{}, true))
			defer cancel()
			restore := sqlstore.SetTestHook(func(ctx context.Context, point string, q sqlstore.Querier) error {
				if point == "reserve:before-commit" && ctx.Value(pauseKey{}) != nil {
					cancel()
				}
				return nil
			})
			defer restore()
			if res, err := f.v.Verify(ctx, f.req); err == nil {
				t.Fatalf("Verify cancelled before commit = %+v, no error; want an error", res)
			}
			restore()
			f.checkUntouched(t)
		})
		t.Run("WaitingForLock", func(t *testing.T) {
			db, f := newFaultFixture(t, d)
			ctx := context.Background()
			// A third subject's reservation on the same instance holds
			// its transaction open before commit until released.
			third := issueCodes(t, f.s, f.v, 1)[0]
			holding, release := make(chan struct{}), make(chan struct{})
			restore := sqlstore.SetTestHook(func(ctx context.Context, point string, q sqlstore.Querier) error {
				if point == "reserve:before-commit" && ctx.Value(pauseKey{}) != nil {
					close(holding)
					<-release
				}
				return nil
			})
			defer restore()
			// Same instance as f.req: issue the third code there.
			code, err := f.v.IssueServiceCode(ctx, f.inst, f.req.Account)
			if err != nil {
				t.Fatal(err)
			}
			third.ServiceCode, third.Account = code, f.req.Account
			done := make(chan error, 1)
			go func() {
				_, err := f.v.Verify(context.WithValue(ctx, pauseKey{}, true), third)
				done <- err
			}()
			<-holding
			// On SQLite the second store (another pool on the same
			// file) waits for the file's write lock; on the servers
			// for the quota row's lock.
			other := f.s
			if d == sqlstore.SQLite {
				var err error
				if other, err = sqlstore.New(db.open(t), d); err != nil {
					t.Fatal(err)
				}
			}
			v2 := icpverify.New(other, other, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
			tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			begun := time.Now()
			res, err := v2.Verify(tctx, f.req)
			if err == nil {
				t.Errorf("Verify waiting for a lock past its deadline = %+v, no error; want an error", res)
			}
			if waited := time.Since(begun); waited > 10*time.Second {
				t.Errorf("Verify returned %v after its deadline", waited)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the holding reservation: %v", err)
			}
			restore()
			// Now 2 are used: the first subject and the third.
			code2, _ := icpverify.NormalizeServiceCode(f.req.ServiceCode)
			if r, err := f.s.Reservation(ctx, code2); !errors.Is(err, icpverify.ErrNotFound) {
				t.Errorf("after the timeout: Reservation = %+v, %v; want ErrNotFound", r, err)
			}
			if used, held, err := f.s.Usage(ctx, f.inst, f.req.Subject); err != nil || used != 2 || held {
				t.Errorf("after the timeout: Usage = %d, %v, %v; want 2, not held", used, held, err)
			}
			res, err = f.v.Verify(ctx, f.req)
			if err != nil || res.Retry || res.Used != 3 {
				t.Errorf("retry after the timeout: Verify = %+v, %v; want a first reservation with 3 used", res, err)
			}
			checkRows(t, f.s.DB(), 3, 3)
		})
	})
}
