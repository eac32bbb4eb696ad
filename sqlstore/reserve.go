package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
)

// Reserve implements icpverify.QuotaStore.
//
// On PostgreSQL and MySQL it is one call of the routine ${p}reserve (schema
// version 3) in autocommit: one round trip, which inserts the reservation
// (its code is the primary key); if the code is reserved already, answers
// Held if that reservation is unfiled and for the same application
// (account, subject key and website) on the same instance, Taken
// otherwise; else takes or shares the subject key's slot with an upsert on
// the (instance, subject_key) primary key that counts the key's
// reservations, and, only when that slot is new, counts it on the
// instance's quota row with a conditional increment (used < limit). If
// that changes no row the instance is Full and the routine rolls its writes
// back before they commit. Every decision is read from the outcome of a
// write on a single row, which the database serializes with a row lock at
// any isolation level, so N concurrent calls for the last slot have one
// winner. A unique violation, serialization failure or deadlock runs the
// call again.
//
// On SQLite a retry is answered by one SELECT of the code's reservation;
// otherwise one BEGIN IMMEDIATE transaction makes the same writes.
//
// A call whose context ends while its routine runs returns the context's
// error; the routine may still commit, and a retry then reports Held.
func (s *Store) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := checkReservation(r); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: Reserve: %w", err)
	}
	at, err := s.d.timeArg("ReservedAt", r.ReservedAt)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: Reserve %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	lim := clampLimit(limit)
	var out icpverify.Outcome
	var used int
	err = s.retry(ctx, func() error {
		var err error
		if s.d != SQLite {
			out, used, err = s.reserveCall(ctx, r, at, lim)
			return s.applicationConflict(err)
		}
		var found bool
		found, out, used, err = s.existing(ctx, r)
		if err != nil || found {
			return err
		}
		out, used, err = s.reserveTx(ctx, r, at, lim)
		return s.applicationConflict(err)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: Reserve %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	return out, used, nil
}

// The outcomes the routine ${p}reserve answers (schema/*/0003_*.sql).
const (
	routineGone     = 0 // the code's reservation went away meanwhile: run again
	routineReserved = 1
	routineHeld     = 2
	routineFull     = 3 // MySQL; PostgreSQL raises pgFull
	routineTaken    = 4
	// MySQL (schema version 6): the application is another code's
	// reservation's; PostgreSQL raises a unique violation of
	// ${p}reservations_application.
	routineOtherCode = 6
)

// errApplicationUsed is the error of Reserve and ReserveServiceCode for a
// reservation whose Application another code's reservation has. The
// Verifier makes a new one for every reservation, so it never meets it.
var errApplicationUsed = fmt.Errorf("%w: the application is another code's reservation's", ErrInvalid)

// applicationConflict returns errApplicationUsed if err is the unique
// violation of the index of reservations by application (PostgreSQL and
// SQLite name it in the error), which is no reason to run Reserve again;
// else err.
func (s *Store) applicationConflict(err error) error {
	if err != nil && s.d.classify(err) == errUnique &&
		(strings.Contains(err.Error(), s.prefix+"reservations_application") ||
			strings.Contains(err.Error(), s.prefix+"reservations.application")) {
		return errApplicationUsed
	}
	return err
}

// reserveCall reserves r with one call of the routine ${p}reserve, in
// autocommit, and reports the outcome and the instance's usage afterwards.
// It returns errRetry if the code's reservation went away between the
// insert that found it and the read of it. It returns by ctx's deadline
// even if the driver does not watch ctx (see finish); the call may then
// still commit.
func (s *Store) reserveCall(ctx context.Context, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	var outcome, used int64
	err := finish(ctx, func() error {
		var o, u int64
		err := s.queryRow(ctx, s.q.reserveCall, r.Code, r.Instance, r.Account, r.Subject,
			r.SubjectKey, r.Website, at, limit, r.Application).Scan(&o, &u)
		outcome, used = o, u
		return err
	})
	if s.d == Postgres && pgState(err) == pgFull {
		// Rolled back: report the usage as it is now.
		used, _, err := s.usage(ctx, r.Instance, r.SubjectKey)
		return icpverify.Full, used, err
	}
	if err != nil {
		return 0, 0, err
	}
	switch outcome {
	case routineReserved:
		return icpverify.Reserved, int(used), nil
	case routineHeld:
		return icpverify.Held, int(used), nil
	case routineFull:
		return icpverify.Full, int(used), nil
	case routineTaken:
		return icpverify.Taken, int(used), nil
	case routineGone:
		return 0, 0, errRetry
	case routineOtherCode:
		return 0, 0, errApplicationUsed
	}
	return 0, 0, fmt.Errorf("sqlstore: the reserve routine answered outcome %d", outcome)
}

// checkReservation returns an error if r cannot be stored: its code,
// instance and subject key are required, and a subject key may be up to
// MaxSubjectKeyLen bytes.
func checkReservation(r icpverify.Reservation) error {
	if err := checkText("instance", r.Instance, true); err != nil {
		return err
	}
	return checkApplication(r)
}

// checkApplication is checkReservation but for the instance, which
// ReserveServiceCode finds itself: the application's fields, and its
// identity (1 to MaxApplicationLen ASCII letters and digits).
func checkApplication(r icpverify.Reservation) error {
	if err := checkApplicationID(r.Application); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"code", r.Code, true}, {"subject", r.Subject, false}, {"account", r.Account, false}, {"website", r.Website, false},
	} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	return checkSubjectKey(r.SubjectKey)
}

// existing reports whether r.Code is reserved already, and if so the
// outcome of reserving it again and the usage of r.Instance.
func (s *Store) existing(ctx context.Context, r icpverify.Reservation) (bool, icpverify.Outcome, int, error) {
	var old icpverify.Reservation
	var used int
	err := s.queryRow(ctx, s.q.reserveCheck, r.Instance, r.Code).
		Scan(&old.Instance, &old.Account, &old.SubjectKey, &old.Website, boolCol{&old.Filed}, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, 0, nil
	}
	if err != nil {
		return false, 0, 0, err
	}
	if old.Filed || old.Instance != r.Instance || old.Account != r.Account || old.SubjectKey != r.SubjectKey || old.Website != r.Website {
		return true, icpverify.Taken, used, nil
	}
	return true, icpverify.Held, used, nil
}

// reserveTx stores r in one transaction and reports the outcome and the
// instance's usage afterwards. It returns errRetry if the code was
// reserved concurrently.
func (s *Store) reserveTx(ctx context.Context, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	var used int
	var full bool
	err := s.inTx(ctx, func(q querier) (bool, error) {
		var err error
		used, full, err = s.reserveWrites(ctx, q, r, at, limit)
		return err == nil && !full, err
	})
	if err != nil {
		return 0, 0, err
	}
	if full {
		// Rolled back: report the usage as it is now.
		used, _, err := s.usage(ctx, r.Instance, r.SubjectKey)
		return icpverify.Full, used, err
	}
	return icpverify.Reserved, used, nil
}

// reserveWrites runs the writes of reserving r in the transaction q
// (SQLite's: see reserveSQLite). It returns the instance's usage
// afterwards, or full if the instance has no free slot (the transaction
// must then be rolled back), or errRetry if the code was reserved
// concurrently.
func (s *Store) reserveWrites(ctx context.Context, q querier, r icpverify.Reservation, at any, limit int64) (used int, full bool, err error) {
	return s.reserveSQLite(ctx, q, r, at, limit)
}

// insertReservation inserts the row of r, not filed, reserved at at. It
// returns errRetry if the code is reserved already: another call reserved
// it since the read that found it free.
func (s *Store) insertReservation(ctx context.Context, q querier, r icpverify.Reservation, at any) error {
	n, err := affected(q.ExecContext(ctx, s.q.reserveInsert, r.Code, r.Instance, r.Account, r.Subject,
		r.SubjectKey, r.Website, false, at, r.Application))
	if err := s.applicationConflict(err); errors.Is(err, errApplicationUsed) {
		return err
	}
	if s.d.classify(err) == errUnique || (err == nil && n == 0) {
		return errRetry
	}
	return err
}

// sharedSlotUsage reads the usage of instance after a reservation joined
// a slot its subject key held already, so that the instance's quota row must
// exist.
func (s *Store) sharedSlotUsage(ctx context.Context, q querier, instance string) (int, error) {
	var used int
	err := q.QueryRowContext(ctx, s.q.quotaUsed, instance).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlstore: malformed quota: instance %q has a slot but no quota row", instance)
	}
	return used, err
}
