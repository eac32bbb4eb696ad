package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
// A reservation with r.Quotas (schema version 9) is one call of the
// routine ${p}reserve_quotas on PostgreSQL and MySQL (see
// reserveQuotasCall), and takes the SQLite path on SQLite: the routine,
// or the transaction, makes the same writes and, for each quota, takes or
// shares its member's place with an upsert on the (key, member) primary
// key that counts the member's reservations, and, only when that place
// is new, counts the member on the key's row with a conditional increment
// (members < limit). If that changes no row the quota is full: the writes
// are rolled back and Reserve reports Exceeded and the quota's index. The
// places are taken in the byte order of their keys, as Release, Complete
// and Deregister free them, so that two calls do not wait for each
// other's places in opposite orders; of the quotas found full, the first
// in r.Quotas is reported. The reservation records the places it took.
// Without quotas nothing of this runs: Reserve makes the statements it
// made before version 9.
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
		switch {
		case s.d != SQLite && len(r.Quotas) == 0:
			out, used, err = s.reserveCall(ctx, r, at, lim)
			return s.applicationConflict(err)
		case s.d != SQLite:
			out, used, err = s.reserveQuotasCall(ctx, r, at, lim)
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
	// ${p}reserve_quotas (schema version 9), on PostgreSQL and MySQL: a
	// quota is full, and the usage is the index of the first full quota.
	routineExceeded = 5
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
	return routineOutcome(outcome, used)
}

// routineOutcome returns what Reserve reports for the outcome and the
// usage that a reserve routine answered, or errRetry if the code's
// reservation went away meanwhile.
func routineOutcome(outcome, used int64) (icpverify.Outcome, int, error) {
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
	case routineExceeded:
		return icpverify.Exceeded, int(used), nil
	}
	return 0, 0, fmt.Errorf("sqlstore: the reserve routine answered outcome %d", outcome)
}

// checkReservation returns an error if r cannot be stored: its code,
// instance and subject key are required, a subject key may be up to
// MaxSubjectKeyLen bytes, and so may the key and member of a quota (see
// checkQuotas).
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
	if err := checkSubjectKey(r.SubjectKey); err != nil {
		return err
	}
	return checkQuotas(r.Quotas)
}

// checkQuotas returns an error if qs cannot be stored: the key and the
// member of each quota may be up to MaxSubjectKeyLen bytes of text, and no
// two quotas have the same key.
func checkQuotas(qs []icpverify.Quota) error {
	for i, q := range qs {
		if err := checkTextLen("quota key", q.Key, false, MaxSubjectKeyLen); err != nil {
			return err
		}
		if err := checkTextLen("quota member", q.Member, false, MaxSubjectKeyLen); err != nil {
			return err
		}
		for _, o := range qs[:i] {
			if o.Key == q.Key {
				return fmt.Errorf("%w: two quotas have the key %q", ErrInvalid, q.Key)
			}
		}
	}
	return nil
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
// instance's usage afterwards, or Exceeded and the index of the first full
// quota of r. It returns errRetry if the code was reserved concurrently.
func (s *Store) reserveTx(ctx context.Context, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	var out icpverify.Outcome
	var used int
	err := s.inTx(ctx, func(q querier) (bool, error) {
		var err error
		out, used, err = s.reserveWrites(ctx, q, r, at, limit)
		return err == nil && out == icpverify.Reserved, err
	})
	if err != nil {
		return 0, 0, err
	}
	if out == icpverify.Full {
		// Rolled back: report the usage as it is now.
		used, _, err := s.usage(ctx, r.Instance, r.SubjectKey)
		return icpverify.Full, used, err
	}
	return out, used, nil
}

// reserveWrites runs the writes of reserving r in the transaction q: it
// inserts the reservation, takes the subject key's slot, and if the slot
// is new counts it on the instance's quota row with a conditional write;
// then it takes the places of r.Quotas (see takePlaces). It returns
// Reserved and the instance's usage afterwards, or Full if the instance
// has no free slot, or Exceeded and the index of the first full quota (the
// transaction must then be rolled back), or errRetry if the code was
// reserved concurrently. Without quotas, on SQLite, it makes the writes
// of every version before 9.
func (s *Store) reserveWrites(ctx context.Context, q querier, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	if err := s.insertReservation(ctx, q, r, at); err != nil {
		return 0, 0, err
	}
	fresh, err := s.takeSlot(ctx, q, r.Instance, r.SubjectKey)
	if err != nil {
		return 0, 0, err
	}
	var used int
	if fresh {
		var full bool
		if used, full, err = s.countSlot(ctx, q, r.Instance, limit); err != nil || full {
			return icpverify.Full, 0, err
		}
	} else if used, err = s.sharedSlotUsage(ctx, q, r.Instance); err != nil {
		return 0, 0, err
	}
	if len(r.Quotas) > 0 {
		i, err := s.takePlaces(ctx, q, r)
		if err != nil {
			return 0, 0, err
		}
		if i >= 0 {
			return icpverify.Exceeded, i, nil
		}
	}
	return icpverify.Reserved, used, nil
}

// takeSlot counts one reservation more on the slot of subjectKey on
// instance, in the transaction q, and reports whether the slot is new.
func (s *Store) takeSlot(ctx context.Context, q querier, instance, subjectKey string) (bool, error) {
	var holds int
	err := q.QueryRowContext(ctx, s.q.slotTake, instance, subjectKey).Scan(&holds)
	return holds == 1, err
}

// countSlot counts a new slot on the quota row of instance, in the
// transaction q, if it has fewer than limit: it returns the instance's
// usage afterwards, or full.
func (s *Store) countSlot(ctx context.Context, q querier, instance string, limit int64) (used int, full bool, err error) {
	err = q.QueryRowContext(ctx, s.q.quotaTake, instance, limit, limit).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, true, nil
	}
	return used, false, err
}

// takePlaces takes the places of r.Quotas in the transaction q, where r's
// reservation is inserted, and records them as r's. For each quota, in the
// byte order of the keys, it counts one reservation more on the member's
// place and, if the place is new, one member more on the key if it has
// fewer than the quota's Limit. It returns the index in r.Quotas of the
// first quota whose key is full (the transaction must then be rolled
// back), or -1.
func (s *Store) takePlaces(ctx context.Context, q querier, r icpverify.Reservation) (int, error) {
	first := -1
	for _, i := range byKey(r.Quotas) {
		qt := r.Quotas[i]
		fresh, err := s.takePlace(ctx, q, qt.Key, qt.Member)
		if err != nil {
			return 0, err
		}
		if !fresh {
			continue
		}
		ok, err := s.countMember(ctx, q, qt.Key, clampLimit(qt.Limit))
		if err != nil {
			return 0, err
		}
		if !ok && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		return first, nil
	}
	return -1, s.recordPlaces(ctx, q, r)
}

// byKey returns the indexes of qs in the byte order of their keys.
func byKey(qs []icpverify.Quota) []int {
	idx := make([]int, len(qs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(qs[a].Key, qs[b].Key) })
	return idx
}

// takePlace counts one reservation more on the place of member under key,
// in the transaction q, and reports whether the place is new.
func (s *Store) takePlace(ctx context.Context, q querier, key, member string) (bool, error) {
	var holds int
	err := q.QueryRowContext(ctx, s.q.placeTake, key, member).Scan(&holds)
	return holds == 1, err
}

// countMember counts a new member on key, in the transaction q, if it has
// fewer than limit members, and reports whether it did.
func (s *Store) countMember(ctx context.Context, q querier, key string, limit int64) (bool, error) {
	var members int
	err := q.QueryRowContext(ctx, s.q.keyTake, key, limit, limit).Scan(&members)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// recordPlaces stores the places of r.Quotas as r's, with one statement in
// the transaction q.
func (s *Store) recordPlaces(ctx context.Context, q querier, r icpverify.Reservation) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO ${p}reservation_quotas (code, qkey, member, until_filed) VALUES `)
	args := make([]any, 0, 4*len(r.Quotas))
	for i, qt := range r.Quotas {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, r.Code, qt.Key, qt.Member, qt.UntilFiled)
	}
	_, err := q.ExecContext(ctx, sqlText(s.d, s.prefix, b.String()), args...)
	return err
}

// insertReservation inserts the row of r, not filed, reserved at at, with
// the number of its quotas. It returns errRetry if the code is reserved
// already: another call reserved it since the read that found it free.
func (s *Store) insertReservation(ctx context.Context, q querier, r icpverify.Reservation, at any) error {
	query, args := s.q.reserveInsert, []any{r.Code, r.Instance, r.Account, r.Subject,
		r.SubjectKey, r.Website, false, at, r.Application}
	if len(r.Quotas) > 0 {
		query, args = s.q.reserveInsertQuotas, append(args, len(r.Quotas))
	}
	n, err := affected(q.ExecContext(ctx, query, args...))
	if err := s.applicationConflict(err); errors.Is(err, errApplicationUsed) {
		return err
	}
	if s.d.classify(err) == errUnique || (err == nil && n == 0) {
		return errRetry
	}
	return err
}

// sharedSlotUsage reads the usage of instance after a reservation joined
// a slot its subject key held already, or counted a new one, so that the
// instance's quota row must exist.
func (s *Store) sharedSlotUsage(ctx context.Context, q querier, instance string) (int, error) {
	var used int
	err := q.QueryRowContext(ctx, s.q.quotaUsed, instance).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlstore: malformed quota: instance %q has a slot but no quota row", instance)
	}
	return used, err
}
