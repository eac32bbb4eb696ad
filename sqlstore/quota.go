package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/icpfiling/icpverify"
)

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

// reservationCols are the columns of a reservation, as scanReservation
// reads them.
const reservationCols = "code, instance, account, subject, filed, reserved_at"

// scanReservation reads the columns reservationCols.
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

// usage is Usage without the checks of ctx and the wrapping of errors; it
// reads outside any transaction.
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
		return s.inTx(ctx, func(q querier) (bool, error) {
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
		return s.inTx(ctx, func(q querier) (bool, error) {
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
