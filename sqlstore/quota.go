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
const reservationCols = "code, instance, account, subject, subject_key, website, filed, reserved_at, application, deregistered"

// scanReservation reads the columns reservationCols, then extra.
func (s *Store) scanReservation(sc interface{ Scan(...any) error }, extra ...any) (icpverify.Reservation, error) {
	var r icpverify.Reservation
	err := sc.Scan(append([]any{&r.Code, &r.Instance, &r.Account, &r.Subject, &r.SubjectKey, &r.Website,
		boolCol{&r.Filed}, timeCol{s.d, &r.ReservedAt}, &r.Application, boolCol{&r.Deregistered}}, extra...)...)
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

// Places implements icpverify.QuotaStore. A key or member the store could
// not keep (see Reserve) has no places.
func (s *Store) Places(ctx context.Context, key, member string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if checkTextLen("quota key", key, false, MaxSubjectKeyLen) != nil {
		return 0, false, nil
	}
	kept := checkTextLen("quota member", member, false, MaxSubjectKeyLen) == nil
	if !kept {
		member = ""
	}
	var members int
	var held bool
	err := s.db.QueryRowContext(ctx, s.q.places, key, key, member).Scan(&members, boolCol{&held})
	if err != nil {
		return 0, false, fmt.Errorf("sqlstore: Places of %q: %w", key, err)
	}
	return members, held && kept, nil
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

// errOtherApplication is the error of Release, Complete and Deregister
// for a code reserved for another application than theirs.
var errOtherApplication = fmt.Errorf("reserved for another application: %w", icpverify.ErrNotFound)

// findable reports whether a reservation of r.Code for r.Application
// could be stored; if not, none is.
func findable(r icpverify.Reservation) bool {
	return checkKey(r.Code) && validApplicationID(r.Application)
}

// lockApplication reads the reservation of r.Code in the transaction q,
// locking it, and returns it, with the number of quotas it was made with,
// if its Application is r.Application; else ErrNotFound.
func (s *Store) lockApplication(ctx context.Context, q querier, r icpverify.Reservation) (icpverify.Reservation, int, error) {
	if !findable(r) {
		return icpverify.Reservation{}, 0, icpverify.ErrNotFound
	}
	var quotas int
	old, err := s.scanReservation(q.QueryRowContext(ctx, s.q.reservationForUpdate, r.Code), &quotas)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return icpverify.Reservation{}, 0, icpverify.ErrNotFound
	case err == nil && old.Application != r.Application:
		return icpverify.Reservation{}, 0, errOtherApplication
	}
	return old, quotas, err
}

// Release implements icpverify.QuotaStore. In one transaction it locks the
// reservation of r.Code and, if its Application is r.Application and it is
// not filed, deletes it, counts one reservation less on its subject key's
// slot, and if that was the last one deletes the slot and counts it off
// the instance's quota row; then it frees the places of the reservation's
// quotas in the same way (see freePlaces).
func (s *Store) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var old icpverify.Reservation
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			var quotas int
			var err error
			old, quotas, err = s.lockApplication(ctx, q, r)
			if err != nil || old.Filed {
				return false, err
			}
			if err := s.releaseWrites(ctx, q, old); err != nil {
				return false, err
			}
			return true, s.freePlaces(ctx, q, old.Code, quotas, false)
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
	return s.freeSlot(ctx, q, r)
}

// freeSlot counts the reservation r, read and locked in the transaction q,
// off its subject key's slot, and frees the slot if r was its last.
func (s *Store) freeSlot(ctx context.Context, q querier, r icpverify.Reservation) error {
	n, err := affected(q.ExecContext(ctx, s.q.slotUnhold, r.Instance, r.SubjectKey))
	if err != nil {
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

// place is a place a reservation holds: a member under a quota key.
type place struct{ key, member string }

// freePlaces frees the places that the reservation of code, locked in the
// transaction q and made with quotas quotas, still holds, or only those of
// its quotas UntilFiled if untilFiled is set, and forgets them: for each,
// in the byte order of the keys (as Reserve takes them), one reservation
// less on the member's place, and if that was its last, the place deleted
// and one member less on the key. A reservation made without quotas holds
// none, and nothing is read.
//
// On PostgreSQL and MySQL it is one call of the routine ${p}free_places
// (schema version 9), which makes those writes in the same order.
func (s *Store) freePlaces(ctx context.Context, q querier, code string, quotas int, untilFiled bool) error {
	if quotas == 0 {
		return nil
	}
	if s.d != SQLite {
		_, err := q.ExecContext(ctx, s.q.freePlaces, code, untilFiled)
		return err
	}
	query, del, args := s.q.resQuotas, s.q.resQuotasDelete, []any{code}
	if untilFiled {
		query, del, args = s.q.resQuotasUntilFiled, s.q.resQuotasDeleteUntilFiled, append(args, true)
	}
	places, err := s.heldPlaces(ctx, q, query, args)
	if err != nil {
		return err
	}
	if err := s.freeEachPlace(ctx, q, places); err != nil {
		return err
	}
	if len(places) == 0 {
		return nil
	}
	_, err = q.ExecContext(ctx, del, args...)
	return err
}

// freeEachPlace frees places, in the transaction q, in their order: one
// reservation less on each member's place, and if that was its last, the
// place deleted and one member less on the key.
func (s *Store) freeEachPlace(ctx context.Context, q querier, places []place) error {
	for _, p := range places {
		n, err := affected(q.ExecContext(ctx, s.q.placeUnhold, p.key, p.member))
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("sqlstore: malformed quota: a reservation holds a place under quota key %q that is not stored", p.key)
		}
		if n, err = affected(q.ExecContext(ctx, s.q.placeRemoveEmpty, p.key, p.member)); err != nil {
			return err
		}
		if n == 0 {
			continue // another reservation still counts the member
		}
		if n, err = affected(q.ExecContext(ctx, s.q.keyFree, p.key)); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("sqlstore: malformed quota: quota key %q has a place but no members", p.key)
		}
	}
	return nil
}

// heldPlaces reads the places of a reservation with query, which selects
// the key and member of its rows of ${p}reservation_quotas, and returns
// them in the byte order of their keys.
func (s *Store) heldPlaces(ctx context.Context, q querier, query string, args []any) ([]place, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var places []place
	for rows.Next() {
		var p place
		if err := rows.Scan(&p.key, &p.member); err != nil {
			return nil, err
		}
		places = append(places, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(places, func(a, b place) int { return strings.Compare(a.key, b.key) })
	return places, nil
}

// Complete implements icpverify.QuotaStore: in one transaction it marks the
// reservation of r.Code filed if its Application is r.Application and it
// is not filed yet, reads it back, and if it was filed now frees the
// places of its quotas UntilFiled (see freePlaces).
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
			filed, err := affected(q.ExecContext(ctx, s.q.complete, true, r.Code, r.Application, false))
			if err != nil {
				return false, err
			}
			var quotas int
			out, quotas, err = s.lockApplication(ctx, q, r)
			if err != nil {
				return false, err
			}
			if filed == 0 {
				return false, nil // filed already, or not this application's: nothing changed
			}
			return true, s.freePlaces(ctx, q, r.Code, quotas, true)
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Complete %s: %w", codeformat.Mask(nil, r.Code), err)
	}
	return out, nil
}

// Deregister implements icpverify.QuotaStore. In one transaction it locks
// the reservation of r.Code and, if its Application is r.Application and
// it is filed and not deregistered, marks it deregistered, frees its slot
// as Release does, and frees the places of its quotas it still holds (its
// quotas UntilFiled were freed when it was filed). The reservation stays.
func (s *Store) Deregister(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if err := ctx.Err(); err != nil {
		return icpverify.Reservation{}, err
	}
	var out icpverify.Reservation
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q querier) (bool, error) {
			old, quotas, err := s.lockApplication(ctx, q, r)
			out = old
			if err != nil || !old.Filed || old.Deregistered {
				return false, err
			}
			n, err := affected(q.ExecContext(ctx, s.q.deregister, true, old.Code, old.Application))
			if err != nil {
				return false, err
			}
			if n != 1 {
				return false, errRetry
			}
			if err := s.freeSlot(ctx, q, old); err != nil {
				return false, err
			}
			out.Deregistered = true
			return true, s.freePlaces(ctx, q, old.Code, quotas, false)
		})
	})
	if err != nil {
		return icpverify.Reservation{}, fmt.Errorf("sqlstore: Deregister %s: %w", codeformat.Mask(nil, r.Code), err)
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
