package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/icpfiling/icpverify"
)

var codesCmd = &command{
	name:     "codes",
	synopsis: "[--json] INSTANCE --account ACCOUNT",
	help: `Codes lists the service codes an instance issued, with their states, as
its owner's console shows them. ACCOUNT must own the instance: if another
account does, or the inventory has no such instance, codes says so.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		asJSON := fs.Bool("json", false, "print JSON")
		account := fs.String("account", "", "the `account` that owns the instance (required)")
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "codes", "want one instance ID, got %d arguments", len(args))
			}
			if *account == "" {
				return usageError(e, "codes", "--account is required")
			}
			s, closeFn, status := openMigrated(ctx, e, "codes", db)
			if s == nil {
				return status
			}
			defer closeFn()
			// The Verifier answers a stranger as it answers an applicant,
			// without telling whether the instance exists; the operator
			// is told.
			inst, err := s.Instance(ctx, args[0])
			switch {
			case errors.Is(err, icpverify.ErrNotFound):
				return failure(e, "codes", fmt.Errorf("%s: no such instance in the inventory", show(args[0])))
			case err != nil:
				return failure(e, "codes", err)
			case inst.Account != *account:
				return failure(e, "codes", fmt.Errorf("%s is owned by another account, %s, not %s", show(args[0]), show(inst.Account), show(*account)))
			}
			list, err := icpverify.New(s, s).ServiceCodes(ctx, args[0], *account)
			if err != nil {
				return failure(e, "codes", err)
			}
			if *asJSON {
				out := make([]codeStatusJSON, 0, len(list))
				for _, st := range list {
					out = append(out, codeJSON(st))
				}
				return writeJSON(e, "codes", out)
			}
			w := table(e.stdout)
			fmt.Fprintln(w, "CODE\tSTATE\tINVALID\tISSUED\tEXPIRES\tGRANTEE\tAPPLICANT\tSUBJECT\tCERTIFICATE\tFILED")
			for _, st := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\n", st.Code, st.State, dash(string(st.Invalid)),
					dash(timeText(st.IssuedAt)), dash(timeText(st.ExpiresAt)), dash(st.Grantee),
					dash(st.Applicant), dash(st.Subject), dash(certificate(st.SubjectKey)), st.Filed)
			}
			return flush(e, "codes", w)
		}
	},
}

// dash is s, or "-" if it is empty, for a table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
