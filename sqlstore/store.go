package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
)

// Store is an icpverify.InstanceStore and icpverify.QuotaStore kept in a SQL
// database, shared by every process that opens a Store on it. It is safe for
// concurrent use. Create its tables with Migrate before the first call.
type Store struct {
	db     *sql.DB
	d      Dialect
	prefix string
	q      queries
	stmts  stmtCache
	writer chan struct{} // SQLite: a semaphore of this Store's write transactions
	// quotasTx is set once PostgreSQL's sessions were found not to run at
	// READ COMMITTED: Reserve then calls ${p}reserve_quotas in a
	// transaction at that level (see reserveQuotasCall).
	quotasTx atomic.Bool
}

var (
	_ icpverify.CodeReserver   = (*Store)(nil)
	_ icpverify.InstanceLister = (*Store)(nil)
)

// DefaultPrefix is the table name prefix unless WithTablePrefix sets another.
const DefaultPrefix = "icpverify_"

// Option configures a Store.
type Option func(*config)

type config struct {
	prefix string
}

// WithTablePrefix sets the prefix of the store's table names, DefaultPrefix
// unless set. It must be at most 32 characters of lower-case ASCII letters,
// digits and underscores, not starting with a digit; it may be empty.
func WithTablePrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

var validPrefix = regexp.MustCompile(`^([a-z_][a-z0-9_]{0,31})?$`)

// New returns a Store that keeps its tables in db, whose SQL dialect is d.
// It does not touch the database: call Migrate to create or update the
// tables.
//
// For SQLite, open db on a file (not ":memory:", which is one database per
// connection) with a busy timeout, e.g. with modernc.org/sqlite:
// "file:/path/icp.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)".
// For MySQL, "interpolateParams=true" in the DSN saves a round trip per
// statement.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New: nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: New: unknown dialect %v", d)
	}
	c := config{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if !validPrefix.MatchString(c.prefix) {
		return nil, fmt.Errorf("sqlstore: New: invalid table prefix %q: want at most 32 of [a-z0-9_], not starting with a digit", c.prefix)
	}
	s := &Store{db: db, d: d, prefix: c.prefix, writer: make(chan struct{}, 1)}
	s.q = buildQueries(d, c.prefix)
	return s, nil
}

// Dialect returns the dialect the Store was made with.
func (s *Store) Dialect() Dialect { return s.d }

// DB returns the database the Store uses.
func (s *Store) DB() *sql.DB { return s.db }

// sqlText substitutes the table prefix for ${p} and rebinds placeholders.
func sqlText(d Dialect, prefix, q string) string {
	return d.rebind(strings.ReplaceAll(q, "${p}", prefix))
}

// clampLimit keeps a limit within the INTEGER columns it is compared with.
func clampLimit(limit int) int64 {
	return int64(max(min(limit, math.MaxInt32), math.MinInt32))
}

const instanceCols = "id, account, product, region, billing, term_months, public_ip, trial, status, expires_at"

// scanInstance reads the columns instanceCols, and extra ones into extra.
func (s *Store) scanInstance(sc interface{ Scan(...any) error }, extra ...any) (icpverify.Instance, error) {
	var inst icpverify.Instance
	var product, billing, status string
	dest := append([]any{&inst.ID, &inst.Account, &product, &inst.Region, &billing,
		&inst.TermMonths, &inst.PublicIP, boolCol{&inst.Trial}, &status, timeCol{s.d, &inst.ExpiresAt}}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return icpverify.Instance{}, err
	}
	inst.Product = icpverify.ProductType(product)
	inst.Billing = icpverify.Billing(billing)
	inst.Status = icpverify.Status(status)
	return inst, nil
}

// PutInstanceContext adds an instance to the inventory or replaces it.
// Replacing keeps the count of service codes it has issued. It has the
// name and form of icpverify.MemoryStore's, which storetest.Store asks for.
func (s *Store) PutInstanceContext(ctx context.Context, inst icpverify.Instance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	args, err := s.instanceArgs(inst, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: PutInstanceContext: %w", err) // the ID may be what is wrong
	}
	err = s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			_, err := q.ExecContext(ctx, s.q.putInstance, args...)
			return err == nil, err
		})
	})
	if err != nil {
		return fmt.Errorf("sqlstore: PutInstanceContext %q: %w", inst.ID, err)
	}
	return nil
}

// Instance implements icpverify.InstanceStore.
func (s *Store) Instance(ctx context.Context, id string) (icpverify.Instance, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Instance{}, err
	}
	if !checkKey(id) {
		return icpverify.Instance{}, fmt.Errorf("sqlstore: instance %q: %w", id, icpverify.ErrNotFound)
	}
	inst, err := s.scanInstance(s.queryRow(ctx, s.q.instance, id))
	if errors.Is(err, sql.ErrNoRows) {
		return icpverify.Instance{}, fmt.Errorf("sqlstore: instance %q: %w", id, icpverify.ErrNotFound)
	}
	if err != nil {
		return icpverify.Instance{}, fmt.Errorf("sqlstore: reading instance %q: %w", id, err)
	}
	return inst, nil
}

// ServiceCode implements icpverify.InstanceStore.
func (s *Store) ServiceCode(ctx context.Context, code string) (icpverify.ServiceCode, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.ServiceCode{}, err
	}
	if !checkKey(code) {
		return icpverify.ServiceCode{}, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, code), icpverify.ErrNotFound)
	}
	var sc icpverify.ServiceCode
	err := s.queryRow(ctx, s.q.serviceCode, code).Scan(&sc.Code, &sc.Instance, &sc.Owner, &sc.Grantee,
		boolCol{&sc.Revoked}, timeCol{s.d, &sc.IssuedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return icpverify.ServiceCode{}, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, code), icpverify.ErrNotFound)
	}
	if err != nil {
		return icpverify.ServiceCode{}, fmt.Errorf("sqlstore: reading service code %s: %w", codeformat.Mask(nil, code), err)
	}
	return sc, nil
}

// LookupServiceCode implements icpverify.CodeReserver: the code, its
// instance, and its reservation with its instance's usage, in one round
// trip.
func (s *Store) LookupServiceCode(ctx context.Context, code string) (icpverify.CodeRecord, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.CodeRecord{}, err
	}
	if !checkKey(code) {
		return icpverify.CodeRecord{}, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, code), icpverify.ErrNotFound)
	}
	var rec icpverify.CodeRecord
	// A read too may be aborted as a deadlock, as on a Galera node
	// applying a conflicting write: it is run again like a write.
	err := s.retry(ctx, func() error {
		rec = icpverify.CodeRecord{}
		return s.scanLookup(s.queryRow(ctx, s.q.lookupCode, code), &rec)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return icpverify.CodeRecord{}, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, code), icpverify.ErrNotFound)
	}
	if err != nil {
		return icpverify.CodeRecord{}, fmt.Errorf("sqlstore: reading service code %s: %w", codeformat.Mask(nil, code), err)
	}
	return rec, nil
}

// scanLookup scans the columns of lookupSelect, then extra, into rec.
func (s *Store) scanLookup(row interface{ Scan(...any) error }, rec *icpverify.CodeRecord, extra ...any) error {
	sc, r := &rec.Code, &rec.Reservation
	inst, err := s.scanInstance(row, append([]any{
		&sc.Code, &sc.Instance, &sc.Owner, &sc.Grantee, boolCol{&sc.Revoked}, timeCol{s.d, &sc.IssuedAt},
		&r.Code, &r.Instance, &r.Account, &r.Subject, &r.SubjectKey, &r.Website,
		boolCol{&r.Filed}, timeCol{s.d, &r.ReservedAt}, &r.Application, boolCol{&r.Deregistered}, &rec.Used}, extra...)...)
	if err != nil {
		return err
	}
	rec.Instance = inst
	if r.Code == "" {
		rec.Used = 0
	}
	return nil
}

// AddServiceCode implements icpverify.InstanceStore. In one transaction it
// counts the code on its instance's row with a conditional UPDATE, which
// holds the limit whatever the isolation level, and inserts the code.
func (s *Store) AddServiceCode(ctx context.Context, sc icpverify.ServiceCode, limit int) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	masked := codeformat.Mask(nil, sc.Code)
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"code", sc.Code, true}, {"instance", sc.Instance, true},
		{"owner", sc.Owner, false}, {"grantee", sc.Grantee, false},
	} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return 0, false, fmt.Errorf("sqlstore: AddServiceCode: %w", err)
		}
	}
	issuedAt, err := s.d.timeArg("IssuedAt", sc.IssuedAt)
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: AddServiceCode %s: %w", masked, err)
	}
	var issued int
	var added bool
	err = s.retry(ctx, func() error {
		var err error
		issued, added, err = s.addCode(ctx, sc, issuedAt, clampLimit(limit))
		return err
	})
	switch {
	case errors.Is(err, icpverify.ErrNotFound):
		return 0, false, fmt.Errorf("sqlstore: AddServiceCode %s: instance %q: %w", masked, sc.Instance, err)
	case errors.Is(err, icpverify.ErrExists):
		return issued, false, fmt.Errorf("sqlstore: AddServiceCode %s: %w", masked, err)
	case err != nil:
		return 0, false, fmt.Errorf("sqlstore: AddServiceCode %s: %w", masked, err)
	}
	return issued, added, nil
}

// addCode runs the transaction of AddServiceCode once: it reports how
// many codes the instance has issued and whether sc was added, or
// ErrExists if the code is stored already, or ErrNotFound if the instance
// is not.
func (s *Store) addCode(ctx context.Context, sc icpverify.ServiceCode, issuedAt any, limit int64) (issued int, added bool, err error) {
	var exists bool
	err = s.inTx(ctx, func(q querier) (bool, error) {
		n, err := affected(q.ExecContext(ctx, s.q.codeCount, sc.Instance, limit))
		if err != nil {
			return false, err
		}
		if err := q.QueryRowContext(ctx, s.q.issuedOf, sc.Instance).Scan(&issued); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return false, icpverify.ErrNotFound
			}
			return false, err
		}
		if n == 0 {
			return false, nil // at the limit
		}
		ins, err := affected(q.ExecContext(ctx, s.q.codeInsert, sc.Code, sc.Instance, sc.Owner, sc.Grantee, sc.Revoked, issuedAt))
		if s.d.classify(err) == errUnique || (err == nil && ins == 0) {
			exists = true
			issued--
			return false, nil
		}
		added = err == nil
		return added, err
	})
	if err == nil && exists {
		err = icpverify.ErrExists
	}
	return issued, added, err
}

// GrantServiceCode implements icpverify.InstanceStore: it sets the code's
// owner and grantee.
func (s *Store) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"owner", owner}, {"grantee", grantee}} {
		if err := checkText(f.name, f.v, false); err != nil {
			return fmt.Errorf("sqlstore: GrantServiceCode %s: %w", codeformat.Mask(nil, code), err)
		}
	}
	return s.updateCode(ctx, "GrantServiceCode", code, s.q.grant, owner, grantee, code)
}

// RevokeServiceCode implements icpverify.InstanceStore.
func (s *Store) RevokeServiceCode(ctx context.Context, code string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.updateCode(ctx, "RevokeServiceCode", code, s.q.revoke, true, code)
}

// updateCode runs query, an UPDATE of the service code code, with args, in
// a transaction; it returns ErrNotFound if the code is not stored. op names
// the call in errors.
func (s *Store) updateCode(ctx context.Context, op, code, query string, args ...any) error {
	masked := codeformat.Mask(nil, code)
	if !checkKey(code) {
		return fmt.Errorf("sqlstore: %s %s: %w", op, masked, icpverify.ErrNotFound)
	}
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			n, err := affected(q.ExecContext(ctx, query, args...))
			if err != nil || n > 0 {
				return err == nil, err
			}
			// MySQL counts a row updated to the values it had as
			// unaffected.
			var one int
			err = q.QueryRowContext(ctx, s.q.codeExists, code).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return false, icpverify.ErrNotFound
			}
			return false, err
		})
	})
	if err != nil {
		return fmt.Errorf("sqlstore: %s %s: %w", op, masked, err)
	}
	return nil
}

// ListInstances implements icpverify.InstanceLister: the instances of
// account.
func (s *Store) ListInstances(ctx context.Context, account string, limit int) ([]icpverify.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []icpverify.Instance{}
	if limit <= 0 || checkText("account", account, false) != nil {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q.listInstances, account, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ListInstances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		inst, err := s.scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: ListInstances: reading a row: %w", err)
		}
		out = append(out, inst)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: ListInstances: %w", err)
	}
	return out, nil
}
