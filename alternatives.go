package icpverify

import (
	"context"
	"time"
)

const (
	// maxListed bounds the instances read from an InstanceLister.
	maxListed = 1000
	// maxAlternatives bounds the alternatives offered with a refusal.
	maxAlternatives = 3
	// maxUsageReads bounds the QuotaStore's Usage calls for alternatives.
	maxUsageReads = 16
)

// offerAlternatives adds to a refusal that another instance would answer
// (a full, expired or released instance) the alternatives the applicant
// has, and returns it.
func (v *Verifier) offerAlternatives(ctx context.Context, e *Error, req Request, now time.Time) *Error {
	switch e.Reason {
	case ReasonQuotaReached, ReasonInstanceExpired, ReasonInstanceReleased:
		if e.Instance != "" {
			e.Alternatives = v.alternatives(ctx, req, e.Instance, now)
		}
	}
	return e
}

// alternatives returns the applicant's instances, other than exclude, that
// would pass req now with a code of their own, best first: most free slots,
// then latest expiry. Such an instance has the selected product type, a free
// subject slot, and may issue codes (see IssueServiceCode). It asks the
// InstanceStore once, if it is an InstanceLister, and offers nothing if it
// is not or fails, and reads the slots of at most maxUsageReads instances
// from the QuotaStore.
func (v *Verifier) alternatives(ctx context.Context, req Request, exclude string, now time.Time) []Alternative {
	if v.lister == nil {
		return nil
	}
	list, err := v.lister.ListInstances(ctx, req.Account, maxListed)
	if err != nil {
		return nil
	}
	pol := v.policy(req.Product)
	var best []Alternative
	reads := 0
	for _, inst := range list[:min(len(list), maxListed)] {
		if inst.ID == exclude || inst.Product != req.Product || v.eligible(inst, req.Account, pol, now) != nil {
			continue
		}
		if reads++; reads > maxUsageReads {
			break
		}
		used, _, err := v.quotas.Usage(ctx, inst.ID, "")
		if err != nil {
			return nil
		}
		if free := pol.SubjectLimit - used; free > 0 {
			best = rank(best, Alternative{Instance: inst.ID, Product: inst.Product, Free: free, ExpiresAt: inst.ExpiresAt})
		}
	}
	return best
}

// rank inserts a into best, kept in order and at most maxAlternatives
// long.
func rank(best []Alternative, a Alternative) []Alternative {
	i := len(best)
	for i > 0 && better(a, best[i-1]) {
		i--
	}
	if i == maxAlternatives {
		return best
	}
	if len(best) < maxAlternatives {
		best = append(best, Alternative{})
	}
	copy(best[i+1:], best[i:])
	best[i] = a
	return best
}

// better reports whether a ranks before b: more free slots, then a later
// expiry (no expiry is latest), then the smaller ID.
func better(a, b Alternative) bool {
	if a.Free != b.Free {
		return a.Free > b.Free
	}
	switch {
	case a.ExpiresAt.Equal(b.ExpiresAt):
		return a.Instance < b.Instance
	case a.ExpiresAt.IsZero():
		return true
	case b.ExpiresAt.IsZero():
		return false
	}
	return a.ExpiresAt.After(b.ExpiresAt)
}
