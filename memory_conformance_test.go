package icpverify_test

import (
	"context"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/storetest"
)

// memoryStore adapts a MemoryStore to storetest.Store: its PutInstance takes
// no context. Embedding keeps ListInstances and ListReservations, so the
// suite tests them too.
type memoryStore struct{ *icpverify.MemoryStore }

func (m memoryStore) PutInstance(_ context.Context, inst icpverify.Instance) error {
	return m.MemoryStore.PutInstance(inst)
}

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store {
		return memoryStore{icpverify.NewMemoryStore()}
	})
}

func BenchmarkMemoryStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) storetest.Store {
		return memoryStore{icpverify.NewMemoryStore()}
	})
}
