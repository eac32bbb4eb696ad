// Package icphttp serves product verification of package icpverify over
// HTTP, so that the root package needs neither net/http nor encoding/json.
//
// NewProblem and CatalogProblem turn any error of a Verifier into RFC 9457
// problem details: a status that fits it, the stable Reason in the type
// URI, and a title and detail for the applicant in one language, which
// Problem.ServeHTTP writes as application/problem+json:
//
//	tag := icpverify.MatchLanguage(r.Header.Get("Accept-Language"))
//	icphttp.NewProblem(err, tag).ServeHTTP(w, r)
//
// NewHandler serves the applicant's operations, verify, check and
// withdraw (POST /verify, /check and /withdraw), with strict JSON input
// and the account that the backend's Authenticator returns, never one from
// the request body. The provider's own operations (Release, Complete,
// RevokeServiceCode) and the instance owner's (IssueServiceCode,
// GrantServiceCode) are not served here: they belong to the provider's
// filing workflow and to the owner's console, and must never be open to
// applicants. An applicant who gives up an application withdraws it
// through /withdraw, naming it by the identity that /verify answered
// (icpverify.Result.Application).
package icphttp
