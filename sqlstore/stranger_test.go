package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// tripLog records the round trips of the connections of a pool opened by
// openCounting while it is on: each statement run, directly or through a
// prepared statement, each PREPARE, and each BEGIN, COMMIT and ROLLBACK of
// a transaction begun with BeginTx.
type tripLog struct {
	mu    sync.Mutex
	on    bool
	trips []string
}

// note records a round trip.
func (l *tripLog) note(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.trips = append(l.trips, strings.Join(strings.Fields(what), " "))
	}
}

// during returns the round trips f makes.
func (l *tripLog) during(f func()) []string {
	l.mu.Lock()
	l.on, l.trips = true, nil
	l.mu.Unlock()
	f()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.trips
}

// openCounting returns a new pool of one connection on the namespace,
// whose round trips l records.
func (db *database) openCounting(t testing.TB, l *tripLog) *sql.DB {
	t.Helper()
	plain, err := sql.Open(driverName(db.d), db.dsn)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	drv := plain.Driver()
	plain.Close()
	var connector driver.Connector = dsnConnector{drv, db.dsn}
	if dc, ok := drv.(driver.DriverContext); ok {
		if connector, err = dc.OpenConnector(db.dsn); err != nil {
			t.Fatalf("OpenConnector: %v", err)
		}
	}
	pool := setUpDB(t, sql.OpenDB(&countConnector{Connector: connector, l: l}))
	// One connection: a statement prepared once is not prepared again
	// on another connection.
	pool.SetMaxOpenConns(1)
	return pool
}

// countConnector opens a driver's connections as countConns.
type countConnector struct {
	driver.Connector
	l *tripLog
}

func (cc *countConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: conn, l: cc.l}, nil
}

// countConn is a driver's connection whose round trips are recorded.
type countConn struct {
	driver.Conn
	l *tripLog
}

func (c *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	bt, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("countConn: the driver's connection has no BeginTx")
	}
	c.l.note("BEGIN")
	tx, err := bt.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countTx{Tx: tx, l: c.l}, nil
}

func (c *countConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.l.note("PREPARE " + query)
	var st driver.Stmt
	var err error
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = pc.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countStmt{Stmt: st, l: c.l, query: query}, nil
}

func (c *countConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.l.note(query)
	return ec.ExecContext(ctx, query, args)
}

func (c *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.l.note(query)
	return qc.QueryContext(ctx, query, args)
}

func (c *countConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// countTx is a driver's transaction whose end is recorded.
type countTx struct {
	driver.Tx
	l *tripLog
}

func (t *countTx) Commit() error {
	t.l.note("COMMIT")
	return t.Tx.Commit()
}

func (t *countTx) Rollback() error {
	t.l.note("ROLLBACK")
	return t.Tx.Rollback()
}

// countStmt is a driver's prepared statement whose executions are
// recorded.
type countStmt struct {
	driver.Stmt
	l     *tripLog
	query string
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("countStmt: the driver's statement has no ExecContext")
	}
	s.l.note(s.query)
	return ec.ExecContext(ctx, args)
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("countStmt: the driver's statement has no QueryContext")
	}
	s.l.note(s.query)
	return qc.QueryContext(ctx, args)
}

// strangerCodes seeds s with an instance of another account and a code it
// issued, and returns that code and a well-formed code that s does not
// hold, issued from a throwaway memory store.
func strangerCodes(t testing.TB, s *sqlstore.Store) (absent, other string) {
	t.Helper()
	ctx := context.Background()
	owner := randomName("owner-")
	inst := eligible("i-"+owner, owner)
	if err := s.PutInstanceContext(ctx, inst); err != nil {
		t.Fatalf("PutInstance: %v", err)
	}
	code, err := icpverify.New(s, s).IssueServiceCode(ctx, inst.ID, owner)
	if err != nil {
		t.Fatalf("IssueServiceCode: %v", err)
	}
	mem := icpverify.NewMemoryStore()
	if err := mem.PutInstance(inst); err != nil {
		t.Fatalf("MemoryStore.PutInstance: %v", err)
	}
	elsewhere, err := icpverify.New(mem, mem).IssueServiceCode(ctx, inst.ID, owner)
	if err != nil {
		t.Fatalf("IssueServiceCode on a memory store: %v", err)
	}
	var ok bool
	if other, ok = icpverify.NormalizeServiceCode(code); !ok {
		t.Fatalf("issued code %q is not well formed", code)
	}
	if absent, ok = icpverify.NormalizeServiceCode(elsewhere); !ok {
		t.Fatalf("issued code %q is not well formed", elsewhere)
	}
	if _, err := s.ServiceCode(ctx, absent); !errors.Is(err, icpverify.ErrNotFound) {
		t.Fatalf("the absent code: ServiceCode = %v; want ErrNotFound", err)
	}
	return absent, other
}

// strangerRequest is a stranger's request with code.
func strangerRequest(code string) icpverify.Request {
	return icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: "stranger", Subject: "Stranger Ltd"}
}

// refusedAsUnknown fails t unless err refuses a code as one that does not
// exist.
func refusedAsUnknown(t testing.TB, what string, err error) {
	t.Helper()
	var e *icpverify.Error
	if !errors.As(err, &e) || e.Reason != icpverify.ReasonCodeNotFound {
		t.Fatalf("%s: %v; want a refusal with %s", what, err, icpverify.ReasonCodeNotFound)
	}
}

// TestStrangerRoundTrips checks that a stranger's Verify and Check make
// the same round trips to the store for a well-formed code that does not
// exist as for a code of another account, so that how long the refusal
// takes does not tell the stranger whether the code exists. It runs with
// the store passed twice (its one-call lookup) and behind a separate
// InstanceStore value (the plain reads).
func TestStrangerRoundTrips(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db := newDatabase(t, d)
		absent, other := strangerCodes(t, db.store(t))
		var log tripLog
		s := db.storeOn(t, db.openCounting(t, &log))
		ctx := context.Background()
		for _, two := range []bool{false, true} {
			mode := "one store"
			var v *icpverify.Verifier
			if two {
				mode = "two stores"
				v = icpverify.New(instancesOnly{s}, s)
			} else {
				v = icpverify.New(s, s)
			}
			t.Run(mode, func(t *testing.T) {
				for _, op := range []struct {
					name string
					call func(context.Context, icpverify.Request) (icpverify.Result, error)
				}{{"Verify", v.Verify}, {"Check", v.Check}} {
					trips := func(code, which string) []string {
						var err error
						got := log.during(func() { _, err = op.call(ctx, strangerRequest(code)) })
						refusedAsUnknown(t, op.name+" of "+which, err)
						return got
					}
					// The first calls prepare the statements.
					trips(absent, "the absent code")
					trips(other, "another account's code")
					for range 2 {
						a := trips(absent, "the absent code")
						o := trips(other, "another account's code")
						if len(a) == 0 {
							t.Fatalf("%s of the absent code: no round trips recorded", op.name)
						}
						if len(a) != len(o) || !slices.Equal(a, o) {
							t.Fatalf("%s: %d round trips for the absent code, %d for another account's:\nabsent: %q\nother:  %q",
								op.name, len(a), len(o), a, o)
						}
						t.Logf("%s: %d round trips each", op.name, len(a))
					}
				}
			})
		}
	})
}

// timingEnv enables TestStrangerTimingReport.
const timingEnv = "ICPVERIFY_TIMING"

// TestStrangerTimingReport measures, without asserting anything, how long
// a stranger's Verify takes for a well-formed code that does not exist and
// for another account's code, with the store passed twice: 1,000 samples
// of each, taken in turn, and their medians logged. It runs only with
// ICPVERIFY_TIMING=1.
func TestStrangerTimingReport(t *testing.T) {
	if os.Getenv(timingEnv) != "1" {
		t.Skip(timingEnv + " not set to 1; set it to measure a stranger's Verify of an absent code and of another account's code")
	}
	const samples = 1000
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		absent, other := strangerCodes(t, s)
		v := icpverify.New(s, s)
		ctx := context.Background()
		codes := [2]string{absent, other}
		var took [2][]time.Duration
		for i := range 2*samples + 20 {
			which := i % 2
			start := time.Now()
			_, err := v.Verify(ctx, strangerRequest(codes[which]))
			elapsed := time.Since(start)
			refusedAsUnknown(t, "Verify", err)
			if i >= 20 { // the first calls prepare the statements
				took[which] = append(took[which], elapsed)
			}
		}
		median := func(ds []time.Duration) float64 {
			slices.Sort(ds)
			return float64(ds[len(ds)/2]) / float64(time.Microsecond)
		}
		t.Logf("a stranger's Verify, median of %d each: absent code %.1f µs, another account's code %.1f µs",
			samples, median(took[0]), median(took[1]))
	})
}
