package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestClassifyMySQL checks how MySQL and MariaDB errors are classified,
// among them a Galera certification conflict: MariaDB Galera Cluster
// answers a COMMIT whose write set failed certification with error 1213
// (ER_LOCK_DEADLOCK), having rolled the whole transaction back, so that
// it is retried as a deadlock is.
func TestClassifyMySQL(t *testing.T) {
	galera := &mysql.MySQLError{Number: 1213, SQLState: [5]byte{'4', '0', '0', '0', '1'},
		Message: "Deadlock: wsrep aborted transaction"}
	for _, c := range []struct {
		err  error
		want errKind
	}{
		{galera, errTransient},
		{fmt.Errorf("committing: %w", galera), errTransient},
		{errors.New("Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"), errTransient},
		{&mysql.MySQLError{Number: 1205}, errTransient}, // lock wait timeout
		{&mysql.MySQLError{Number: 1020}, errTransient}, // record changed (snapshot isolation)
		{&mysql.MySQLError{Number: 1062}, errUnique},
		{&mysql.MySQLError{Number: 1586}, errUnique},
		{&mysql.MySQLError{Number: 1047}, errOther}, // WSREP has not yet prepared node for application use
		{&mysql.MySQLError{Number: 1146}, errOther},
		{errors.New("invalid connection"), errOther},
		{nil, errOther},
	} {
		if got := MySQL.classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestRetryCertificationConflict checks that an operation that fails with
// a certification conflict, as a COMMIT on Galera does, runs again.
func TestRetryCertificationConflict(t *testing.T) {
	s := &Store{d: MySQL}
	runs := 0
	err := s.retry(context.Background(), func() error {
		runs++
		if runs < 3 {
			return fmt.Errorf("commit: %w", &mysql.MySQLError{Number: 1213, Message: "Deadlock: wsrep aborted transaction"})
		}
		return nil
	})
	if err != nil || runs != 3 {
		t.Errorf("retry = %v after %d runs; want nil after 3", err, runs)
	}
}
