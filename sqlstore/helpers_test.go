package sqlstore_test

import (
	"errors"
	"sync"

	"github.com/icpfiling/icpverify"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, icpverify.ErrNotFound) }

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
