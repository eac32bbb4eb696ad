package icpverify

import (
	"context"
	"maps"
	"net/netip"
	"strings"
)

// Profile is a provider's rules: the Policy of each product type it files
// and the rules that hold across an account. WithProfile sets one; package
// profile has ready ones for the providers whose rules are published. The
// zero Profile keeps the defaults: DefaultPolicy for every type, no limit
// across accounts, codes granted after issue, slots used for good.
type Profile struct {
	// Policies is the policy of each product type that can be filed; a
	// type not in it cannot be. Nil keeps DefaultPolicy for every type.
	Policies map[ProductType]Policy

	// SubjectsPerAccount is how many subjects one account may file for;
	// AccountsPerSubject is how many accounts one subject may file
	// with. Zero sets no limit. A subject or an account counts while it
	// holds a reservation that is neither released nor deregistered.
	SubjectsPerAccount int
	AccountsPerSubject int

	// FilingsInProgress is how many applications one account may have
	// reserved and not yet filed at once; zero sets no limit.
	FilingsInProgress int

	// FreedOnDeregister gives a filing's slot and places back when the
	// provider deregisters it (Verifier.Deregister). Without it a filed
	// code takes its slot for good, deregistered or not.
	FreedOnDeregister bool

	// AbandonVoidsCode revokes the code of an application that is
	// released or withdrawn before its filing completes. Without it the
	// code can be used again while it is valid.
	AbandonVoidsCode bool

	// Grant is how a code comes to serve another account.
	Grant GrantModel

	// Mainland, if set, tells which of the provider's regions are in the
	// Chinese mainland, replacing the default Mainland as WithMainland
	// does.
	Mainland func(region string) bool

	// MayIssue, if set, is asked before a code is issued by issuer for
	// grantee (issuer itself when it files with its own code) or granted
	// to grantee, for a provider that lets only some accounts issue codes
	// or receive them. False refuses with ReasonGrantNotAllowed; an error
	// is returned as a store's.
	MayIssue func(ctx context.Context, issuer, grantee string) (bool, error)
}

// GrantModel is how a code comes to serve an account other than the one
// that owns its instance.
type GrantModel int

// Grant models.
const (
	// GrantAfterIssue: the owner grants a code after issuing it and may
	// change or withdraw the grant (GrantServiceCode).
	GrantAfterIssue GrantModel = iota
	// GrantAtIssue: the grantee is named when the code is issued
	// (IssueServiceCodeTo) and never changes; GrantServiceCode is
	// refused with ReasonGrantFixed.
	GrantAtIssue
	// GrantBearer: whoever holds the code may use it; no grant is made.
	GrantBearer
)

// WithProfile sets the rules of a provider: its policies replace every
// policy set before, and the rules across accounts are its own. A
// WithPolicy after it adjusts one product type.
func WithProfile(p Profile) Option {
	return func(v *Verifier) {
		if p.Policies != nil {
			v.policies = maps.Clone(p.Policies)
		}
		if p.Mainland != nil {
			v.mainland = p.Mainland
		}
		p.Policies, p.Mainland = nil, nil
		v.profile = p
	}
}

// Quota key prefixes: what a limit counts, and on what.
const (
	keySitesInstance   = "sites/instance:"
	keySitesIP         = "sites/ip:"
	keySitesAccount    = "sites/account:"
	keySitesSubject    = "sites/subject:"
	keySubjectsAccount = "subjects/account:"
	keyAccountsSubject = "accounts/subject:"
	keyFilingsAccount  = "filings/account:"
)

// hasQuotas reports whether pol or p limits anything beyond the subject
// slots of an instance.
func hasQuotas(pol *Policy, p *Profile) bool {
	return pol.WebsitesPerInstance > 0 || pol.WebsitesPerIP > 0 || pol.WebsitesPerAccount > 0 ||
		pol.WebsitesPerSubject > 0 || p.SubjectsPerAccount > 0 || p.AccountsPerSubject > 0 ||
		p.FilingsInProgress > 0
}

// quotasOf returns the quotas the reservation r, of a code of inst, counts
// toward under pol and p, or nil.
func quotasOf(r *Reservation, inst *Instance, pol *Policy, p *Profile) []Quota {
	if !hasQuotas(pol, p) {
		return nil
	}
	qs := make([]Quota, 0, 7)
	counted := func(limit int, key, member string, untilFiled bool) {
		if limit > 0 {
			qs = append(qs, Quota{Key: key, Member: member, Limit: limit, UntilFiled: untilFiled})
		}
	}
	counted(pol.WebsitesPerInstance, keySitesInstance+r.Instance, r.Code, false)
	if pol.WebsitesPerIP > 0 && inst.PublicIP != "" {
		counted(pol.WebsitesPerIP, keySitesIP+canonicalIP(inst.PublicIP), r.Code, false)
	}
	counted(pol.WebsitesPerAccount, keySitesAccount+r.Account, r.Code, false)
	counted(pol.WebsitesPerSubject, keySitesSubject+r.SubjectKey, r.Code, false)
	counted(p.SubjectsPerAccount, keySubjectsAccount+r.Account, r.SubjectKey, false)
	counted(p.AccountsPerSubject, keyAccountsSubject+r.SubjectKey, r.Account, false)
	counted(p.FilingsInProgress, keyFilingsAccount+r.Account, r.Code, true)
	return qs
}

// canonicalIP returns the canonical text of an IP address, so that one
// address spelled two ways ("2001:DB8::1", "2001:db8:0::1", an IPv4
// address mapped into IPv6) keys one quota; any other string as it is.
func canonicalIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return a.Unmap().WithZone("").String()
}

// exceeded returns the refusal of a reservation whose quota q is full.
func exceeded(q Quota, instance string, selected, actual ProductType) *Error {
	kind, _, _ := strings.Cut(q.Key, ":")
	reason := ReasonQuotaReached
	switch kind + ":" {
	case keySitesInstance:
		reason = ReasonInstanceWebsites
	case keySitesIP:
		reason = ReasonIPWebsites
	case keySitesAccount:
		reason = ReasonAccountWebsites
	case keySitesSubject:
		reason = ReasonSubjectWebsites
	case keySubjectsAccount:
		reason = ReasonAccountSubjects
	case keyAccountsSubject:
		reason = ReasonSubjectAccounts
	case keyFilingsAccount:
		reason = ReasonFilingInProgress
	}
	return &Error{Err: ErrQuotaReached, Reason: reason, Instance: instance,
		Selected: selected, Actual: actual, Used: q.Limit, Limit: q.Limit}
}

// oneCall reports whether a Verify under pol may reserve its code in the
// call that reads it (CodeReserver.ReserveServiceCode): only where the
// store's guard states every rule that the reservation needs. Quotas are
// keyed by the code's instance, which that call has not read yet, and a
// bearer's or an owner-only code is used by other rules than the guard's.
func (v *Verifier) oneCall(pol *Policy) bool {
	return !hasQuotas(pol, &v.profile) && v.profile.Grant != GrantBearer && !v.ownerOnly
}

// mayUse reports whether account may use the code sc of inst: under the
// Policy of inst's product type and the Verifier's GrantModel, it owns the
// instance, or the code was granted to it, or the code is a bearer's.
// inst is the zero Instance if the inventory no longer holds it.
func (v *Verifier) mayUse(account string, sc *ServiceCode, inst *Instance) bool {
	switch {
	case account == "":
		return false
	case v.ownerOnly && v.policy(inst.Product).OwnerOnly:
		return account == ownerOf(*sc, *inst)
	case v.profile.Grant == GrantBearer:
		return true
	}
	return entitled(account, *sc, *inst)
}
