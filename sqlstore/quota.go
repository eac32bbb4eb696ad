package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/icpfiling/icpverify"
)

// Reserve implements icpverify.QuotaStore.
//
// A retry is answered by one SELECT of the code's reservation, outside any
// transaction. Otherwise one transaction inserts the reservation (its code
// is the primary key), takes or shares the subject's slot with an upsert on
// the (instance, subject) primary key that counts the subject's
// reservations, and, only when that slot is new, counts it on the instance's
// quota row with a conditional increment (used < limit); if that changes no
// row the instance is Full and the transaction is rolled back. Every
// decision is read from the outcome of a write on a single row, which the
// database serializes with a row lock at any isolation level, so N
// concurrent calls for the last slot have one winner. A unique violation,
// serialization failure or deadlock runs the call again, starting with the
// SELECT, which then reports the winner's reservation as Held or Taken.
func (s *Store) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	masked := icpverify.MaskServiceCode(r.Code)
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"code", r.Code, true}, {"instance", r.Instance, true},
		{"subject", r.Subject, true}, {"account", r.Account, false},
	} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return 0, 0, fmt.Errorf("sqlstore: Reserve: %w", err)
		}
	}
	at, err := s.d.timeArg("ReservedAt", r.ReservedAt)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: Reserve %s: %w", masked, err)
	}
	lim := clampLimit(limit)
	var out icpverify.Outcome
	var used int
	err = s.retry(ctx, func() error {
		var found bool
		var err error
		found, out, used, err = s.existing(ctx, r)
		if err != nil || found {
			return err
		}
		out, used, err = s.reserveTx(ctx, r, at, lim)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: Reserve %s: %w", masked, err)
	}
	return out, used, nil
}

// existing reports whether r.Code is reserved already, and if so the
// outcome of reserving it again and the usage of r.Instance.
func (s *Store) existing(ctx context.Context, r icpverify.Reservation) (bool, icpverify.Outcome, int, error) {
	var instance, subject string
	var filed bool
	var used int
	err := s.queryRow(ctx, s.q.reserveCheck, r.Instance, r.Code).Scan(&instance, &subject, boolCol{&filed}, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, 0, nil
	}
	if err != nil {
		return false, 0, 0, err
	}
	if filed || instance != r.Instance || subject != r.Subject {
		return true, icpverify.Taken, used, nil
	}
	return true, icpverify.Held, used, nil
}

// reserveTx stores r in one transaction. It returns errRetry if the code
// was reserved concurrently.
func (s *Store) reserveTx(ctx context.Context, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	var out icpverify.Outcome
	var used int
	full := false
	err := s.inTx(ctx, "reserve", func(q querier) (bool, error) {
		switch s.d {
		case Postgres:
			// (The transaction is READ COMMITTED: see inTx.)
			// One statement: the reservation, then the slot if the
			// reservation was inserted, then the quota if the slot
			// is new.
			var inserted bool
			var holds, taken sql.NullInt64
			err := q.QueryRowContext(ctx, s.q.reservePG, r.Code, r.Instance, r.Account, r.Subject, at, limit, limit).
				Scan(&inserted, &holds, &taken)
			if err != nil {
				return false, err
			}
			switch {
			case !inserted:
				return false, errRetry
			case holds.Int64 > 1:
				// The subject's slot is shared. The statement's
				// snapshot may predate the slot's commit, which
				// its upsert waited for: read the count anew.
				out = icpverify.Reserved
				err := q.QueryRowContext(ctx, s.q.quotaUsed, r.Instance).Scan(&used)
				return err == nil, err
			case taken.Valid:
				out, used = icpverify.Reserved, int(taken.Int64)
			default:
				full = true
				return false, nil
			}
			return true, nil
		}

		n, err := affected(q.ExecContext(ctx, s.q.reserveInsert, r.Code, r.Instance, r.Account, r.Subject, false, at))
		if s.d.classify(err) == errUnique || (err == nil && n == 0) {
			return false, errRetry
		}
		if err != nil {
			return false, err
		}
		newSlot, err := s.takeSlot(ctx, q, r.Instance, r.Subject)
		if err != nil {
			return false, err
		}
		out = icpverify.Reserved
		if !newSlot {
			err := q.QueryRowContext(ctx, s.q.quotaUsed, r.Instance).Scan(&used)
			if errors.Is(err, sql.ErrNoRows) {
				return false, fmt.Errorf("sqlstore: malformed quota: instance %q has a slot but no quota row", r.Instance)
			}
			return err == nil, err
		}
		if s.d == MySQL {
			if _, err := q.ExecContext(ctx, s.q.quotaEnsure, r.Instance); err != nil {
				return false, err
			}
			n, err := affected(q.ExecContext(ctx, s.q.quotaTake, r.Instance, limit))
			if err != nil {
				return false, err
			}
			if n == 0 {
				full = true
				return false, nil
			}
			err = q.QueryRowContext(ctx, s.q.quotaUsed, r.Instance).Scan(&used)
			return err == nil, err
		}
		// SQLite: a conditional upsert that returns the new count.
		err = q.QueryRowContext(ctx, s.q.quotaTake, r.Instance, limit, limit).Scan(&used)
		if errors.Is(err, sql.ErrNoRows) {
			full = true
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return 0, 0, err
	}
	if full {
		// Rolled back: report the usage as it is now.
		used, _, err := s.usage(ctx, r.Instance, r.Subject)
		return icpverify.Full, used, err
	}
	return out, used, nil
}

// takeSlot counts one more reservation on the subject's slot, inserting the
// slot if needed, and reports whether it was inserted.
func (s *Store) takeSlot(ctx context.Context, q querier, instance, subject string) (bool, error) {
	if s.d == MySQL {
		// 1 row affected: inserted; 2: updated.
		n, err := affected(q.ExecContext(ctx, s.q.slotTake, instance, subject))
		return n == 1, err
	}
	var holds int
	err := q.QueryRowContext(ctx, s.q.slotTake, instance, subject).Scan(&holds)
	return holds == 1, err
}

// Reservation implements icpverify.QuotaStore.
func (s *Store) Reservation(ctx context.Context, code string) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	r, err := s.reservation(ctx, s.db, s.q.reservation, code)
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Reservation %s: %w", icpverify.MaskServiceCode(code), err)
	}
	return r, nil
}

const reservationCols = "code, instance, account, subject, filed, reserved_at"

func (s *Store) scanReservation(sc interface{ Scan(...any) error }) (icpverify.Reservation, error) {
	var r icpverify.Reservation
	err := sc.Scan(&r.Code, &r.Instance, &r.Account, &r.Subject, boolCol{&r.Filed}, timeCol{s.d, &r.ReservedAt})
	return r, err
}

// reservation reads the reservation of code with query, which selects
// reservationCols.
func (s *Store) reservation(ctx context.Context, q querier, query, code string) (icpverify.Reservation, error) {
	if !checkKey(code) {
		return icpverify.Reservation{}, icpverify.ErrNotFound
	}
	r, err := s.scanReservation(q.QueryRowContext(ctx, query, code))
	if errors.Is(err, sql.ErrNoRows) {
		return icpverify.Reservation{}, icpverify.ErrNotFound
	}
	return r, err
}

// Usage implements icpverify.QuotaStore.
func (s *Store) Usage(ctx context.Context, instance, subject string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	used, held, err := s.usage(ctx, instance, subject)
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: Usage of %q: %w", instance, err)
	}
	return used, held, nil
}

func (s *Store) usage(ctx context.Context, instance, subject string) (int, bool, error) {
	if !checkKey(instance) {
		return 0, false, nil
	}
	if !checkKey(subject) {
		subject = "" // matches no slot
	}
	var used int
	var held bool
	err := s.db.QueryRowContext(ctx, s.q.usage, instance, instance, subject).Scan(&used, boolCol{&held})
	return used, held, err
}

// Release implements icpverify.QuotaStore. In one transaction it locks and
// deletes the reservation, counts one reservation less on the subject's
// slot, and if that was the last one deletes the slot and counts it off the
// instance's quota row.
func (s *Store) Release(ctx context.Context, code string) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var r icpverify.Reservation
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, "release", func(q querier) (bool, error) {
			var err error
			r, err = s.reservation(ctx, q, s.q.reservationForUpdate, code)
			if err != nil || r.Filed {
				return false, err
			}
			n, err := affected(q.ExecContext(ctx, s.q.releaseDelete, code))
			if err != nil {
				return false, err
			}
			if n != 1 {
				return false, errRetry
			}
			if n, err = affected(q.ExecContext(ctx, s.q.slotDrop, r.Instance, r.Subject)); err != nil {
				return false, err
			}
			if n != 1 {
				return false, fmt.Errorf("sqlstore: malformed quota: reservation on instance %q has no slot", r.Instance)
			}
			if n, err = affected(q.ExecContext(ctx, s.q.slotDelete, r.Instance, r.Subject)); err != nil || n == 0 {
				return err == nil, err
			}
			if n, err = affected(q.ExecContext(ctx, s.q.quotaFree, r.Instance)); err != nil {
				return false, err
			}
			if n != 1 {
				return false, fmt.Errorf("sqlstore: malformed quota: instance %q has a slot but no quota row", r.Instance)
			}
			return true, nil
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Release %s: %w", icpverify.MaskServiceCode(code), err)
	}
	return r, nil
}

// Complete implements icpverify.QuotaStore: in one transaction it marks the
// reservation filed and reads it back.
func (s *Store) Complete(ctx context.Context, code string) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var r icpverify.Reservation
	if !checkKey(code) {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Complete %s: %w", icpverify.MaskServiceCode(code), icpverify.ErrNotFound)
	}
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, "complete", func(q querier) (bool, error) {
			if _, err := q.ExecContext(ctx, s.q.complete, true, code); err != nil {
				return false, err
			}
			var err error
			r, err = s.reservation(ctx, q, s.q.reservationForUpdate, code)
			return err == nil, err
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Complete %s: %w", icpverify.MaskServiceCode(code), err)
	}
	return r, nil
}

// ListReservations implements icpverify.ReservationLister.
func (s *Store) ListReservations(ctx context.Context, account string, limit int) ([]icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []icpverify.Reservation{}
	if limit <= 0 || checkText("account", account, false) != nil {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q.listReservations, account, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ListReservations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := s.scanReservation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: ListReservations: reading a row: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: ListReservations: %w", err)
	}
	return out, nil
}
