package storetest_test

import (
	"context"
	"math"
	"slices"

	"github.com/icpfiling/icpverify"
)

// Stores that break the contract of quotas and Deregister, for the list
// of mutants in mutants_test.go. Those that must break how places are
// taken and freed inside a store are placeKeepers (placekeeper_test.go).
type (
	ignoresQuotas            struct{ base }
	lastFullQuota            struct{ base }
	exceededReportsUsage     struct{ base }
	exceededLeaksPlaces      struct{ base }
	exceededStores           struct{ base }
	memberPerCode            struct{ base }
	codeIgnoresQuotas        struct{ reserver }
	deregisterKeepsSlot      struct{ base }
	deregisterDeletes        struct{ base }
	forgetsDeregistered      struct{ base }
	deregistersUnfiled       struct{ base }
	deregistersAnyone        struct{ base }
	deregisterIgnoresContext struct{ base }
	placesCountsNoMember     struct{ base }
)

// placesCountsNoMember reports the members under a key, but never that a
// member holds a place.
func (s placesCountsNoMember) Places(ctx context.Context, key, member string) (int, bool, error) {
	n, _, err := s.base.Places(ctx, key, member)
	return n, false, err
}

// ignoresQuotas reserves without the reservation's quotas.
func (s ignoresQuotas) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	r.Quotas = nil
	return s.base.Reserve(ctx, r, limit)
}

// lastFullQuota checks the quotas last first, and so reports the last
// full one.
func (s lastFullQuota) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	r.Quotas = slices.Clone(r.Quotas)
	slices.Reverse(r.Quotas)
	o, n, err := s.base.Reserve(ctx, r, limit)
	if o == icpverify.Exceeded {
		n = len(r.Quotas) - 1 - n
	}
	return o, n, err
}

// exceededReportsUsage reports the usage with Exceeded, as with Full.
func (s exceededReportsUsage) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	o, n, err := s.base.Reserve(ctx, r, limit)
	if o == icpverify.Exceeded {
		n, _, err = s.base.Usage(ctx, r.Instance, r.SubjectKey)
	}
	return o, n, err
}

// exceededLeaksPlaces keeps the places it took in the quotas before the
// full one: it reserves them under a code of its own.
func (s exceededLeaksPlaces) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	o, n, err := s.base.Reserve(ctx, r, limit)
	if o == icpverify.Exceeded && n > 0 {
		leak := icpverify.Reservation{Code: "leak-" + r.Code, Instance: "leak", SubjectKey: "leak", Application: "leak", Quotas: r.Quotas[:n]}
		if _, _, err := s.base.Reserve(ctx, leak, math.MaxInt); err != nil {
			return 0, 0, err
		}
	}
	return o, n, err
}

// exceededStores stores the reservation, without its quotas, when it
// reports Exceeded.
func (s exceededStores) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	o, n, err := s.base.Reserve(ctx, r, limit)
	if o == icpverify.Exceeded {
		r.Quotas = nil
		if _, _, err := s.base.Reserve(ctx, r, limit); err != nil {
			return 0, 0, err
		}
	}
	return o, n, err
}

// memberPerCode counts a member once for each code, not once for all.
func (s memberPerCode) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	r.Quotas = slices.Clone(r.Quotas)
	for i := range r.Quotas {
		r.Quotas[i].Member += "@" + r.Code
	}
	return s.base.Reserve(ctx, r, limit)
}

// codeIgnoresQuotas reserves through ReserveServiceCode without the
// reservation's quotas.
func (s codeIgnoresQuotas) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	r.Quotas = nil
	return s.reserver.ReserveServiceCode(ctx, r, limit, g)
}

// deregisterKeepsSlot keeps the subject's slot: it reserves it under a
// code of its own before it deregisters.
func (s deregisterKeepsSlot) Deregister(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil && old.Filed && old.Application == r.Application {
		keep := icpverify.Reservation{Code: "keep-" + r.Code, Instance: old.Instance, SubjectKey: old.SubjectKey, Application: "keep"}
		if _, _, err := s.base.Reserve(ctx, keep, math.MaxInt); err != nil {
			return icpverify.Reservation{}, err
		}
	}
	return s.base.Deregister(ctx, r)
}

// deregisterDeletes answers as a store that deletes a reservation when it
// deregisters it: reads find it no more, and its code is Reserved again
// (though this store then stores nothing).
func (s deregisterDeletes) Reservation(ctx context.Context, code string) (icpverify.Reservation, error) {
	r, err := s.base.Reservation(ctx, code)
	if err == nil && r.Deregistered {
		return icpverify.Reservation{}, icpverify.ErrNotFound
	}
	return r, err
}

func (s deregisterDeletes) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil && old.Deregistered {
		used, _, err := s.base.Usage(ctx, r.Instance, r.SubjectKey)
		return icpverify.Reserved, used + 1, err
	}
	return s.base.Reserve(ctx, r, limit)
}

// forgetsDeregistered reads reservations without Deregistered.
func (s forgetsDeregistered) Reservation(ctx context.Context, code string) (icpverify.Reservation, error) {
	r, err := s.base.Reservation(ctx, code)
	r.Deregistered = false
	return r, err
}

func (s forgetsDeregistered) Application(ctx context.Context, id string) (icpverify.Reservation, error) {
	r, err := s.base.Application(ctx, id)
	r.Deregistered = false
	return r, err
}

func (s forgetsDeregistered) ListReservations(ctx context.Context, account string, limit int) ([]icpverify.Reservation, error) {
	list, err := s.base.ListReservations(ctx, account, limit)
	for i := range list {
		list[i].Deregistered = false
	}
	return list, err
}

func (s forgetsDeregistered) LookupServiceCode(ctx context.Context, code string) (icpverify.CodeRecord, error) {
	rec, err := s.base.LookupServiceCode(ctx, code)
	rec.Reservation.Deregistered = false
	return rec, err
}

// deregistersUnfiled releases a reservation not filed, and returns it
// Deregistered.
func (s deregistersUnfiled) Deregister(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil && !old.Filed && old.Application == r.Application {
		old, err = s.base.Release(ctx, r)
		old.Deregistered = true
		return old, err
	}
	return s.base.Deregister(ctx, r)
}

// deregistersAnyone deregisters a code's reservation whoever it is for.
func (s deregistersAnyone) Deregister(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if old, err := s.base.Reservation(ctx, r.Code); err == nil {
		r = old
	}
	return s.base.Deregister(ctx, r)
}

func (s deregisterIgnoresContext) Deregister(_ context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	return s.base.Deregister(context.Background(), r)
}
