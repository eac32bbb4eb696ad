package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
)

var revokeCmd = &command{
	name:     "revoke",
	synopsis: "[flags] CODE",
	help: `Revoke invalidates a service code for good: it can no longer be verified,
granted or completed. Its unfiled reservation, if any, is released; a filed
one stays.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "revoke", "want one service code, got %d arguments", len(args))
			}
			s, closeFn, status := openMigrated(ctx, e, "revoke", db)
			if s == nil {
				return status
			}
			defer closeFn()
			if err := icpverify.New(s, s).RevokeServiceCode(ctx, args[0]); err != nil {
				return failure(e, "revoke", err)
			}
			fmt.Fprintf(e.stdout, "revoked %s\n", codeformat.Mask(nil, args[0]))
			return 0
		}
	},
}
