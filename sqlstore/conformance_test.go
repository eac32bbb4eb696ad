package sqlstore_test

import (
	"testing"

	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/storetest"
)

// TestConformance runs the storetest suite on each dialect, each subtest on
// a fresh, empty database namespace.
func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		storetest.Run(t, func(t *testing.T) storetest.Store {
			return newDatabase(t, d).store(t)
		})
	})
}
