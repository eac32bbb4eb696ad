package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
)

// faults steers the connections of a pool opened by openFaults: a test
// sets hooks that run inside the pool's transactions, at their COMMIT and
// after each of their statements, and before a statement is prepared, and
// records their round trips when asked to (trips). The store under test
// knows nothing of it: it sees a *sql.DB whose driver is the real one,
// wrapped.
//
// A transaction is one begun with BeginTx (PostgreSQL, MySQL) or by a
// statement "BEGIN ..." run on the connection (the store's BEGIN IMMEDIATE
// on SQLite), which then ends with "COMMIT" or "ROLLBACK". Statements of a
// transaction run through a prepared statement are not counted; the store
// runs its transactions' statements directly (MySQL needs
// interpolateParams=true for that, as the tests' DSN has).
type faults struct {
	mu        sync.Mutex
	commit    commitHook
	match     []string   // what the statement of stmtHook contains, one of them
	stmtHook  commitHook // runs in place of the next statement that contains a match
	statement func(n int)
	prepare   func(query string)
	trips     tripLog // the round trips, while they are recorded
}

// tripLog records the round trips of the connections of a pool opened by
// openFaults while it is on (see during): each statement run, directly or
// through a prepared statement, each PREPARE, and each BEGIN, COMMIT and
// ROLLBACK.
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

// commitHook runs in place of a transaction's COMMIT, with c, the
// connection the transaction runs on. commit sends the COMMIT and returns
// the driver's answer; the hook returns what the transaction's commit
// returns to database/sql. If the hook does not call commit, the
// transaction is rolled back, and the hook must return an error.
type commitHook func(c *faultConn, commit func() error) error

// onNextCommit makes h run in place of the next COMMIT of any connection
// of the pool, once. A nil h clears a hook that has not run yet.
func (f *faults) onNextCommit(h commitHook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commit = h
}

// takeCommit returns the hook for this COMMIT, if any, and clears it.
func (f *faults) takeCommit() commitHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.commit
	f.commit = nil
	return h
}

// onNextStatement makes h run in place of the next statement of any
// connection of the pool whose text contains one of match, in a transaction or
// not, run directly or through a prepared statement; once. h's commit
// argument sends the statement and returns the driver's answer; if h does
// not call it, the statement is not sent and h must return an error. A nil
// h clears a hook that has not run yet.
func (f *faults) onNextStatement(h commitHook, match ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.match, f.stmtHook = match, h
}

// takeStatement returns the hook for a statement of text query, if one
// is set for it, and clears it.
func (f *faults) takeStatement(query string) commitHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.stmtHook
	if h == nil || !slices.ContainsFunc(f.match, func(m string) bool { return strings.Contains(query, m) }) {
		return nil
	}
	f.stmtHook = nil
	return h
}

// afterStatement makes h run after each statement of a transaction
// returns, before its answer reaches database/sql, with its number in its
// transaction: 1, 2, ... A nil h clears it.
func (f *faults) afterStatement(h func(n int)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statement = h
}

// statementHook returns the hook set by afterStatement.
func (f *faults) statementHook() func(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statement
}

// onNextPrepare makes h run before the next statement of any connection
// of the pool is prepared, once.
func (f *faults) onNextPrepare(h func(query string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepare = h
}

// takePrepare returns the hook for this prepare, if any, and clears it.
func (f *faults) takePrepare() func(query string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.prepare
	f.prepare = nil
	return h
}

// openFaults returns a new pool on the namespace, one replica as open
// returns, whose connections run through faultConn, and the faults that
// steer them.
func (db *database) openFaults(t testing.TB) (*sql.DB, *faults) {
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
	f := &faults{}
	return setUpDB(t, sql.OpenDB(&faultConnector{Connector: connector, f: f})), f
}

// dsnConnector is the connector of a driver that has no OpenConnector, as
// sql.Open makes it.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

// Connect opens a connection with the driver's Open.
func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the driver.
func (c dsnConnector) Driver() driver.Driver { return c.drv }

// faultConnector opens the connections of a driver's Connector as
// faultConns.
type faultConnector struct {
	driver.Connector
	f *faults
}

// Connect opens a connection and wraps it. It is a faultValidConn if the
// driver's connection is a driver.Validator, else a faultConn, so that
// database/sql treats it as it treats the driver's own.
func (fc *faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := fc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c := &faultConn{Conn: conn, f: fc.f}
	if _, ok := conn.(driver.Validator); ok {
		return faultValidConn{c}, nil
	}
	return c, nil
}

// Close closes the driver's Connector if it has a Close method.
func (fc *faultConnector) Close() error {
	if c, ok := fc.Connector.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// faultConn is a driver's connection that runs the hooks of its faults.
// database/sql uses a connection from one goroutine at a time, so its
// fields need no lock.
type faultConn struct {
	driver.Conn
	f     *faults
	inTx  bool
	stmts int // statements of the current transaction
}

// faultValidConn is a faultConn whose driver's connection is a
// driver.Validator.
type faultValidConn struct{ *faultConn }

// IsValid implements driver.Validator.
func (c faultValidConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// statements returns the number of statements run so far in the current
// transaction.
func (c *faultConn) statements() int { return c.stmts }

// queryInt runs query, whose answer is one integer, on the driver's
// connection itself: in a commit hook, inside the transaction.
func (c *faultConn) queryInt(ctx context.Context, query string) (int64, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return 0, errors.New("faultConn: the driver's connection has no QueryContext")
	}
	rows, err := qc.QueryContext(ctx, query, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		return 0, fmt.Errorf("%s: %w", query, err)
	}
	var n sql.NullInt64
	if err := n.Scan(dest[0]); err != nil || !n.Valid {
		return 0, fmt.Errorf("%s: not an integer: %v (%v)", query, dest[0], err)
	}
	return n.Int64, nil
}

// begin records that a transaction began.
func (c *faultConn) begin() { c.inTx, c.stmts = true, 0 }

// ran counts a statement that returned and runs the statement hook if it
// was in a transaction.
func (c *faultConn) ran() {
	if !c.inTx {
		return
	}
	c.stmts++
	if h := c.f.statementHook(); h != nil {
		h(c.stmts)
	}
}

// commit ends the transaction with send, which sends its COMMIT, through
// the commit hook if one is set; if the hook does not call send, rollback
// ends it.
func (c *faultConn) commit(send, rollback func() error) error {
	c.f.trips.note("COMMIT")
	h := c.f.takeCommit()
	defer func() { c.inTx = false }()
	if h == nil {
		return send()
	}
	sent := false
	err := h(c, func() error {
		sent = true
		return send()
	})
	if !sent {
		if rerr := rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		if err == nil {
			return errors.New("faultConn: the commit hook rolled the transaction back without an error")
		}
	}
	return err
}

// BeginTx implements driver.ConnBeginTx.
func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	bt, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("faultConn: the driver's connection has no BeginTx")
	}
	c.f.trips.note("BEGIN")
	tx, err := bt.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.begin()
	return &faultTx{Tx: tx, c: c}, nil
}

// PrepareContext implements driver.ConnPrepareContext, running the
// prepare hook first.
func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if h := c.f.takePrepare(); h != nil {
		h(query)
	}
	c.f.trips.note("PREPARE " + query)
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
	return &faultStmt{Stmt: st, c: c, query: query}, nil
}

// hooked runs a statement of text query with send, through the statement
// hook if one is set for it.
func (c *faultConn) hooked(query string, send func() error) error {
	c.f.trips.note(query)
	h := c.f.takeStatement(query)
	if h == nil {
		return send()
	}
	sent := false
	err := h(c, func() error {
		sent = true
		return send()
	})
	if !sent && err == nil {
		return errors.New("faultConn: the statement hook did not send the statement and returned no error")
	}
	return err
}

// query runs a query with send through the statement hook, and closes
// the rows if the hook fails it after sending it.
func (c *faultConn) query(query string, send func() (driver.Rows, error)) (driver.Rows, error) {
	var rows driver.Rows
	err := c.hooked(query, func() error {
		var err error
		rows, err = send()
		return err
	})
	if err != nil && rows != nil {
		rows.Close()
		rows = nil
	}
	return rows, err
}

// ExecContext implements driver.ExecerContext. It sees the BEGIN, COMMIT
// and ROLLBACK statements of transactions run as statements.
func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	word := strings.ToUpper(strings.TrimSpace(query))
	switch {
	case strings.HasPrefix(word, "BEGIN"):
		c.f.trips.note(query)
		res, err := ec.ExecContext(ctx, query, args)
		if err == nil {
			c.begin()
		}
		return res, err
	case word == "COMMIT" && c.inTx:
		var res driver.Result = driver.ResultNoRows
		err := c.commit(func() error {
			r, err := ec.ExecContext(ctx, query, args)
			if r != nil {
				res = r
			}
			return err
		}, func() error {
			_, err := ec.ExecContext(context.WithoutCancel(ctx), "ROLLBACK", nil)
			return err
		})
		return res, err
	case word == "ROLLBACK":
		c.f.trips.note(query)
		c.inTx = false
		return ec.ExecContext(ctx, query, args)
	}
	var res driver.Result
	err := c.hooked(query, func() error {
		var err error
		res, err = ec.ExecContext(ctx, query, args)
		return err
	})
	c.ran()
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := c.query(query, func() (driver.Rows, error) { return qc.QueryContext(ctx, query, args) })
	c.ran()
	return rows, err
}

// Ping implements driver.Pinger.
func (c *faultConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter.
func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// CheckNamedValue implements driver.NamedValueChecker: the driver's own
// check, or database/sql's default conversion.
func (c *faultConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// faultTx is a driver's transaction whose Commit goes through the commit
// hook.
type faultTx struct {
	driver.Tx
	c *faultConn
}

// Commit implements driver.Tx.
func (t *faultTx) Commit() error { return t.c.commit(t.Tx.Commit, t.Tx.Rollback) }

// Rollback implements driver.Tx.
func (t *faultTx) Rollback() error {
	t.c.f.trips.note("ROLLBACK")
	t.c.inTx = false
	return t.Tx.Rollback()
}

// faultStmt is a driver's prepared statement whose executions go through
// the statement hook of its connection.
type faultStmt struct {
	driver.Stmt
	c     *faultConn
	query string
}

// ExecContext implements driver.StmtExecContext.
func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("faultStmt: the driver's statement has no ExecContext")
	}
	var res driver.Result
	err := s.c.hooked(s.query, func() error {
		var err error
		res, err = ec.ExecContext(ctx, args)
		return err
	})
	return res, err
}

// QueryContext implements driver.StmtQueryContext.
func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("faultStmt: the driver's statement has no QueryContext")
	}
	return s.c.query(s.query, func() (driver.Rows, error) { return qc.QueryContext(ctx, args) })
}
