package sqlstore_test

import (
	"context"
	"database/sql"
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
// Its store's pool runs through the wrapping driver of faultdriver_test.go,
// steered by faults.
type faultFixture struct {
	db     *database
	s      *sqlstore.Store
	faults *faults
	v      *icpverify.Verifier
	req    icpverify.Request // the reservation the fault hits
	inst   string
}

// newFaultFixture makes a faultFixture on a fresh namespace of d.
func newFaultFixture(t *testing.T, d sqlstore.Dialect) *faultFixture {
	t.Helper()
	db := newDatabase(t, d)
	pool, faults := db.openFaults(t)
	s := db.storeOn(t, pool)
	v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
	reqs := issueCodes(t, s, v, 2)
	if _, err := v.Verify(context.Background(), reqs[0]); err != nil {
		t.Fatal(err)
	}
	res, err := v.Check(context.Background(), reqs[1])
	if err != nil {
		t.Fatal(err)
	}
	return &faultFixture{db: db, s: s, faults: faults, v: v, req: reqs[1], inst: res.Instance}
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
	if used, held, err := f.s.Usage(ctx, f.inst, nameKey(t, f.req.Subject)); err != nil || used != 1 || held {
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

// lastStatement returns the number of statements the transaction of the
// fixture's reservation runs: it runs the reservation once with its COMMIT
// refused, which rolls it back, leaving the fixture as it was.
func (f *faultFixture) lastStatement(t *testing.T) int {
	t.Helper()
	refused := errors.New("COMMIT refused by the test")
	n := 0
	f.faults.onNextCommit(func(c *faultConn, commit func() error) error {
		n = c.statements()
		return refused
	})
	if _, err := f.v.Verify(context.Background(), f.req); !errors.Is(err, refused) {
		t.Fatalf("Verify with its COMMIT refused: %v; want %v", err, refused)
	}
	if n == 0 {
		t.Fatal("the reservation's transaction ran no statement")
	}
	return n
}

// blockSlot makes the fixture's reservation wait inside its transaction:
// another transaction inserts the subject key's slot row and holds it
// uncommitted until release is called, which rolls it back. On SQLite it
// holds the database's write lock.
func (f *faultFixture) blockSlot(t *testing.T) (release func()) {
	t.Helper()
	ctx := context.Background()
	if f.db.d == sqlstore.SQLite {
		conn, err := f.db.open(t).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		return func() {
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
		}
	}
	tx, err := f.db.admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := "INSERT INTO " + f.db.name + "." + sqlstore.DefaultPrefix + "slots (instance, subject_key, holds) VALUES (?, ?, 1)"
	if f.db.d == sqlstore.Postgres {
		q = "INSERT INTO " + f.db.name + "." + sqlstore.DefaultPrefix + "slots (instance, subject_key, holds) VALUES ($1, $2, 1)"
	}
	if _, err := tx.ExecContext(ctx, q, f.inst, nameKey(t, f.req.Subject)); err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// blocked waits until a session of the fixture's namespace waits for the
// slot, and returns its ID.
func (f *faultFixture) blocked(t *testing.T) int64 {
	t.Helper()
	q := `SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO ` + sqlstore.DefaultPrefix + `slots%'`
	if f.db.d == sqlstore.Postgres {
		q = `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`
	}
	for range 200 {
		var id int64
		err := f.db.admin.QueryRow(q, f.db.name).Scan(&id)
		if err == nil {
			return id
		}
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the reservation did not wait for the slot")
	return 0
}

// kill ends the session id from the admin connection: PostgreSQL with
// pg_terminate_backend, MariaDB/MySQL with KILL.
func (f *faultFixture) kill(ctx context.Context, id int64) error {
	if f.db.d == sqlstore.Postgres {
		var ok bool
		if err := f.db.admin.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", id).Scan(&ok); err != nil || !ok {
			return fmt.Errorf("pg_terminate_backend(%d) = %v, %v", id, ok, err)
		}
		return nil
	}
	_, err := f.db.admin.ExecContext(ctx, fmt.Sprintf("KILL %d", id)) // KILL takes no placeholder; id is the server's integer
	return err
}

// TestKilledConnection kills the connection of a reservation from another
// connection, in the middle of its transaction: while it waits for a slot
// row another transaction holds, and just before it commits (from the
// wrapping driver's commit hook, which reads the connection's ID on the
// connection itself).
func TestKilledConnection(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			skipUnlessAvailable(t, d)
			t.Run("Waiting", func(t *testing.T) {
				f := newFaultFixture(t, d)
				release := f.blockSlot(t)
				done := make(chan error, 1)
				go func() {
					_, err := f.v.Verify(context.Background(), f.req)
					done <- err
				}()
				if err := f.kill(context.Background(), f.blocked(t)); err != nil {
					t.Fatal(err)
				}
				err := <-done
				release()
				if err == nil {
					t.Fatal("Verify with its connection killed succeeded; want an error")
				}
				t.Logf("Verify with its connection killed: %v", err)
				f.checkUntouched(t)
			})
			t.Run("BeforeCommit", func(t *testing.T) {
				f := newFaultFixture(t, d)
				var fired atomic.Bool
				f.faults.onNextCommit(func(c *faultConn, commit func() error) error {
					fired.Store(true)
					ctx := context.Background()
					query := "SELECT CONNECTION_ID()"
					if d == sqlstore.Postgres {
						query = "SELECT pg_backend_pid()"
					}
					id, err := c.queryInt(ctx, query)
					if err != nil {
						return err
					}
					if err := f.kill(ctx, id); err != nil {
						return err
					}
					return commit()
				})
				res, err := f.v.Verify(context.Background(), f.req)
				if !fired.Load() {
					t.Fatal("the commit hook did not run")
				}
				if err == nil {
					t.Fatalf("Verify with its connection killed = %+v, no error; want an error", res)
				}
				t.Logf("Verify with its connection killed: %v", err)
				f.checkUntouched(t)
			})
		})
	}
}

// TestCancelledMidReservation cancels the context of a reservation inside
// its transaction: just before it commits, and while it waits for a lock
// another transaction holds (on SQLite, the write lock).
func TestCancelledMidReservation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		t.Run("BeforeCommit", func(t *testing.T) {
			f := newFaultFixture(t, d)
			last := f.lastStatement(t)
			// Cancel once the transaction's last statement has
			// returned: the store must then not commit.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var fired, committed atomic.Bool
			f.faults.afterStatement(func(n int) {
				if n == last && fired.CompareAndSwap(false, true) {
					cancel()
				}
			})
			f.faults.onNextCommit(func(c *faultConn, commit func() error) error {
				committed.Store(true)
				return commit()
			})
			res, err := f.v.Verify(ctx, f.req)
			f.faults.afterStatement(nil)
			f.faults.onNextCommit(nil)
			if !fired.Load() {
				t.Fatal("the statement hook did not run")
			}
			if err == nil {
				t.Fatalf("Verify cancelled before commit = %+v, no error; want an error", res)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Verify cancelled before commit: %v; want an error wrapping context.Canceled", err)
			}
			if committed.Load() {
				t.Error("the store sent COMMIT after its context was cancelled")
			}
			f.checkUntouched(t)
		})
		t.Run("Waiting", func(t *testing.T) {
			f := newFaultFixture(t, d)
			release := f.blockSlot(t)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			begun := time.Now()
			res, err := f.v.Verify(ctx, f.req)
			waited := time.Since(begun)
			release()
			if err == nil {
				t.Fatalf("Verify waiting for a lock past its deadline = %+v, no error; want an error", res)
			}
			if waited > 10*time.Second {
				t.Errorf("Verify returned %v after its deadline", waited)
			}
			f.checkUntouched(t)
		})
	})
}
