//go:build linux

package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// restartEnv gates TestRestart, which starts private PostgreSQL and
// MariaDB servers (server_test.go) and crashes them.
const restartEnv = "ICPVERIFY_RESTART"

// The load of TestRestart: 64 clients verify the codes of 1,000 instances
// of ECS, whose policy allows 5 subjects each; each instance has 8 codes
// for 7 subjects (code j is subject j%7's), so that two codes share a
// subject's slot and two subjects find the instance full.
const (
	restartClients   = 64
	restartInstances = 1000
	restartCodesPer  = 8
	restartSubjects  = 7
	restartLimit     = 5 // icpverify.DefaultPolicy(ProductECS).SubjectLimit
	restartDeadline  = 2 * time.Second
	restartPause     = 20 * time.Millisecond // between the attempts of a request
	recoveryBound    = 60 * time.Second      // the verifiers must recover within it
)

// TestRestart runs 64 verifiers on a private server of each dialect and,
// under their load, terminates the store's sessions from another one, then
// crashes the server and starts it again (PostgreSQL's immediate shutdown,
// MariaDB's kill -9), with the same Verifier and pool throughout. A
// request whose Verify fails with a store error is verified again by the
// same client until it is settled: a success or a refusal. Afterwards the
// rows must hold the quota (no instance over its limit, every count
// agreeing with the rows it counts), every success must have its
// reservation and every reservation must be a success's. It logs the errors
// the clients saw, grouped by message, and how long the verifiers took to
// recover. It runs with ICPVERIFY_RESTART=1.
func TestRestart(t *testing.T) {
	if os.Getenv(restartEnv) != "1" {
		t.Skip(restartEnv + "=1 not set: this test starts private PostgreSQL and MariaDB servers (initdb, postgres, pg_ctl; mariadbd, mariadb-install-db) and crashes them")
	}
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			begun := time.Now()
			var srv *privateServer
			if d == sqlstore.Postgres {
				srv = startPostgres(t)
			} else {
				srv = startMariaDB(t)
			}
			runRestart(t, srv)
			t.Logf("%v: the whole subtest took %v", d, time.Since(begun).Round(time.Millisecond))
		})
	}
}

// runRestart runs the load and the faults on srv, then checks the rows.
func runRestart(t *testing.T, srv *privateServer) {
	pool := openDB(t, driverName(srv.d), srv.storeDSN)
	s, err := sqlstore.New(pool, srv.d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := loadRestartInventory(t, s)
	l := newVerifyLoad(icpverify.New(s, s), reqs)
	l.start()
	defer l.abort() // if the faults fail t: do not wait for requests to settle
	figures := injectFaults(t, srv, l)
	l.halt()
	l.report(t, srv.d, figures)
	if l.unsettled > 0 {
		t.Errorf("%d requests were still failing when the load ended", l.unsettled)
	}
	checkRestartRows(t, s, l)
}

// loadRestartInventory stores the instances and codes of the load and
// returns its requests, the codes of one instance after another.
func loadRestartInventory(t *testing.T, s *sqlstore.Store) []icpverify.Request {
	t.Helper()
	insts := make([]icpverify.Instance, restartInstances)
	for i := range insts {
		insts[i] = eligible(fmt.Sprintf("i-rst-%04d", i), fmt.Sprintf("acct-rst-%04d", i))
	}
	if err := s.PutInstances(context.Background(), insts); err != nil {
		t.Fatal(err)
	}
	f := codeformat.Default()
	rng := rand.NewChaCha8([32]byte{7})
	var reqs []icpverify.Request
	for i, inst := range insts {
		for j := range restartCodesPer {
			code, err := f.New(rng)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
				Account: inst.Account, Subject: fmt.Sprintf("Restart Subject %d-%d", i, j%restartSubjects), SubjectID: certOf(fmt.Sprintf("Restart Subject %d-%d", i, j%restartSubjects))})
		}
	}
	insertCodes(t, s, reqs)
	return reqs
}

// insertCodes stores the codes of reqs, owned by their accounts, on the
// instances of the accounts, with multi-row INSERTs.
func insertCodes(t *testing.T, s *sqlstore.Store, reqs []icpverify.Request) {
	t.Helper()
	const rows = 1000
	for b := 0; b < len(reqs); b += rows {
		var q strings.Builder
		q.WriteString("INSERT INTO " + sqlstore.DefaultPrefix + "service_codes (code, instance, owner, grantee, revoked, issued_at) VALUES ")
		var args []any
		for i, r := range reqs[b:min(b+rows, len(reqs))] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(placeholders(s.Dialect(), len(args), 5))
			instance := "i-rst-" + strings.TrimPrefix(r.Account, "acct-rst-")
			args = append(args, r.ServiceCode, instance, r.Account, "", false)
		}
		if _, err := s.DB().ExecContext(context.Background(), q.String(), args...); err != nil {
			t.Fatalf("storing codes: %v", err)
		}
	}
}

// faultFigures are the times of the faults and of the recoveries.
type faultFigures struct {
	terminated     int           // sessions ended
	afterTerminate time.Duration // from ending them to the next success
	downFor        time.Duration // from the crash to the server accepting again
	recovery       time.Duration // from the server accepting again to the next success
	crashToSuccess time.Duration // from the crash to the next success
}

// injectFaults lets the load run, terminates the store's sessions, waits
// for the verifiers to succeed again, crashes the server and starts it
// again, and waits for them to recover.
func injectFaults(t *testing.T, srv *privateServer, l *verifyLoad) faultFigures {
	t.Helper()
	var f faultFigures
	l.waitSuccesses(t, 100, 500*time.Millisecond)

	l.setPhase("sessions terminated")
	killedAt := time.Now()
	n, err := srv.terminateStoreSessions(context.Background())
	if err != nil {
		t.Fatalf("terminating the store's sessions: %v", err)
	}
	f.terminated = n
	f.afterTerminate = l.waitSuccesses(t, 100, 500*time.Millisecond).Sub(killedAt)

	l.setPhase("server restart")
	crashedAt := time.Now()
	srv.crash(t)
	time.Sleep(200 * time.Millisecond) // the clients meet a server that is down
	srv.start(t)
	readyAt := time.Now()
	l.mark(readyAt)
	first := l.waitSuccesses(t, 1, 0)
	f.downFor, f.recovery, f.crashToSuccess = readyAt.Sub(crashedAt), first.Sub(readyAt), first.Sub(crashedAt)

	l.setPhase("after recovery")
	l.waitSuccesses(t, 200, 500*time.Millisecond)
	return f
}

// restartSuccess is a Verify that succeeded.
type restartSuccess struct {
	req      icpverify.Request
	res      icpverify.Result
	failures int // failed attempts of the request before it
}

// restartRefusal is a Verify that was refused.
type restartRefusal struct {
	req icpverify.Request
	err *icpverify.Error
}

// verifyLoad is the load of TestRestart: restartClients goroutines that
// take the next request, wrapping around at the end, and verify it until
// it is settled, recording what they saw.
type verifyLoad struct {
	v      *icpverify.Verifier
	reqs   []icpverify.Request
	next   atomic.Int64
	ctx    context.Context // ends the attempts of requests that never settle
	cancel context.CancelFunc
	stop   atomic.Bool // no new requests
	wg     sync.WaitGroup
	halted sync.Once

	mu         sync.Mutex
	phase      string
	phases     []string                  // in order
	errs       map[string]map[string]int // by phase, by grouped message
	ok         map[string]restartSuccess // by canonical code
	refused    map[string]restartRefusal // by canonical code
	again      int                       // successes of requests that had succeeded before
	unsettled  int
	markAt     time.Time // successes are counted from here on
	sinceMark  int
	firstAfter time.Time // the first success since markAt
}

// newVerifyLoad returns the load of v over reqs, not started.
func newVerifyLoad(v *icpverify.Verifier, reqs []icpverify.Request) *verifyLoad {
	l := &verifyLoad{v: v, reqs: reqs, errs: map[string]map[string]int{},
		ok: map[string]restartSuccess{}, refused: map[string]restartRefusal{}}
	l.ctx, l.cancel = context.WithTimeout(context.Background(), 3*recoveryBound)
	l.setPhase("before the faults")
	return l
}

// start starts the clients.
func (l *verifyLoad) start() {
	for range restartClients {
		l.wg.Go(func() {
			for !l.stop.Load() && l.ctx.Err() == nil {
				i := int(l.next.Add(1)-1) % len(l.reqs)
				l.settle(l.reqs[i])
			}
		})
	}
}

// halt stops the clients once their requests are settled, or the load's
// context ends, and waits for them.
func (l *verifyLoad) halt() {
	l.halted.Do(func() {
		l.stop.Store(true)
		l.wg.Wait()
		l.cancel()
	})
}

// abort ends the attempts of the requests not yet settled, counting them
// as unsettled, and halts the clients.
func (l *verifyLoad) abort() {
	l.cancel()
	l.halt()
}

// settle verifies req until it succeeds or is refused, pausing between
// attempts, and records the outcome and the errors of failed attempts.
func (l *verifyLoad) settle(req icpverify.Request) {
	for failures := 0; ; failures++ {
		ctx, cancel := context.WithTimeout(l.ctx, restartDeadline)
		res, err := l.v.Verify(ctx, req)
		cancel()
		var refusal *icpverify.Error
		switch {
		case err == nil:
			l.succeeded(restartSuccess{req: req, res: res, failures: failures})
			return
		case errors.As(err, &refusal):
			code, _ := codeformat.Normalize(req.ServiceCode)
			l.record(func() { l.refused[code] = restartRefusal{req: req, err: refusal} })
			return
		}
		l.record(func() { l.errs[l.phase][groupedError(err)]++ })
		select {
		case <-l.ctx.Done():
			l.record(func() { l.unsettled++ })
			return
		case <-time.After(restartPause):
		}
	}
}

// record runs f with l's lock held.
func (l *verifyLoad) record(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// succeeded records a success, and counts it since the mark.
func (l *verifyLoad) succeeded(s restartSuccess) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.ok[s.res.ServiceCode]; ok {
		l.again++ // a request taken again after the last: keep its first success
	} else {
		l.ok[s.res.ServiceCode] = s
	}
	if now.After(l.markAt) {
		if l.sinceMark == 0 {
			l.firstAfter = now
		}
		l.sinceMark++
	}
}

// setPhase names the errors seen from now on, and marks now.
func (l *verifyLoad) setPhase(name string) {
	l.mu.Lock()
	l.phase = name
	l.phases = append(l.phases, name)
	l.errs[name] = map[string]int{}
	l.mu.Unlock()
	l.mark(time.Now())
}

// mark counts successes from at on.
func (l *verifyLoad) mark(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.markAt, l.sinceMark, l.firstAfter = at, 0, time.Time{}
}

// waitSuccesses waits until n Verify calls have succeeded since the mark
// and at least least has passed, and returns when the first of them
// returned. It fails t if they do not within recoveryBound.
func (l *verifyLoad) waitSuccesses(t *testing.T, n int, least time.Duration) time.Time {
	t.Helper()
	l.mu.Lock()
	from := l.markAt
	l.mu.Unlock()
	for {
		l.mu.Lock()
		got, first, phase := l.sinceMark, l.firstAfter, l.phase
		l.mu.Unlock()
		if got >= n && time.Since(from) >= least {
			return first
		}
		if time.Since(from) > recoveryBound {
			t.Fatalf("phase %q: %d Verify calls succeeded in %v, want %d: the verifiers do not recover; errors: %v",
				phase, got, recoveryBound, n, l.errorsOf(phase))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// errorsOf returns the grouped errors of phase.
func (l *verifyLoad) errorsOf(phase string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.errs[phase])
}

// volatileParts are the parts of error messages that differ between
// occurrences of one error, and what stands for them in the report.
var volatileParts = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}`), "<code>"},
	{regexp.MustCompile(`\[[0-9a-fA-F:]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?`), "<addr>"},
	{regexp.MustCompile(`i-rst-\d+`), "<instance>"},
}

// groupedError returns err's message without its volatile parts.
func groupedError(err error) string {
	msg := err.Error()
	for _, v := range volatileParts {
		msg = v.re.ReplaceAllString(msg, v.with)
	}
	return msg
}

// report logs what the clients saw: the outcomes, the errors of each
// phase grouped by message, and the times of the faults and recoveries.
func (l *verifyLoad) report(t *testing.T, d sqlstore.Dialect, f faultFigures) {
	t.Helper()
	retried, reservedByFailed := 0, 0
	for _, s := range l.ok {
		if s.failures > 0 {
			retried++
			if s.res.Retry {
				reservedByFailed++
			}
		}
	}
	t.Logf("%v: %d requests taken by %d clients: %d codes reserved, %d refused, %d successes of codes taken again",
		d, l.next.Load(), restartClients, len(l.ok), len(l.refused), l.again)
	t.Logf("%v: %d successes came after failed attempts; of these the retry found %d reserved by a failed attempt (Retry) and reserved %d itself",
		d, retried, reservedByFailed, retried-reservedByFailed)
	t.Logf("%v: %d sessions terminated; the next success %v later", d, f.terminated, f.afterTerminate.Round(time.Millisecond))
	t.Logf("%v: crash and restart: the server accepted again %v after the crash; recovery: the first Verify succeeded %v after it accepted (%v after the crash)",
		d, f.downFor.Round(time.Millisecond), f.recovery.Round(time.Millisecond), f.crashToSuccess.Round(time.Millisecond))
	for _, phase := range l.phases {
		errs := l.errs[phase]
		total := 0
		msgs := slices.Collect(maps.Keys(errs))
		slices.SortFunc(msgs, func(a, b string) int { return errs[b] - errs[a] })
		for _, m := range msgs {
			total += errs[m]
		}
		t.Logf("%v: phase %q: %d failed attempts", d, phase, total)
		for _, m := range msgs {
			t.Logf("    %6d  %s", errs[m], m)
		}
	}
}

// checkRestartRows checks the store's rows after the load: the quota rows
// against the slots and the slots against the reservations (checkRows), no
// instance over its limit, every success with its reservation and every
// reservation a success's, and every refusal on a full instance.
func checkRestartRows(t *testing.T, s *sqlstore.Store, l *verifyLoad) {
	t.Helper()
	checkRows(t, s.DB(), len(l.ok), len(l.ok))
	used := readQuota(t, s)
	for inst, n := range used {
		if n > restartLimit {
			t.Errorf("instance %s holds %d subjects, over its limit %d", inst, n, restartLimit)
		}
	}
	reserved := readReservations(t, s)
	for code, r := range reserved {
		got, ok := l.ok[code]
		switch {
		case !ok:
			t.Errorf("reservation %+v belongs to no Verify that succeeded", r)
		case r != reservationOf(t, got):
			t.Errorf("reservation %+v, but Verify succeeded for %+v", r, reservationOf(t, got))
		}
	}
	for code, got := range l.ok {
		if _, ok := reserved[code]; !ok {
			t.Errorf("Verify succeeded (%+v) but the code has no reservation", got.res)
		}
		if got.res.Used > restartLimit || got.res.Limit != restartLimit {
			t.Errorf("Verify succeeded with %d used of %d, limit %d", got.res.Used, got.res.Limit, restartLimit)
		}
	}
	for code, r := range l.refused {
		inst := reservationOf(t, restartSuccess{req: r.req}).instance
		switch {
		case !errors.Is(r.err, icpverify.ErrQuotaReached):
			t.Errorf("Verify of %s refused: %v; want only quota refusals", code, r.err)
		case used[inst] != restartLimit:
			t.Errorf("Verify of %s refused as full, but instance %s holds %d subjects", code, inst, used[inst])
		}
		if _, ok := l.ok[code]; ok {
			t.Errorf("Verify of %s both succeeded and was refused", code)
		}
	}
}

// restartRow is a reservation's row, as far as the checks read it.
type restartRow struct {
	code, instance, account, subjectKey string
}

// reservationOf returns the row a success should have left.
func reservationOf(t *testing.T, s restartSuccess) restartRow {
	code, _ := codeformat.Normalize(s.req.ServiceCode)
	inst := "i-rst-" + strings.TrimPrefix(s.req.Account, "acct-rst-")
	return restartRow{code: code, instance: inst, account: s.req.Account, subjectKey: keyOf(t, s.req)}
}

// readQuota returns the used count of each instance's quota row.
func readQuota(t *testing.T, s *sqlstore.Store) map[string]int {
	t.Helper()
	rows, err := s.DB().Query("SELECT instance, used FROM " + sqlstore.DefaultPrefix + "quota")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	used := map[string]int{}
	for rows.Next() {
		var inst string
		var n int
		if err := rows.Scan(&inst, &n); err != nil {
			t.Fatal(err)
		}
		used[inst] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return used
}

// readReservations returns the reservations' rows by code.
func readReservations(t *testing.T, s *sqlstore.Store) map[string]restartRow {
	t.Helper()
	rows, err := s.DB().Query("SELECT code, instance, account, subject_key FROM " + sqlstore.DefaultPrefix + "reservations")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]restartRow{}
	for rows.Next() {
		var r restartRow
		if err := rows.Scan(&r.code, &r.instance, &r.account, &r.subjectKey); err != nil {
			t.Fatal(err)
		}
		out[r.code] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
