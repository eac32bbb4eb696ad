package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"

	"github.com/icpfiling/icpverify/sqlstore"
)

var migrateCmd = &command{
	name:     "migrate",
	synopsis: "[flags]",
	help: `Migrate creates the store's tables, or upgrades them to the newest schema
version, and prints the schema version before and after. It is idempotent
and safe to run from several processes at once.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 0 {
				return usageError(e, "migrate", "unexpected arguments %q", args)
			}
			s, closeFn, status := openStore(ctx, e, "migrate", db)
			if s == nil {
				return status
			}
			defer closeFn()
			before, err := schemaVersion(ctx, s, db.prefix)
			if err != nil {
				return failure(e, "migrate", err)
			}
			fmt.Fprintf(e.stdout, "schema version before: %d\n", before)
			if err := s.Migrate(ctx); err != nil {
				return failure(e, "migrate", err)
			}
			after, err := schemaVersion(ctx, s, db.prefix)
			if err != nil {
				return failure(e, "migrate", err)
			}
			fmt.Fprintf(e.stdout, "schema version after:  %d\n", after)
			return 0
		}
	},
}

// schemaVersion reads the schema version recorded in the store's database:
// 0 if it has no tables yet.
func schemaVersion(ctx context.Context, s *sqlstore.Store, prefix string) (int, error) {
	table := prefix + "schema_version" // the prefix is checked by sqlstore.New
	var exists bool
	var err error
	switch s.Dialect() {
	case sqlstore.Postgres:
		err = s.DB().QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists)
	case sqlstore.MySQL:
		err = s.DB().QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_name = ?`, table).Scan(&exists)
	default:
		err = s.DB().QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&exists)
	}
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := s.DB().QueryRowContext(ctx, `SELECT MAX(version) FROM `+table).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return int(v.Int64), nil
}
