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
	c := &s.stmts
	c.mu.RLock()
	st, closed := c.m[query], c.closed
	c.mu.RUnlock()
	if st == nil && !closed {
		c.mu.Lock()
		if st = c.m[query]; st == nil && !c.closed {
			if p, err := s.db.PrepareContext(ctx, query); err == nil {
				if c.m == nil {
					c.m = make(map[string]*sql.Stmt)
				}
				c.m[query], st = p, p
			}
		}
		c.mu.Unlock()
	}
	if st == nil {
		return s.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
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
