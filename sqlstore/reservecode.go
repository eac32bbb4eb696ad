package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
)

// ReserveServiceCode implements icpverify.CodeReserver: the lookup of
// LookupServiceCode and, where the code has no reservation and g holds,
// the reservation of Reserve.
//
// On PostgreSQL it is one statement in autocommit, one round trip: the
// lookup, which calls the function ${p}reserve_code of schema version 8
// only where the code has no reservation and g holds on the rows it read.
// A retry, or a code that g refuses, is then a read. The guard only
// chooses whether to try: every decision about the quota is the
// function's, read from a write on one row, as in Reserve. If the instance
// is full the function rolls the statement back, and the record is read
// again.
//
// A reservation with r.Quotas takes two steps on every dialect (schema
// version 9): LookupServiceCode, then Reserve, which takes the quotas'
// places in one call of a routine (PostgreSQL, MySQL) or a transaction of
// its own (SQLite).
//
// On MySQL and SQLite it is LookupServiceCode, then Reserve if g holds. On
// MySQL one CALL of a procedure that did both was measured no faster for a
// first reservation than the two round trips (the procedure's own work
// dominates) and about 40% slower for a retry (see the README's
// performance section).
//
// A call whose context ends while it runs returns the context's error;
// the reservation may still commit, and a retry then finds it.
func (s *Store) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.CodeRecord{}, 0, err
	}
	if !checkKey(r.Code) {
		return icpverify.CodeRecord{}, 0, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, r.Code), icpverify.ErrNotFound)
	}
	if err := checkApplication(r); err != nil {
		return icpverify.CodeRecord{}, 0, fmt.Errorf("sqlstore: ReserveServiceCode %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	if s.d != Postgres || len(r.Quotas) > 0 {
		return s.lookupAndReserve(ctx, r, limit, g)
	}
	args, err := s.reserveCodeArgs(r, limit, g)
	if err != nil {
		return icpverify.CodeRecord{}, 0, fmt.Errorf("sqlstore: ReserveServiceCode %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	var rec icpverify.CodeRecord
	var out icpverify.Outcome
	err = s.retry(ctx, func() error {
		var err error
		rec, out, err = s.reserveCodeCall(ctx, args)
		return s.applicationConflict(err)
	})
	if pgState(err) == pgFull {
		rec, out, err = s.fullRecord(ctx, r)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return icpverify.CodeRecord{}, 0, fmt.Errorf("sqlstore: service code %s: %w", codeformat.Mask(nil, r.Code), icpverify.ErrNotFound)
	case err != nil:
		return icpverify.CodeRecord{}, 0, fmt.Errorf("sqlstore: ReserveServiceCode %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	return rec, out, nil
}

// The outcomes of reserveCode that are not the function's: nothing tried,
// and the code's reservation gone between the insert that found it and
// the read of it (run again; the function's 0).
const (
	codeNotTried = 0
	codeGone     = 5
)

// reserveCodeArgs returns the arguments of reserveCode for r (checked by
// checkApplication), limit and g: the guard's (pgGuard), the
// reservation's, and the code; or an error if a time cannot be stored.
func (s *Store) reserveCodeArgs(r icpverify.Reservation, limit int, g icpverify.ReserveGuard) ([]any, error) {
	at, err := s.d.timeArg("ReservedAt", r.ReservedAt)
	if err != nil {
		return nil, err
	}
	after, err := s.d.timeArg("ExpiresAfter", g.ExpiresAfter)
	if err != nil {
		return nil, err
	}
	issued, err := s.d.timeArg("IssuedAfter", g.IssuedAfter)
	if err != nil {
		return nil, err
	}
	return []any{r.Code, r.Account, r.Subject, r.SubjectKey, r.Website, at, clampLimit(limit), r.Application,
		string(icpverify.Running), string(g.Product), after, issued, g.PublicIP}, nil
}

// reserveCodeCall runs reserveCode once and reads its row. It returns
// errRetry if the code's reservation went away meanwhile, and returns by
// ctx's deadline even if the driver does not watch ctx (see finish).
func (s *Store) reserveCodeCall(ctx context.Context, args []any) (icpverify.CodeRecord, icpverify.Outcome, error) {
	var rec icpverify.CodeRecord
	var res sql.NullInt64
	err := finish(ctx, func() error {
		var got icpverify.CodeRecord
		var r sql.NullInt64
		err := s.scanLookup(s.queryRow(ctx, s.q.reserveCode, args...), &got, &r)
		rec, res = got, r
		return err
	})
	if err != nil {
		return icpverify.CodeRecord{}, 0, err
	}
	if !res.Valid { // not tried
		return rec, 0, nil
	}
	outcome, used := splitReserveCode(res.Int64)
	out, err := codeOutcome(outcome)
	if err != nil || out == 0 {
		return rec, 0, err
	}
	rec.Used = int(used)
	return rec, out, nil
}

// splitReserveCode splits the answer of the function ${p}reserve_code
// (schema version 8), used × 8 + outcome, into the outcome and the
// instance's usage.
func splitReserveCode(v int64) (outcome, used int64) {
	return v & 7, v >> 3
}

// codeOutcome turns the outcome reserveCode answered into an Outcome, 0
// if it did not try to reserve; it returns errRetry if the code's
// reservation went away meanwhile.
func codeOutcome(outcome int64) (icpverify.Outcome, error) {
	switch outcome {
	case codeNotTried:
		return 0, nil
	case routineReserved:
		return icpverify.Reserved, nil
	case routineHeld:
		return icpverify.Held, nil
	case routineFull:
		return icpverify.Full, nil
	case routineTaken:
		return icpverify.Taken, nil
	case codeGone:
		return 0, errRetry
	}
	return 0, fmt.Errorf("sqlstore: the reserve routine answered outcome %d", outcome)
}

// fullRecord is the answer of ReserveServiceCode for r after PostgreSQL's
// function found the instance full and rolled the statement back: the
// record and the usage, read again.
func (s *Store) fullRecord(ctx context.Context, r icpverify.Reservation) (icpverify.CodeRecord, icpverify.Outcome, error) {
	rec, err := s.LookupServiceCode(ctx, r.Code)
	if err != nil {
		return icpverify.CodeRecord{}, 0, err
	}
	rec.Used, _, err = s.usage(ctx, rec.Code.Instance, r.SubjectKey)
	return rec, icpverify.Full, err
}

// lookupAndReserve is ReserveServiceCode in two steps, on MySQL and
// SQLite, and on PostgreSQL with quotas: LookupServiceCode, then Reserve
// if the code has no reservation and g holds.
func (s *Store) lookupAndReserve(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	rec, err := s.LookupServiceCode(ctx, r.Code)
	if err != nil || rec.Reservation.Code != "" || !g.Allows(r.Account, rec.Code, rec.Instance) {
		return rec, 0, err
	}
	r.Instance = rec.Code.Instance
	out, used, err := s.Reserve(ctx, r, limit)
	if err != nil {
		return icpverify.CodeRecord{}, 0, err
	}
	rec.Used = used
	return rec, out, nil
}
