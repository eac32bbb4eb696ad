package sqlstore

import (
	"context"
	"fmt"
)

// MigrateTo is Migrate up to schema version v only, so that a test can
// make a database of an older version and write rows into it as that
// version did.
func (s *Store) MigrateTo(ctx context.Context, v int) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if v < 1 || v > len(ms) {
		return fmt.Errorf("sqlstore: MigrateTo %d: want 1 to %d", v, len(ms))
	}
	return s.migrate(ctx, ms[:v])
}
