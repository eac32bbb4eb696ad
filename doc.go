// Package icpverify verifies the cloud product behind an ICP filing
// application, as a hosting provider's filing system must before it accepts
// the filing.
//
// A Verifier checks that the product type the applicant selected can be
// filed and matches the product they bought, that the ICP filing service
// code is valid (well formed, issued or granted to the applicant, its
// instance neither expired nor released, not used by another subject), and
// that the product's quota of filing subjects is not used up. Each failure is
// an *Error wrapping one of three sentinels, named after the prompts of the
// provider's FAQ:
//
//   - ErrInvalidProduct: "Invalid product information";
//   - ErrServiceCodeInvalid: "Product information verification failed.
//     Interface exception";
//   - ErrQuotaReached: "The ICP Filing subject quantity limit has been
//     reached".
//
// Localize renders any of them for the applicant in English, Simplified
// Chinese or Traditional Chinese, with the FAQ's advice; MatchLanguage picks
// the language from an Accept-Language header.
//
// The Verifier reads instances and service codes from an InstanceStore, the
// provider's inventory, and keeps reservations in a QuotaStore, where the
// quota holds atomically. MemoryStore implements both for one process; a
// backend that runs several replicas plugs in a store they share, such as
// the SQL stores of the module github.com/icpfiling/icpverify/sqlstore. The
// package storetest checks that a store keeps the contract.
//
// For a filing backend in production, WithObserver keeps an audit trail of
// every decision (SlogObserver logs it), a quota or expiry refusal offers
// the applicant's other instances that would pass (Error.Alternatives),
// Expiring warns of instances about to expire, and NewProblem turns any
// error into an RFC 9457 problem details response.
package icpverify
