package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/icpfiling/icpverify"
)

var expiringCmd = &command{
	name:     "expiring",
	synopsis: "--account ACCOUNT [--within 30d] [--json]",
	help: `Expiring lists the account's service codes, in use or under review, whose
instance expires within the window from now, or has expired, soonest first.
Codes are masked. The window is whole days (30d) or a Go duration (720h,
90m), at most 36500d.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		asJSON := fs.Bool("json", false, "print JSON")
		account := fs.String("account", "", "the `account` whose codes to list (required)")
		within := window(30 * 24 * time.Hour)
		fs.Var(&within, "within", "the `window` from now: whole days (30d) or a duration (720h)")
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 0 {
				return usageError(e, "expiring", "unexpected arguments %q", args)
			}
			if *account == "" {
				return usageError(e, "expiring", "--account is required")
			}
			s, closeFn, status := openMigrated(ctx, e, "expiring", db)
			if s == nil {
				return status
			}
			defer closeFn()
			list, err := icpverify.New(s, s).Expiring(ctx, *account, time.Duration(within))
			if err != nil {
				return failure(e, "expiring", err)
			}
			if *asJSON {
				type expiryJSON struct {
					Code        string `json:"code"`
					Instance    string `json:"instance"`
					Subject     string `json:"subject"`
					Certificate string `json:"certificate,omitempty"`
					Filed       bool   `json:"filed"`
					ExpiresAt   string `json:"expires_at"`
					Expired     bool   `json:"expired"`
				}
				out := make([]expiryJSON, 0, len(list))
				for _, x := range list {
					out = append(out, expiryJSON{x.Code, x.Instance, x.Subject, certificate(x.SubjectKey), x.Filed, timeText(x.ExpiresAt), x.Expired})
				}
				return writeJSON(e, "expiring", out)
			}
			w := table(e.stdout)
			fmt.Fprintln(w, "EXPIRES\tEXPIRED\tINSTANCE\tCODE\tFILED\tSUBJECT\tCERTIFICATE")
			for _, x := range list {
				fmt.Fprintf(w, "%s\t%v\t%s\t%s\t%v\t%s\t%s\n", timeText(x.ExpiresAt), x.Expired, x.Instance, x.Code, x.Filed, x.Subject,
					dash(certificate(x.SubjectKey)))
			}
			return flush(e, "expiring", w)
		}
	},
}
