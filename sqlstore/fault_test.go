package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
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
	code, _ := codeformat.Normalize(f.req.ServiceCode)
	if r, err := f.s.Reservation(ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("after the failure: Reservation = %+v, %v; want ErrNotFound", r, err)
	}
	if used, held, err := f.s.Usage(ctx, f.inst, keyOf(t, f.req)); err != nil || used != 1 || held {
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

// reserveRoutine is what the statement that reserves a code on
// PostgreSQL and MySQL, a call of the routine of schema version 3 (on
// PostgreSQL inside the lookup of the code), contains.
const reserveRoutine = sqlstore.DefaultPrefix + "reserve("

// autocommit reports whether d reserves with one statement in autocommit
// (the routine of schema version 3), whose commit is the statement's own,
// rather than in a transaction the store commits.
func autocommit(d sqlstore.Dialect) bool { return d != sqlstore.SQLite }

// onReservationCommit makes h run in place of the commit of the next
// reservation: its COMMIT on SQLite, the statement that reserves in
// autocommit on PostgreSQL and MySQL. A nil h clears it.
func (f *faultFixture) onReservationCommit(h commitHook) {
	if autocommit(f.db.d) {
		f.faults.onNextStatement(reserveRoutine, h)
		return
	}
	f.faults.onNextCommit(h)
}

// checkSettled checks what a reservation that failed with callErr (nil if
// it succeeded) left behind, when its commit may have happened after all:
// either nothing, or the reservation, whole; and that a retry settles it:
// a retried Verify reports the reservation, with 2 used, as a retry if
// the call had committed.
func (f *faultFixture) checkSettled(t *testing.T, callErr error) {
	t.Helper()
	ctx := context.Background()
	code, _ := codeformat.Normalize(f.req.ServiceCode)
	_, err := f.s.Reservation(ctx, code)
	stored := err == nil
	if err != nil && !errors.Is(err, icpverify.ErrNotFound) {
		t.Fatalf("after the failure: Reservation: %v", err)
	}
	if callErr == nil && !stored {
		t.Error("the call succeeded but stored no reservation")
	}
	want := 1
	if stored {
		want = 2
	}
	if used, held, err := f.s.Usage(ctx, f.inst, keyOf(t, f.req)); err != nil || used != want || held != stored {
		t.Errorf("after the failure: Usage = %d, %v, %v; want %d, %v", used, held, err, want, stored)
	}
	checkRows(t, f.s.DB(), want, want)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := f.v.Verify(rctx, f.req)
	if err != nil || res.Retry != stored || res.Used != 2 {
		t.Errorf("retry after the failure (stored: %v): Verify = %+v, %v; want 2 used, Retry %v", stored, res, err, stored)
	}
	checkRows(t, f.s.DB(), 2, 2)
}

// waitIdle waits until no session of the namespace runs a statement: a
// statement whose call has returned may still run on the server (MySQL
// goes on with a statement whose connection was closed until it answers).
func (f *faultFixture) waitIdle(t *testing.T) {
	t.Helper()
	q := `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query'`
	if f.db.d == sqlstore.Postgres {
		q = `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid()`
	}
	for range 200 {
		var n int
		if err := f.db.admin.QueryRow(q, f.db.name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("a statement of the namespace is still running")
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
	if _, err := tx.ExecContext(ctx, q, f.inst, keyOf(t, f.req)); err != nil {
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
				f.onReservationCommit(func(c *faultConn, commit func() error) error {
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
				if autocommit(d) {
					// The statement met a dead connection before it was
					// sent: the call fails, or database/sql sends it again
					// on another connection (driver.ErrBadConn).
					t.Logf("Verify with its connection killed before its statement: %+v, %v", res, err)
					f.checkSettled(t, err)
					return
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
		if autocommit(d) {
			testCancelledAroundStatement(t, d)
		}
		t.Run("BeforeCommit", func(t *testing.T) {
			if autocommit(d) {
				t.Skip("no COMMIT: the reservation is one statement in autocommit (see BeforeSend and AfterSend)")
			}
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
			if autocommit(d) {
				// The statement may go on once the lock is released, and
				// commit (MySQL goes on until it answers; PostgreSQL may
				// commit before its cancel request arrives).
				f.waitIdle(t)
				f.checkSettled(t, err)
				return
			}
			f.checkUntouched(t)
		})
	})
}

// testCancelledAroundStatement cancels the context of a reservation made
// by one statement in autocommit: just before the statement is sent
// (nothing may be stored) and just after it was (the call fails with the
// context's error or succeeds, and a retry settles it).
func testCancelledAroundStatement(t *testing.T, d sqlstore.Dialect) {
	for _, sent := range []bool{false, true} {
		name := "BeforeSend"
		if sent {
			name = "AfterSend"
		}
		t.Run(name, func(t *testing.T) {
			f := newFaultFixture(t, d)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var fired atomic.Bool
			f.onReservationCommit(func(c *faultConn, send func() error) error {
				fired.Store(true)
				if sent {
					err := send()
					cancel()
					return err
				}
				cancel()
				return send()
			})
			res, err := f.v.Verify(ctx, f.req)
			f.onReservationCommit(nil)
			if !fired.Load() {
				t.Fatal("the statement hook did not run")
			}
			if !sent {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Verify cancelled before its statement = %+v, %v; want an error wrapping context.Canceled", res, err)
				}
				f.checkUntouched(t)
				return
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Verify cancelled after its statement: %v; want success or context.Canceled", err)
			}
			f.checkSettled(t, err)
		})
	}
}

// TestCommitCertificationConflict answers a COMMIT of MySQL with error
// 1213, as Galera does for a transaction whose write set failed
// certification, having rolled it back whole: the store runs the call
// again, which then succeeds.
func TestCommitCertificationConflict(t *testing.T) {
	skipUnlessAvailable(t, sqlstore.MySQL)
	f := newFaultFixture(t, sqlstore.MySQL)
	if _, err := f.v.Verify(context.Background(), f.req); err != nil {
		t.Fatal(err)
	}
	code, _ := codeformat.Normalize(f.req.ServiceCode)
	r, err := f.s.Reservation(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	var fired atomic.Bool
	f.faults.onNextCommit(func(c *faultConn, commit func() error) error {
		fired.Store(true)
		return &mysql.MySQLError{Number: 1213, Message: "Deadlock: wsrep aborted transaction"}
	})
	if _, err := f.s.Release(context.Background(), r); err != nil {
		t.Fatalf("Release with a certification conflict at its first COMMIT: %v; want it retried", err)
	}
	if !fired.Load() {
		t.Fatal("the commit hook did not run")
	}
	if used, held, err := f.s.Usage(context.Background(), f.inst, r.SubjectKey); err != nil || used != 1 || held {
		t.Errorf("Usage after the release = %d, %v, %v; want 1, not held", used, held, err)
	}
	checkRows(t, f.s.DB(), 1, 1)
}
