package sqlstore_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/icpfiling/icpverify"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, icpverify.ErrNotFound) }

// nameKey returns the subject key the Verifier gives a subject named name,
// without a SubjectID.
func nameKey(t testing.TB, name string) string {
	t.Helper()
	key, ok := icpverify.SubjectKey(name, icpverify.SubjectID{})
	if !ok {
		t.Fatalf("icpverify.SubjectKey(%q) yields no key", name)
	}
	return key
}

// errgroup runs functions in goroutines and keeps the first error.
type errgroup struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

func (g *errgroup) Go(f func() error) {
	g.wg.Go(func() {
		if err := f(); err != nil {
			g.mu.Lock()
			if g.first == nil {
				g.first = err
			}
			g.mu.Unlock()
		}
	})
}

func (g *errgroup) Wait() error {
	g.wg.Wait()
	return g.first
}
