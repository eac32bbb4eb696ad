package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the prepared statements of the reads on the hot path of a
// verification, so that each costs one round trip (MySQL without
// interpolateParams would otherwise prepare, execute and close) and SQLite
// does not parse it again.
type stmtCache struct {
	mu     sync.RWMutex
	m      map[string]*sql.Stmt
	closed bool
}

// queryRow runs a single-row query through its prepared statement,
// preparing it on first use. If it cannot be prepared, as before Migrate,
// it runs the query unprepared.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmts.get(ctx, s.db, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// get returns the statement of query prepared on db, preparing it if it is
// not yet; nil if it cannot be prepared or the cache is closed. It prepares
// without holding the lock, so that a call waits for its own PREPARE, which
// its ctx bounds, never for another's: two calls may then prepare the same
// query, and the one that comes second closes its statement.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.RLock()
	st, closed := c.m[query], c.closed
	c.mu.RUnlock()
	if st != nil || closed {
		return st
	}
	p, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	st, closed = c.m[query], c.closed
	if st == nil && !closed {
		if c.m == nil {
			c.m = make(map[string]*sql.Stmt)
		}
		c.m[query] = p
	}
	c.mu.Unlock()
	if st != nil || closed {
		p.Close()
		return st
	}
	return p
}

// Close releases the statements the Store prepared. It does not close the
// *sql.DB. The Store stays usable, without prepared statements.
func (s *Store) Close() error {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	for q, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, q)
	}
	return first
}
