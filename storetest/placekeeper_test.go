package storetest_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/icpfiling/icpverify"
)

// placeBug is how a placeKeeper breaks the contract of quotas.
type placeBug int

const (
	keepsContract          placeBug = iota
	quotasFirst                     // checks the quotas before the code and the slot
	racyReserve                     // checks the quotas, yields, then takes the places
	releaseKeepsPlaces              // Release frees no place
	untilFiledAtDeregister          // Complete frees no place; Deregister frees them all
	completeFreesAgain              // every Complete frees the UntilFiled places
	deregisterKeepsPlaces           // Deregister frees no place
	deregisterFreesAgain            // every Deregister of a filed reservation frees places
	racyDeregister                  // reads the reservation, yields, then deregisters and frees
)

// placeKeeper keeps the places of quotas itself, under a lock of its own,
// above a base that keeps the reservations without their quotas, so that
// its bug can break how places are taken and freed. With keepsContract it
// keeps the contracts.
type placeKeeper struct {
	base
	bug    placeBug
	mu     sync.Mutex
	places map[string]map[string]int    // key -> member -> reservations counting it
	quotas map[string][]icpverify.Quota // code -> its reservation's quotas
}

func newPlaceKeeper(bug placeBug) *placeKeeper {
	return &placeKeeper{base: newBase(), bug: bug, places: make(map[string]map[string]int), quotas: make(map[string][]icpverify.Quota)}
}

// full returns the index of the first full quota of qs, or -1; k.mu must
// be held.
func (k *placeKeeper) full(qs []icpverify.Quota) int {
	for i, q := range qs {
		if m := k.places[q.Key]; m[q.Member] == 0 && len(m) >= q.Limit {
			return i
		}
	}
	return -1
}

// take counts code's reservation in the places of qs; k.mu must be held.
func (k *placeKeeper) take(code string, qs []icpverify.Quota) {
	k.quotas[code] = qs
	for _, q := range qs {
		if k.places[q.Key] == nil {
			k.places[q.Key] = make(map[string]int)
		}
		k.places[q.Key][q.Member]++
	}
}

// free counts code's reservation no more in the places of its quotas that
// keep tells; k.mu must be held.
func (k *placeKeeper) free(code string, keep func(icpverify.Quota) bool) {
	for _, q := range k.quotas[code] {
		if m := k.places[q.Key]; keep(q) && m != nil {
			if m[q.Member]--; m[q.Member] <= 0 {
				delete(m, q.Member)
			}
		}
	}
}

// yield lets the other goroutines run for a while, between a racy
// store's check and its act: long enough for racers released together to
// check before any acts.
func yield() {
	runtime.Gosched()
	time.Sleep(time.Millisecond)
}

func all(icpverify.Quota) bool                  { return true }
func isUntilFiled(q icpverify.Quota) bool       { return q.UntilFiled }
func notUntilFiled(q icpverify.Quota) bool      { return !q.UntilFiled }
func (k *placeKeeper) is(bugs ...placeBug) bool { return slices.Contains(bugs, k.bug) }

func (k *placeKeeper) Reserve(ctx context.Context, r icpverify.Reservation, limit int) (icpverify.Outcome, int, error) {
	qs := slices.Clone(r.Quotas)
	r.Quotas = nil
	if k.is(racyReserve) {
		return k.reserveRacy(ctx, r, limit, qs)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.is(quotasFirst) {
		if i := k.full(qs); i >= 0 {
			return icpverify.Exceeded, i, nil
		}
	}
	o, used, err := k.base.Reserve(ctx, r, limit)
	if err != nil || o != icpverify.Reserved {
		return o, used, err
	}
	if i := k.full(qs); i >= 0 {
		if _, err := k.base.Release(ctx, r); err != nil {
			return 0, 0, err
		}
		return icpverify.Exceeded, i, nil
	}
	k.take(r.Code, qs)
	return o, used, nil
}

// reserveRacy reserves as Reserve does, in the same order, but checks the
// quotas first and takes their places later, with a yield between.
func (k *placeKeeper) reserveRacy(ctx context.Context, r icpverify.Reservation, limit int, qs []icpverify.Quota) (icpverify.Outcome, int, error) {
	k.mu.Lock()
	i := k.full(qs)
	k.mu.Unlock()
	yield()
	o, used, err := k.base.Reserve(ctx, r, limit)
	if err != nil || o != icpverify.Reserved {
		return o, used, err
	}
	if i >= 0 {
		if _, err := k.base.Release(ctx, r); err != nil {
			return 0, 0, err
		}
		return icpverify.Exceeded, i, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.take(r.Code, qs)
	return o, used, nil
}

func (k *placeKeeper) ReserveServiceCode(ctx context.Context, r icpverify.Reservation, limit int, g icpverify.ReserveGuard) (icpverify.CodeRecord, icpverify.Outcome, error) {
	return lookThenReserve(ctx, k, r, limit, func(rec icpverify.CodeRecord) bool {
		return g.Allows(r.Account, rec.Code, rec.Instance)
	})
}

func (k *placeKeeper) Places(ctx context.Context, key, member string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.places[key]), k.places[key][member] > 0, nil
}

func (k *placeKeeper) Release(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old, err := k.base.Release(ctx, r)
	if err == nil && !old.Filed && !k.is(releaseKeepsPlaces) {
		k.free(old.Code, all)
		delete(k.quotas, old.Code)
	}
	return old, err
}

func (k *placeKeeper) Complete(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	before, err := k.base.Reservation(ctx, r.Code)
	if err != nil && !errors.Is(err, icpverify.ErrNotFound) {
		return icpverify.Reservation{}, err
	}
	after, err := k.base.Complete(ctx, r)
	if err == nil && (!before.Filed || k.is(completeFreesAgain)) && !k.is(untilFiledAtDeregister) {
		k.free(r.Code, isUntilFiled)
	}
	return after, err
}

func (k *placeKeeper) Deregister(ctx context.Context, r icpverify.Reservation) (icpverify.Reservation, error) {
	if !k.is(racyDeregister) {
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	before, err := k.base.Reservation(ctx, r.Code)
	if err != nil && !errors.Is(err, icpverify.ErrNotFound) {
		return icpverify.Reservation{}, err
	}
	if k.is(racyDeregister) {
		yield()
	}
	after, err := k.base.Deregister(ctx, r)
	if err != nil || !after.Filed || before.Deregistered && !k.is(deregisterFreesAgain) || k.is(deregisterKeepsPlaces) {
		return after, err
	}
	if k.is(racyDeregister) {
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	if k.is(untilFiledAtDeregister) {
		k.free(r.Code, all)
	} else {
		k.free(r.Code, notUntilFiled)
	}
	return after, nil
}
