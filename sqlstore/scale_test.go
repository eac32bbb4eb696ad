package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// The scale tests load a provider's inventory, up to a million instances,
// and take minutes: they run only with ICPVERIFY_SCALE=1, never in CI.
//
//	ICPVERIFY_SCALE=1 go test -run 'TestScale' -timeout 60m -v
//
// ICPVERIFY_SCALE_SIZES sets the sizes (default 10000,100000,1000000) and
// ICPVERIFY_SCALE_OPS the verifications measured at each (default 1000).
const scaleEnv = "ICPVERIFY_SCALE"

func skipUnlessScale(t *testing.T) {
	if os.Getenv(scaleEnv) != "1" {
		t.Skip(scaleEnv + "=1 not set: the scale tests load up to a million instances")
	}
}

func scaleInts(t *testing.T, env string, def []int) []int {
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s: %q is not a positive number", env, f)
		}
		out = append(out, n)
	}
	return out
}

// scaleInstance is the i-th instance of the scale inventory: eligible,
// each of its own account.
func scaleInstance(i int, expires time.Time) icpverify.Instance {
	return icpverify.Instance{
		ID: fmt.Sprintf("i-scale-%07d", i), Account: fmt.Sprintf("acct-scale-%07d", i),
		Product: icpverify.ProductECS, Region: "cn-hangzhou", Billing: icpverify.Subscription,
		TermMonths: 12, PublicIP: "203.0.113.7", Status: icpverify.Running, ExpiresAt: expires,
	}
}

// loadInstances puts the scale instances [from, to) with PutInstances and
// returns how long it took.
func loadInstances(t *testing.T, s *sqlstore.Store, from, to int) time.Duration {
	t.Helper()
	expires := time.Now().AddDate(1, 0, 0)
	insts := make([]icpverify.Instance, 0, to-from)
	for i := from; i < to; i++ {
		insts = append(insts, scaleInstance(i, expires))
	}
	start := time.Now()
	if err := s.PutInstances(context.Background(), insts); err != nil {
		t.Fatalf("PutInstances [%d, %d): %v", from, to, err)
	}
	return time.Since(start)
}

// loadCodes stores one service code for each scale instance [from, to),
// with multi-row INSERTs of the test's own (the store issues codes one by
// one), and returns the codes. The instances' issued counters are left at
// 0: Verify does not read them.
func loadCodes(t *testing.T, s *sqlstore.Store, rng *rand.ChaCha8, from, to int) []string {
	t.Helper()
	ctx := context.Background()
	f := codeformat.Default()
	codes := make([]string, 0, to-from)
	const rows = 1000
	for b := from; b < to; b += rows {
		var q strings.Builder
		q.WriteString("INSERT INTO " + sqlstore.DefaultPrefix + "service_codes (code, instance, owner, grantee, revoked, issued_at) VALUES ")
		var args []any
		for i := b; i < min(b+rows, to); i++ {
			code, err := f.New(rng)
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, code)
			if i > b {
				q.WriteString(", ")
			}
			q.WriteString(placeholders(s.Dialect(), len(args), 5) + "")
			inst := scaleInstance(i, time.Time{})
			args = append(args, code, inst.ID, inst.Account, "", false)
		}
		if _, err := s.DB().ExecContext(ctx, q.String(), args...); err != nil {
			t.Fatalf("loading codes: %v", err)
		}
	}
	return codes
}

// placeholders returns a row of n placeholders, after the first ones
// already bound, and a NULL issued_at.
func placeholders(d sqlstore.Dialect, first, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "?"
		if d == sqlstore.Postgres {
			p[i] = "$" + strconv.Itoa(first+i+1)
		}
	}
	return "(" + strings.Join(p, ", ") + ", NULL)"
}

// TestScaleLoad loads a million instances in one PutInstances call into a
// fresh database of each dialect, which must take under 60 s.
func TestScaleLoad(t *testing.T) {
	skipUnlessScale(t)
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		const n = 1000000
		took := loadInstances(t, s, 0, n)
		t.Logf("%s: PutInstances of %d instances took %v (%.0f instances/s)", d, n, took, n/took.Seconds())
		if got := countInstances(t, s); got != n {
			t.Fatalf("%d instances stored, want %d", got, n)
		}
		if took > 60*time.Second {
			t.Errorf("loading %d instances took %v, over 60 s", n, took)
		}
	})
}

// scaleCost is what a verification cost at one size.
type scaleCost struct {
	size                int
	firstMean, firstP50 time.Duration
	retryMean, retryP50 time.Duration
	loadTook, codesTook time.Duration
	firstOps            int
}

// TestScaleVerify measures Verify, a first reservation and its retry, with
// 10 thousand, 100 thousand and a million instances loaded, each with a
// code, on each dialect; the cost at the largest size must be within 1.3x
// of the cost at the smallest (by the median). Then it logs the plans of
// the hot statements on the loaded database.
func TestScaleVerify(t *testing.T) {
	skipUnlessScale(t)
	sizes := scaleInts(t, "ICPVERIFY_SCALE_SIZES", []int{10000, 100000, 1000000})
	ops := scaleInts(t, "ICPVERIFY_SCALE_OPS", []int{1000})[0]
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		s.DB().SetMaxOpenConns(8)
		s.DB().SetMaxIdleConns(8)
		v := icpverify.New(s, s)
		ctx := context.Background()
		rng := rand.NewChaCha8([32]byte{1})
		pick := rand.New(rng)
		var codes []string
		used := map[int]bool{}
		var costs []scaleCost
		loaded := 0
		for _, size := range sizes {
			c := scaleCost{size: size}
			c.loadTook = loadInstances(t, s, loaded, size)
			start := time.Now()
			codes = append(codes, loadCodes(t, s, rng, loaded, size)...)
			c.codesTook = time.Since(start)
			loaded = size
			// Fresh statistics, as autovacuum or InnoDB's would be in
			// time.
			analyze(t, s)

			// First reservations of codes drawn across the whole
			// inventory, then their retries; a warm-up of 100 first.
			var idx []int
			for len(idx) < ops+100 {
				i := pick.IntN(size)
				if !used[i] {
					used[i] = true
					idx = append(idx, i)
				}
			}
			req := func(i int) icpverify.Request {
				return icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[i],
					Account: scaleInstance(i, time.Time{}).Account, Subject: "Subject " + strconv.Itoa(i), SubjectID: certOf("Subject " + strconv.Itoa(i))}
			}
			measure := func(idx []int, retry bool) (mean, p50 time.Duration) {
				lat := make([]time.Duration, 0, len(idx))
				for _, i := range idx {
					start := time.Now()
					res, err := v.Verify(ctx, req(i))
					lat = append(lat, time.Since(start))
					if err != nil || res.Retry != retry {
						t.Fatalf("Verify(code of instance %d) = %+v, %v; want Retry %v", i, res, err, retry)
					}
				}
				var sum time.Duration
				for _, l := range lat {
					sum += l
				}
				slices.Sort(lat)
				return sum / time.Duration(len(lat)), lat[len(lat)/2]
			}
			measure(idx[:100], false)
			measure(idx[:100], true)
			idx = idx[100:]
			c.firstMean, c.firstP50 = measure(idx, false)
			c.retryMean, c.retryP50 = measure(idx, true)
			c.firstOps = len(idx)
			costs = append(costs, c)
			t.Logf("%s %8d instances: loaded in %v (+ codes %v); Verify first mean %v p50 %v, retry mean %v p50 %v (%d each)",
				d, size, c.loadTook.Round(time.Millisecond), c.codesTook.Round(time.Millisecond),
				c.firstMean.Round(time.Microsecond), c.firstP50.Round(time.Microsecond),
				c.retryMean.Round(time.Microsecond), c.retryP50.Round(time.Microsecond), c.firstOps)
		}
		if len(costs) > 1 {
			lo, hi := costs[0], costs[len(costs)-1]
			rf := float64(hi.firstP50) / float64(lo.firstP50)
			rr := float64(hi.retryP50) / float64(lo.retryP50)
			t.Logf("%s: cost at %d / cost at %d (medians): first %.2fx, retry %.2fx", d, hi.size, lo.size, rf, rr)
			if rf > 1.3 || rr > 1.3 {
				t.Errorf("%s: Verify at %d instances costs over 1.3x its cost at %d: first %.2fx, retry %.2fx",
					d, hi.size, lo.size, rf, rr)
			}
		}
		explainHot(t, s, codes, used)
	})
}

// analyze updates the planner's statistics of the store's tables.
func analyze(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	var stmts []string
	tables := []string{"instances", "service_codes", "reservations", "slots", "quota"}
	for _, tb := range tables {
		name := sqlstore.DefaultPrefix + tb
		switch s.Dialect() {
		case sqlstore.Postgres:
			stmts = append(stmts, "ANALYZE "+name)
		case sqlstore.MySQL:
			stmts = append(stmts, "ANALYZE TABLE "+name)
		}
	}
	if s.Dialect() == sqlstore.SQLite {
		stmts = append(stmts, "ANALYZE")
	}
	for _, q := range stmts {
		rows, err := s.DB().QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
}

// explainHot logs the plans of the hot statements: the code lookup join,
// the reservation's read and writes, and the usage read, with the values
// of a code reserved and of one not reserved.
func explainHot(t *testing.T, s *sqlstore.Store, codes []string, used map[int]bool) {
	t.Helper()
	var held, free int
	for i := range codes {
		if used[i] {
			held = i
			break
		}
	}
	for i := range codes {
		if !used[i] {
			free = i
			break
		}
	}
	hi, fi := scaleInstance(held, time.Time{}), scaleInstance(free, time.Time{})
	key := certKey(t, "Subject "+strconv.Itoa(free))
	heldKey := certKey(t, "Subject "+strconv.Itoa(held))
	at := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	var atArg any = at
	if s.Dialect() == sqlstore.Postgres {
		atArg = time.Now()
	}
	args := map[string][]any{
		"lookupCode":    {codes[held]},
		"reserveCheck":  {hi.ID, codes[held]},
		"reservePG":     {codes[free], fi.ID, fi.Account, "Subject", key, "", atArg, 15, 15},
		"reserveInsert": {codes[free], fi.ID, fi.Account, "Subject", key, "", false, at},
		"slotTake":      {fi.ID, key},
		"quotaEnsure":   {fi.ID},
		"quotaTake":     {fi.ID, 15},
		"quotaUsed":     {hi.ID},
		"usage":         {hi.ID, hi.ID, heldKey},
		// PostgreSQL's ReserveServiceCode of the free code: the guard's
		// arguments, the reservation's, the code (see reserveCodeArgs).
		"reserveCode": {fi.Account, fi.Account, fi.Account, string(icpverify.Running), string(icpverify.ProductECS),
			atArg, atArg, nil, nil, true, fi.Account, "Subject", key, "", atArg, 15, codes[free]},
	}
	if s.Dialect() == sqlstore.SQLite {
		args["quotaTake"] = []any{fi.ID, 15, 15}
	}
	prefix := "EXPLAIN "
	if s.Dialect() == sqlstore.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	hot := s.HotStatements()
	names := make([]string, 0, len(hot))
	for n := range hot {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		plan, err := explain(s.DB(), prefix+hot[n], args[n]...)
		if err != nil {
			t.Logf("%s %s: EXPLAIN: %v", s.Dialect(), n, err)
			continue
		}
		t.Logf("%s %s:\n%s", s.Dialect(), n, plan)
	}
}

// explain runs an EXPLAIN and returns its rows, columns joined by " | ".
func explain(db *sql.DB, q string, args ...any) (string, error) {
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("    " + strings.Join(cols, " | ") + "\n")
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		f := make([]string, len(cols))
		for i, v := range vals {
			f[i] = v.String
			if !v.Valid {
				f[i] = "NULL"
			}
		}
		b.WriteString("    " + strings.Join(f, " | ") + "\n")
	}
	return b.String(), rows.Err()
}
