package icpverify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
)

// Expiry warns that the instance behind a service code in use, or under
// review, expires soon or has expired.
type Expiry struct {
	Code     string // the service code, masked
	Instance string // the code's instance
	Subject  string // the subject filed with the code
	// SubjectKey is the key the subject's slot is kept under (see
	// subject.Key): "id:" and the number its certificate keys by, or
	// "name:" and its canonical name.
	SubjectKey string
	Filed      bool      // the filing is complete; otherwise it is under review
	ExpiresAt  time.Time // when the instance expires
	Expired    bool      // the instance has expired, by the Verifier's clock
}

// Expiring lists the account's service codes, in use or under review,
// whose instance expires within the window from now, or has expired, soonest
// first (then by instance and subject), so that a backend can ask the
// applicant to renew before a filing fails. It reads at most 1000 of the
// account's reservations and looks up each instance once. With an observer it
// reports a Decision with OpExpiring and the account.
func (v *Verifier) Expiring(ctx context.Context, account string, within time.Duration) ([]Expiry, error) {
	ctx, start, err := v.begin(ctx, OpExpiring)
	if err != nil {
		return nil, err
	}
	d := Decision{Op: OpExpiring, Account: account}
	list, err := v.expiring(ctx, account, within)
	return list, v.end(ctx, &d, start, err)
}

// expiring lists the account's codes whose instance expires within the
// window.
func (v *Verifier) expiring(ctx context.Context, account string, within time.Duration) ([]Expiry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e := checkField("account", account); e != nil {
		return nil, e
	}
	rs, err := v.quotas.ListReservations(ctx, account, maxListed)
	if err != nil {
		return nil, fmt.Errorf("icpverify: listing reservations: %w", err)
	}
	now := v.now()
	deadline := now.Add(within)
	instances := make(map[string]Instance)
	var out []Expiry
	for _, r := range rs[:min(len(rs), maxListed)] {
		if r.Account != account {
			continue
		}
		inst, seen := instances[r.Instance]
		if !seen {
			inst, err = v.instances.Instance(ctx, r.Instance)
			switch {
			case errors.Is(err, ErrNotFound):
				continue // released and forgotten: nothing to renew
			case err != nil:
				return nil, fmt.Errorf("icpverify: looking up instance: %w", err)
			}
			instances[r.Instance] = inst
		}
		if inst.ExpiresAt.IsZero() || inst.ExpiresAt.After(deadline) {
			continue
		}
		out = append(out, Expiry{Code: codeformat.Mask(v.format, r.Code), Instance: r.Instance, Subject: r.Subject,
			SubjectKey: r.SubjectKey, Filed: r.Filed, ExpiresAt: inst.ExpiresAt, Expired: expired(inst, now)})
	}
	slices.SortFunc(out, func(a, b Expiry) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Instance, b.Instance); c != 0 {
			return c
		}
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out, nil
}
