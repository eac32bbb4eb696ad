// Package icpverify verifies the cloud product behind an ICP filing
// application, as a hosting provider's filing system must before it accepts
// the filing.
//
// A Verifier checks that the product type the applicant selected can be
// filed and matches the product they bought, that the ICP filing service
// code is valid (well formed, the applicant's or granted to them, not
// revoked, its instance neither expired nor released, not used by another
// application), and that the product's quota of filing subjects is not used
// up. Each failure is an *Error wrapping one of three sentinels, named after
// the prompts of the provider's FAQ:
//
//   - ErrInvalidProduct: "Invalid product information";
//   - ErrServiceCodeInvalid: "Product information verification failed.
//     Interface exception";
//   - ErrQuotaReached: "The ICP Filing subject quantity limit has been
//     reached".
//
// Localize renders any of them for the applicant in English, Simplified
// Chinese or Traditional Chinese, with the FAQ's advice; MatchLanguage picks
// the language from an Accept-Language header. The package catalog words
// them with messages of the caller's, or in more languages.
//
// Verify reserves the subject's slot on the product and binds the code to
// one application: an account filing one website for one subject, named
// from then on by Result.Application. The applicant withdraws it with
// Withdraw; Release and Complete are the provider's rejection and approval,
// and act only on the application they name, so a provider may retry them
// safely. RevokeServiceCode and ReconcileInstance, which the provider calls
// after its inventory changed an instance, release what the rules no
// longer allow, even against a Verify racing with them. A stranger to a
// code learns nothing of it: it is refused as a code that does not exist.
//
// IssueServiceCode makes a service code of the Verifier's format, which
// also reads the codes applicants type. The package codeformat holds the
// formats: its Default, 16 symbols with a check symbol, and Inventory, for
// the codes a provider already has (see WithCodeFormat); its Mask hides a
// code from logs as the Verifier's Decisions do.
//
// A subject takes one slot however it is typed: it is known by its
// certificate (Request.SubjectID), which DefaultPolicy requires, by its
// number whatever type was declared; under a policy without
// RequireSubjectID, a request without one is known by its name, ignoring
// case, width, spacing and default-ignorable characters. The package
// subject holds the certificates, which its Normalize checks offline, and
// the keys that subjects' slots are kept under (subject.Key).
//
// The rules are a provider's: by default Alibaba Cloud's, which
// DefaultPolicy gives per product type. WithProfile sets another
// provider's (a Profile), which may count websites per instance, public
// IP, account or subject, limit the subjects of an account, the accounts
// of a subject and the filings in progress, give a deregistered filing's
// slot back (Deregister), and name a code's grantee at issue
// (IssueServiceCodeTo) or let whoever holds it use it. The package profile
// has the published rules of Alibaba, Tencent, Huawei, JD, Baidu and
// QingCloud.
//
// The Verifier reads instances and service codes from an InstanceStore, the
// provider's inventory, and keeps reservations in a QuotaStore, where the
// quota holds atomically. MemoryStore implements both for one process; a
// backend that runs several replicas plugs in a store they share, such as
// the SQL stores of the module github.com/icpfiling/icpverify/sqlstore. The
// package storetest checks that a store keeps the contract, and the package
// icphttp serves the applicant's operations over HTTP with RFC 9457
// problem details.
//
// For a filing backend in production, WithObserver keeps an audit trail of
// every decision (SlogObserver logs it; the module
// github.com/icpfiling/icpverify/icpotel traces and measures the
// operations with OpenTelemetry), a quota or expiry refusal offers
// the applicant's other instances that would pass (Error.Alternatives), and
// Expiring warns of instances about to expire.
//
// The package starts no goroutine and does no work when it is imported: the
// built-in messages are built on first use.
package icpverify
