package sqlstore_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// The COMMIT of TestCommitPastDeadline is delayed commitDelay, past the
// call's deadline, callDeadline; the call must return by the deadline plus
// deadlineMargin.
const (
	commitDelay    = 2 * time.Second
	callDeadline   = 200 * time.Millisecond
	deadlineMargin = time.Second
)

// delayedCommit is a commit hook that delays a COMMIT by commitDelay:
// before sending it if sendFirst is false, or after (the answer is late).
// It closes done when it returns, after setting err to the COMMIT's answer.
type delayedCommit struct {
	sendFirst bool
	reached   chan struct{}
	done      chan struct{}
	err       error
}

// newDelayedCommit returns a delayedCommit that sends first if sendFirst.
func newDelayedCommit(sendFirst bool) *delayedCommit {
	return &delayedCommit{sendFirst: sendFirst, reached: make(chan struct{}), done: make(chan struct{})}
}

// hook is the commitHook.
func (dc *delayedCommit) hook(c *faultConn, commit func() error) error {
	defer close(dc.done)
	close(dc.reached)
	if dc.sendFirst {
		dc.err = commit()
		time.Sleep(commitDelay)
	} else {
		time.Sleep(commitDelay)
		dc.err = commit()
	}
	return dc.err
}

// wait waits for the delayed COMMIT to be answered and returns its answer.
func (dc *delayedCommit) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-dc.done:
		return dc.err
	case <-time.After(30 * time.Second):
		t.Fatal("the delayed COMMIT did not end")
		return nil
	}
}

// callPastDeadline runs call with a context whose deadline is
// callDeadline away, while the next commit is delayed by dc (set installs
// dc's hook: onNextCommit, or onReservationCommit, which delays the
// statement that reserves in autocommit), and checks that it returns the
// deadline's error by the deadline plus deadlineMargin.
func callPastDeadline(t *testing.T, f *faultFixture, dc *delayedCommit, set func(commitHook), call func(ctx context.Context) error) {
	t.Helper()
	set(dc.hook)
	ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
	defer cancel()
	begun := time.Now()
	err := call(ctx)
	took := time.Since(begun)
	select {
	case <-dc.reached:
	default:
		set(nil)
		t.Fatalf("the call did not reach its COMMIT before its deadline (it returned %v after %v)", err, took)
	}
	if took > callDeadline+deadlineMargin {
		t.Errorf("the call returned %v after it began, past its deadline (%v) and a margin of %v", took, callDeadline, deadlineMargin)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the call returned %v; want an error wrapping context.DeadlineExceeded", err)
	}
}

// TestCommitPastDeadline delays a COMMIT past its call's deadline, as a
// server that answers late or a COMMIT that leaves late would. Drivers do
// not watch the context during COMMIT, yet the call must return by its
// deadline with the context's error; its retry then finds what the COMMIT
// did. The store's goroutine that waits for the COMMIT must end with it.
func TestCommitPastDeadline(t *testing.T) {
	t.Cleanup(func() { checkNoStoreGoroutine(t) })
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			skipUnlessAvailable(t, d)
			t.Parallel()
			t.Run("Reserve/AnswerLate", func(t *testing.T) { testReservePastDeadline(t, d, true) })
			t.Run("Reserve/SentLate", func(t *testing.T) { testReservePastDeadline(t, d, false) })
			t.Run("Release/AnswerLate", func(t *testing.T) { testReleasePastDeadline(t, d) })
		})
	}
}

// testReservePastDeadline reserves a code while its COMMIT is delayed,
// sent first (the answer is late) if sendFirst, and retries it.
func testReservePastDeadline(t *testing.T, d sqlstore.Dialect, sendFirst bool) {
	f := newFaultFixture(t, d)
	code, _ := codeformat.Normalize(f.req.ServiceCode)
	r := icpverify.Reservation{Code: code, Instance: f.inst, Account: f.req.Account, Subject: f.req.Subject,
		SubjectKey: keyOf(t, f.req), Application: newApp()}
	dc := newDelayedCommit(sendFirst)
	callPastDeadline(t, f, dc, f.onReservationCommit, func(ctx context.Context) error {
		out, used, err := f.s.Reserve(ctx, r, 10)
		if err == nil {
			t.Logf("Reserve past its deadline: %v, %d used", out, used)
		}
		return err
	})

	// The retry waits for the locks the delayed COMMIT holds, if any.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, used, err := f.s.Reserve(ctx, r, 10)
	commitErr := dc.wait(t)
	if sendFirst && commitErr != nil {
		t.Fatalf("the delayed COMMIT failed: %v", commitErr)
	}
	want := icpverify.Held // the delayed COMMIT stored the reservation
	if commitErr != nil {
		want = icpverify.Reserved // it did not: the retry stores it
		t.Logf("the COMMIT sent after the deadline failed: %v", commitErr)
	}
	if err != nil || out != want || used != 2 {
		t.Errorf("Reserve retried = %v, %d, %v; want %v, 2", out, used, err, want)
	}
	checkRows(t, f.s.DB(), 2, 2)
}

// testReleasePastDeadline releases a reservation while the answer to its
// COMMIT is late, and retries it.
func testReleasePastDeadline(t *testing.T, d sqlstore.Dialect) {
	f := newFaultFixture(t, d)
	if _, err := f.v.Verify(context.Background(), f.req); err != nil {
		t.Fatal(err)
	}
	code, _ := codeformat.Normalize(f.req.ServiceCode)
	r, err := f.s.Reservation(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	dc := newDelayedCommit(true)
	callPastDeadline(t, f, dc, f.faults.onNextCommit, func(ctx context.Context) error {
		_, err := f.s.Release(ctx, r)
		return err
	})
	if err := dc.wait(t); err != nil {
		t.Fatalf("the delayed COMMIT failed: %v", err)
	}
	// The COMMIT released it: the retry finds no reservation.
	if got, err := f.s.Release(context.Background(), r); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("Release retried = %+v, %v; want ErrNotFound", got, err)
	}
	if used, held, err := f.s.Usage(context.Background(), f.inst, r.SubjectKey); err != nil || used != 1 || held {
		t.Errorf("Usage after the release = %d, %v, %v; want 1 (the other subject), not held", used, held, err)
	}
}

// checkNoStoreGoroutine checks that no goroutine is left running code of
// package sqlstore, waiting a little for those that are ending.
func checkNoStoreGoroutine(t *testing.T) {
	t.Helper()
	const pkg = "github.com/icpfiling/icpverify/sqlstore."
	var left string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = ""
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, pkg) {
				left = g
				break
			}
		}
		if left == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("a goroutine of the store is still running:\n%s", left)
}

// TestReadWhileAnotherPrepares delays the PREPARE of a read's statement,
// on its first use, past the deadline of a second call of the same read:
// the second call must not wait for the first's PREPARE.
func TestReadWhileAnotherPrepares(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db := newDatabase(t, d)
		pool, faults := db.openFaults(t)
		s := db.storeOn(t, pool)
		inst := eligible("i-prepare", "acct")
		if err := s.PutInstanceContext(context.Background(), inst); err != nil {
			t.Fatal(err)
		}
		reached, release := make(chan struct{}), make(chan struct{})
		faults.onNextPrepare(func(string) {
			close(reached)
			select {
			case <-release:
			case <-time.After(commitDelay):
			}
		})
		first := make(chan error, 1)
		go func() {
			_, err := s.Instance(context.Background(), inst.ID)
			first <- err
		}()
		select {
		case <-reached:
		case <-time.After(30 * time.Second):
			t.Fatal("the first read did not prepare its statement")
		}
		ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
		defer cancel()
		begun := time.Now()
		_, err := s.Instance(ctx, inst.ID)
		took := time.Since(begun)
		close(release)
		if took > callDeadline+deadlineMargin {
			t.Errorf("the second read returned %v after it began, past its deadline (%v) and a margin of %v", took, callDeadline, deadlineMargin)
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the second read returned %v; want no error, or one wrapping context.DeadlineExceeded", err)
		}
		if err := <-first; err != nil {
			t.Errorf("the first read: %v", err)
		}
	})
}
