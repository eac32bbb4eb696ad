package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
)

// Reservation implements icpverify.QuotaStore.
func (s *Store) Reservation(ctx context.Context, code string) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var r icpverify.Reservation
	err := s.retry(ctx, func() error { // a read may be aborted as a deadlock too (Galera)
		var err error
		r, err = s.reservation(ctx, s.db, s.q.reservation, code)
		return err
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Reservation %s: %w", codeformat.Mask(nil, code), err)
	}
	return r, nil
}

// reservationCols are the columns of a reservation, as scanReservation
// reads them.
const reservationCols = "code, instance, account, subject, subject_key, website, filed, reserved_at, application"

// scanReservation reads the columns reservationCols.
func (s *Store) scanReservation(sc interface{ Scan(...any) error }) (icpverify.Reservation, error) {
	var r icpverify.Reservation
	err := sc.Scan(&r.Code, &r.Instance, &r.Account, &r.Subject, &r.SubjectKey, &r.Website,
		boolCol{&r.Filed}, timeCol{s.d, &r.ReservedAt}, &r.Application)
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

// Application implements icpverify.QuotaStore: the reservation whose
// Application is id, read by the unique index of the reservations by
// application (schema version 6).
func (s *Store) Application(ctx context.Context, id string) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	if !validApplicationID(id) {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Application %q: %w", id, icpverify.ErrNotFound)
	}
	r, err := s.scanReservation(s.db.QueryRowContext(ctx, s.q.application, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = icpverify.ErrNotFound
	}
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Application %q: %w", id, err)
	}
	return r, nil
}

// Usage implements icpverify.QuotaStore.
func (s *Store) Usage(ctx context.Context, instance, subjectKey string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	used, held, err := s.usage(ctx, instance, subjectKey)
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: Usage of %q: %w", instance, err)
	}
	return used, held, nil
}

// usage is Usage without the checks of ctx and the wrapping of errors; it
// reads outside any transaction.
func (s *Store) usage(ctx context.Context, instance, subjectKey string) (int, bool, error) {
	if !checkKey(instance) {
		return 0, false, nil
	}
	if !checkKeyLen(subjectKey, MaxSubjectKeyLen) {
		subjectKey = "" // matches no slot
	}
	var used int
	var held bool
	err := s.db.QueryRowContext(ctx, s.q.usage, instance, instance, subjectKey).Scan(&used, boolCol{&held})
	return used, held, err
}

// errOtherApplication is the error of Release and Complete for a code
// reserved for another application than theirs.
var errOtherApplication = fmt.Errorf("reserved for another application: %w", icpverify.ErrNotFound)

// findable reports whether a reservation of r.Code for r.Application
// could be stored; if not, none is.
func findable(r icpverify.Reservation) bool {
	return checkKey(r.Code) && validApplicationID(r.Application)
}

// lockApplication reads the reservation of r.Code in the transaction q,
// locking it, and returns it if its Application is r.Application; else
// ErrNotFound.
func (s *Store) lockApplication(ctx context.Context, q querier, r icpverify.Reservation) (icpverify.Reservation, error) {
	if !findable(r) {
		return icpverify.Reservation{}, icpverify.ErrNotFound
	}
	old, err := s.reservation(ctx, q, s.q.reservationForUpdate, r.Code)
	if err == nil && old.Application != r.Application {
		return icpverify.Reservation{}, errOtherApplication
	}
	return old, err
}

// Release implements icpverify.QuotaStore. In one transaction it locks the
// reservation of r.Code and, if its Application is r.Application and it is
// not filed,
// deletes it, counts one reservation less on its subject key's slot, and
// if that was the last one deletes the slot and counts it off the
// instance's quota row.
func (s *Store) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var old icpverify.Reservation
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			var err error
			old, err = s.lockApplication(ctx, q, r)
			if err != nil || old.Filed {
				return false, err
			}
			return true, s.releaseWrites(ctx, q, old)
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Release %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	return old, nil
}

// releaseWrites deletes the reservation r, read and locked in the
// transaction q, and frees its slot if it was the slot's last.
func (s *Store) releaseWrites(ctx context.Context, q querier, r icpverify.Reservation) error {
	n, err := affected(q.ExecContext(ctx, s.q.releaseDelete, r.Code, r.Application))
	if err != nil {
		return err
	}
	if n != 1 {
		return errRetry
	}
	if n, err = affected(q.ExecContext(ctx, s.q.slotUnhold, r.Instance, r.SubjectKey)); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: malformed quota: reservation on instance %q has no slot", r.Instance)
	}
	if n, err = affected(q.ExecContext(ctx, s.q.slotRemoveEmpty, r.Instance, r.SubjectKey)); err != nil || n == 0 {
		return err
	}
	if n, err = affected(q.ExecContext(ctx, s.q.quotaFree, r.Instance)); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: malformed quota: instance %q has a slot but no quota row", r.Instance)
	}
	return nil
}

// Complete implements icpverify.QuotaStore: in one transaction it marks the
// reservation of r.Code filed if its Application is r.Application, and
// reads it back.
func (s *Store) Complete(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var out icpverify.Reservation
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			if !findable(r) {
				return false, icpverify.ErrNotFound
			}
			if _, err := q.ExecContext(ctx, s.q.complete, true, r.Code, r.Application); err != nil {
				return false, err
			}
			var err error
			out, err = s.lockApplication(ctx, q, r)
			return err == nil, err
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Complete %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	return out, nil
}

// ListReservations implements icpverify.QuotaStore.
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
