package sqlstore

import "context"

// Querier is the statement runner a test hook gets: the transaction.
type Querier = querier

// SetTestHook makes h run at named points inside the store's transactions,
// such as "reserve:before-commit", until the returned function is called.
// An error h returns fails the transaction.
func SetTestHook(h func(ctx context.Context, point string, q Querier) error) (restore func()) {
	f := hookFunc(h)
	testHook.Store(&f)
	return func() { testHook.Store(nil) }
}
