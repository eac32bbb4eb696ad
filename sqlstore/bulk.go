package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/icpfiling/icpverify"
)

// The batches of PutInstances: rows per INSERT statement, and rows per
// transaction. A statement binds bulkStatementRows × 10 parameters, within
// PostgreSQL's 65535 and SQLite's 32766; on MySQL with interpolateParams
// it is about 200 bytes a row, within max_allowed_packet's default.
const (
	bulkStatementRows = 1000
	bulkTxRows        = 10 * bulkStatementRows
)

// PutInstancesError is the error PutInstances returns when it stops: it
// tells which instance was refused, if one was, and how far the load got.
type PutInstancesError struct {
	// Index is the index in the slice of the instance that was refused
	// as invalid, or -1 if the call failed for another reason (the
	// database, the context).
	Index int
	// ID is the refused instance's ID, as given; empty if Index is -1.
	ID string
	// Stored is how many instances, from the start of the slice, are
	// committed: instances[:Stored] are stored as if each had been put
	// with PutInstanceContext in order. The transaction after them (at
	// most bulk-size instances) is committed too only if its COMMIT was in
	// flight when the connection broke or the context ended; the rest are
	// not. Putting instances[Stored:] again is safe.
	Stored int
	// Err is the cause: it wraps ErrInvalid for a refused instance, else
	// it is the database's or the context's error.
	Err error
}

// Error implements error.
func (e *PutInstancesError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("sqlstore: PutInstances: instance %d (%q): %v", e.Index, e.ID, e.Err)
	}
	return fmt.Sprintf("sqlstore: PutInstances: stopped after storing %d instances: %v", e.Stored, e.Err)
}

// Unwrap returns the cause.
func (e *PutInstancesError) Unwrap() error { return e.Err }

// PutInstances adds instances to the inventory or replaces them, as
// PutInstanceContext does each (replacing an instance keeps the count of
// service codes it has issued), in batches: multi-row upserts of up to
// 1,000 instances, in transactions of up to 10,000. Of instances with the
// same ID the last in the slice is kept.
//
// It checks every instance before it writes anything, as PutInstanceContext
// does: if one is invalid it stores nothing and returns a
// *PutInstancesError with its Index and an error wrapping ErrInvalid.
// Otherwise it writes the batches in the order of the slice, each in its own
// transaction, retried as every write of the Store is on a transient
// failure. If it fails after that, with the database's error or the
// context's, the *PutInstancesError tells how many instances, from the
// start of the slice, are committed (Stored); the call can be resumed from
// there. An empty slice stores nothing. It returns when ctx ends, with its
// error; if ctx has ended before the call, it returns ctx.Err() and stores
// nothing.
func (s *Store) PutInstances(ctx context.Context, instances []icpverify.Instance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Every instance is checked before anything is written.
	for i, inst := range instances {
		if i%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return &PutInstancesError{Index: -1, Err: err}
			}
		}
		if _, err := s.instanceArgs(inst, nil); err != nil {
			return &PutInstancesError{Index: i, ID: inst.ID, Err: err}
		}
	}
	full := "" // the statement of a full batch, built once
	var args []any
	for start := 0; start < len(instances); start += bulkTxRows {
		end := min(start+bulkTxRows, len(instances))
		if err := ctx.Err(); err != nil {
			return &PutInstancesError{Index: -1, Stored: start, Err: err}
		}
		err := s.retry(ctx, func() error {
			return s.inTx(ctx, func(q querier) (bool, error) {
				for b := start; b < end; b += bulkStatementRows {
					var err error
					args, err = s.batchArgs(instances[b:min(b+bulkStatementRows, end)], args[:0])
					if err != nil {
						return false, err
					}
					query := full
					if n := len(args) / instanceColCount; n != bulkStatementRows || query == "" {
						query = s.bulkInsertSQL(n)
						if n == bulkStatementRows {
							full = query
						}
					}
					if _, err := q.ExecContext(ctx, query, args...); err != nil {
						return false, err
					}
				}
				return true, nil
			})
		})
		if err != nil {
			// A driver may report a statement stopped by the context
			// as a broken connection.
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (%w)", cerr, err)
			}
			return &PutInstancesError{Index: -1, Stored: start, Err: err}
		}
	}
	return nil
}

// instanceColCount is the number of columns of instanceCols.
const instanceColCount = 10

// instanceArgs checks that inst can be stored and appends the values of
// its columns, instanceCols, to args.
func (s *Store) instanceArgs(inst icpverify.Instance, args []any) ([]any, error) {
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"instance ID", inst.ID, true}, {"account", inst.Account, false},
		{"product", string(inst.Product), false}, {"region", inst.Region, false},
		{"billing", string(inst.Billing), false}, {"public IP", inst.PublicIP, false},
		{"status", string(inst.Status), false},
	} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return nil, err
		}
	}
	exp, err := s.d.timeArg("ExpiresAt", inst.ExpiresAt)
	if err != nil {
		return nil, err
	}
	return append(args, inst.ID, inst.Account, string(inst.Product), inst.Region,
		string(inst.Billing), int64(inst.TermMonths), inst.PublicIP, inst.Trial, string(inst.Status), exp), nil
}

// batchArgs appends to args the values of the columns of batch, one
// statement's instances, without those whose ID comes again later in the
// batch: one statement must not upsert a row twice (PostgreSQL refuses it),
// and the last instance with an ID wins, as it would if each were put in
// turn.
func (s *Store) batchArgs(batch []icpverify.Instance, args []any) ([]any, error) {
	last := make(map[string]int, len(batch))
	for i, inst := range batch {
		last[inst.ID] = i
	}
	for i, inst := range batch {
		if last[inst.ID] != i {
			continue
		}
		var err error
		if args, err = s.instanceArgs(inst, args); err != nil {
			return nil, err // checked already: not reached
		}
	}
	return args, nil
}

// bulkInsertSQL returns the upsert of n instances: putInstance's, with n
// rows of values.
func (s *Store) bulkInsertSQL(n int) string {
	// The ON CONFLICT or ON DUPLICATE KEY clause of the single upsert.
	tail := s.q.putInstance
	for _, on := range []string{"ON CONFLICT", "ON DUPLICATE KEY"} {
		if i := strings.Index(tail, on); i >= 0 {
			tail = tail[i:]
			break
		}
	}
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	var b strings.Builder
	b.Grow(64 + n*(len(row)+2) + len(tail))
	b.WriteString("INSERT INTO ${p}instances (" + instanceCols + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ")
	b.WriteString(tail)
	return sqlText(s.d, s.prefix, b.String())
}
