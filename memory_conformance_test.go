package icpverify_test

import (
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/storetest"
)

var _ storetest.Store = (icpverify.MemoryStore)(nil)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store {
		return icpverify.NewMemoryStore()
	})
}

func BenchmarkMemoryStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) storetest.Store {
		return icpverify.NewMemoryStore()
	})
}
