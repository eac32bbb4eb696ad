package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/subject"
)

// Subjects of the version-1 rows: one company named two ways in English
// and two ways in Chinese (full-width and ASCII parentheses), a company
// whose filing is complete, and a name that yields no subject key (it holds
// a bidirectional override), which the upgrade keys "v1:" and the name.
const (
	hzName    = "Hangzhou Example Technology Co., Ltd."
	hzOther   = "hangzhou  EXAMPLE technology co., ltd."
	cnName    = "杭州示例科技（集团）有限公司"
	cnOther   = "杭州示例科技(集团)有限公司"
	filedName = "Shanghai Filed Co., Ltd."
	badName   = "Bad\u202eName Co."
)

// v1Reservation is a reservation as version 1 kept it.
type v1Reservation struct {
	name                       string // the fixture's name of its code
	instance, account, subject string
	filed, released            bool
}

// v1Reservations are the rows newV1Fixture writes, in order: on instance
// i-a, hzName holds two codes and hzOther one (two version-1 slots, one
// subject key), cnName and cnOther one each, filedName one filed code and
// badName one; on i-b hzName one; on i-c a code reserved and released,
// leaving a quota row with no slot.
var v1Reservations = []v1Reservation{
	{"A1", "i-a", "acct-a", hzName, false, false},
	{"A2", "i-a", "acct-a", hzName, false, false},
	{"A3", "i-a", "acct-a", hzOther, false, false},
	{"A4", "i-a", "acct-b", cnName, false, false},
	{"A5", "i-a", "acct-b", cnOther, false, false},
	{"A6", "i-a", "acct-a", filedName, true, false},
	{"A7", "i-a", "acct-c", badName, false, false},
	{"B1", "i-b", "acct-a", hzName, false, false},
	{"C1", "i-c", "acct-a", hzName, false, true},
}

// v1Fixture is a version-1 database with the rows of v1Reservations.
type v1Fixture struct {
	db    *database
	v1    *v1DB
	codes map[string]string // code by fixture name
	at    time.Time         // when the reservations were made
}

// newV1Fixture makes a version-1 database on a fresh namespace of d and
// writes v1Reservations with version 1's statements.
func newV1Fixture(t *testing.T, d sqlstore.Dialect) *v1Fixture {
	t.Helper()
	db := newDatabase(t, d)
	f := &v1Fixture{db: db, v1: newV1DB(t, db), codes: map[string]string{},
		at: time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)}
	for _, id := range []string{"i-a", "i-b", "i-c"} {
		f.v1.putInstance(eligible(id, "acct-a"))
	}
	for _, r := range v1Reservations {
		code, err := codeformat.Default().New(rand.Reader)
		require.NoError(t, err)
		f.codes[r.name] = code
		f.v1.addCode(icpverify.ServiceCode{Code: code, Instance: r.instance, Owner: "acct-a", IssuedAt: f.at})
		f.v1.reserve(code, r.instance, r.account, r.subject, f.at)
		if r.filed {
			f.v1.complete(code)
		}
		if r.released {
			f.v1.release(code)
		}
	}
	// What version 1 made of it: a slot per name, 6 on i-a.
	assert.Equal(t, map[string]int{"i-a": 6, "i-b": 1, "i-c": 0}, f.quota(t, db.open(t)))
	return f
}

// quota returns the used count of every quota row.
func (f *v1Fixture) quota(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := db.Query("SELECT instance, used FROM " + sqlstore.DefaultPrefix + "quota")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var inst string
		var used int
		require.NoError(t, rows.Scan(&inst, &used))
		out[inst] = used
	}
	require.NoError(t, rows.Err())
	return out
}

// slots returns the holds of every slot, by instance and subject key.
func (f *v1Fixture) slots(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := db.Query("SELECT instance, subject_key, holds FROM " + sqlstore.DefaultPrefix + "slots")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var inst, key string
		var holds int
		require.NoError(t, rows.Scan(&inst, &key, &holds))
		out[inst+" "+key] = holds
	}
	require.NoError(t, rows.Err())
	return out
}

// checkUpgraded checks what version 2 made of the fixture's rows: every
// reservation kept, keyed by its name, without a website; slots merged
// per key with their holds summed; each instance's used count the number of
// its keys.
func (f *v1Fixture) checkUpgraded(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	hz, cn, filed := nameKey(t, hzName), nameKey(t, cnName), nameKey(t, filedName)
	require.Equal(t, hz, nameKey(t, hzOther), "the two English spellings have one key")
	require.Equal(t, cn, nameKey(t, cnOther), "the two Chinese spellings have one key")
	_, ok := subject.Key(badName, subject.ID{})
	require.False(t, ok, "%q yields no key", badName)
	bad := "v1:" + badName
	keys := map[string]string{hzName: hz, hzOther: hz, cnName: cn, cnOther: cn, filedName: filed, badName: bad}

	for _, v := range v1Reservations {
		r, err := s.Reservation(ctx, f.codes[v.name])
		if v.released {
			assert.ErrorIs(t, err, icpverify.ErrNotFound, "reservation %s, released in version 1", v.name)
			continue
		}
		require.NoError(t, err, "reservation %s", v.name)
		want := icpverify.Reservation{Code: f.codes[v.name], Instance: v.instance, Account: v.account,
			Subject: v.subject, SubjectKey: keys[v.subject], Filed: v.filed, ReservedAt: f.at}
		checkUpgradedApplication(t, s, r)
		want.Application = r.Application // version 6 made it
		assert.Equal(t, want, r, "reservation %s", v.name)
	}
	assert.Equal(t, map[string]int{"i-a " + hz: 3, "i-a " + cn: 2, "i-a " + filed: 1, "i-a " + bad: 1, "i-b " + hz: 1},
		f.slots(t, s.DB()))
	assert.Equal(t, map[string]int{"i-a": 4, "i-b": 1, "i-c": 0}, f.quota(t, s.DB()))
	checkRows(t, s.DB(), len(v1Reservations)-1, len(v1Reservations)-1)
	used, held, err := s.Usage(ctx, "i-a", hz)
	require.NoError(t, err)
	assert.Equal(t, 4, used)
	assert.True(t, held)
	// The migration's own table is gone.
	var n int
	err = s.DB().QueryRow("SELECT COUNT(*) FROM " + sqlstore.DefaultPrefix + "v1_subject_keys").Scan(&n)
	assert.Error(t, err, "%sv1_subject_keys is left behind", sqlstore.DefaultPrefix)
}

// dumpTables returns every row of the store's tables, formatted, so that
// two dumps compare equal if nothing changed between them.
func dumpTables(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"instances", "service_codes", "reservations", "slots", "quota", "schema_version"} {
		rows, err := db.Query("SELECT * FROM " + sqlstore.DefaultPrefix + table)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			parts := make([]string, len(cols))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
			}
			out[table] = append(out[table], strings.Join(parts, " "))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// TestMigrateFromV1 upgrades a database that version 1 wrote, from 4
// replicas at once, and checks the rows, slots and used counts; that a
// second Migrate changes nothing; that a version-1 writer left running
// fails and changes nothing; and that the Verifier takes an old
// reservation retried with the name typed another way for a retry.
func TestMigrateFromV1(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		f := newV1Fixture(t, d)
		ctx := context.Background()
		stores := make([]*sqlstore.Store, 4)
		for i := range stores {
			s, err := sqlstore.New(f.db.open(t), d)
			require.NoError(t, err)
			stores[i] = s
		}
		var wg sync.WaitGroup
		for _, s := range stores {
			wg.Go(func() {
				if err := s.Migrate(ctx); err != nil {
					t.Errorf("concurrent Migrate: %v", err)
				}
			})
		}
		wg.Wait()
		s := stores[0]
		checkVersions(t, s, sqlstore.DefaultPrefix)
		f.checkUpgraded(t, s)

		before := dumpTables(t, s.DB())
		require.NoError(t, stores[1].Migrate(ctx))
		require.NoError(t, f.db.store(t).Migrate(ctx))
		assert.Equal(t, before, dumpTables(t, s.DB()), "a second Migrate changed the tables")

		// A replica still running version 1 cannot reserve.
		code, err := codeformat.Default().New(rand.Reader)
		require.NoError(t, err)
		_, _, err = s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: "i-b", Owner: "acct-a", IssuedAt: f.at}, 100)
		require.NoError(t, err)
		before = dumpTables(t, s.DB())
		assert.Error(t, f.v1.tryReserve(code, "i-b", "acct-a", "Someone Else Co.", f.at), "a version-1 reservation on version 2")
		assert.Equal(t, before, dumpTables(t, s.DB()), "a failed version-1 reservation changed the tables")

		checkVerifierAfterUpgrade(t, f, s)
	})
}

// checkVerifierAfterUpgrade runs the Verifier on the upgraded fixture,
// under a policy that keys subjects by name, as version 1 did.
func checkVerifierAfterUpgrade(t *testing.T, f *v1Fixture, s *sqlstore.Store) {
	ctx := context.Background()
	names := icpverify.DefaultPolicy(icpverify.ProductECS)
	names.RequireSubjectID = false
	v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, names))
	verify := func(name, subject string) (icpverify.Result, error) {
		return v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: f.codes[name],
			Account: "acct-a", Subject: subject})
	}
	// Old reservations retried, the name typed as before or otherwise.
	for _, c := range []struct{ name, subject string }{
		{"A1", hzName}, {"A1", "HANGZHOU EXAMPLE TECHNOLOGY CO., LTD."}, {"A3", hzName}, {"B1", " hangzhou example technology co., ltd. "},
	} {
		res, err := verify(c.name, c.subject)
		require.NoError(t, err, "Verify %s for %q", c.name, c.subject)
		assert.True(t, res.Retry, "Verify %s for %q is a retry", c.name, c.subject)
		chk, err := v.Check(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: f.codes[c.name],
			Account: "acct-a", Subject: c.subject})
		require.NoError(t, err)
		assert.True(t, chk.Retry, "Check %s for %q is a retry", c.name, c.subject)
	}
	res, err := verify("A1", hzName)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Used)
	// Another subject, or the filed code: refused.
	var e *icpverify.Error
	_, err = verify("A1", "Other Co.")
	require.ErrorAs(t, err, &e)
	assert.Equal(t, icpverify.ReasonCodeInUse, e.Reason)
	_, err = verify("A6", filedName)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, icpverify.ReasonCodeUsed, e.Reason)

	// A new code of the company, typed a third way, shares its slot.
	code, err := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy)).IssueServiceCode(ctx, "i-a", "acct-a")
	require.NoError(t, err)
	res, err = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: "acct-a",
		Subject: "Hangzhou Example Technology Co.,  Ltd."})
	require.NoError(t, err)
	assert.False(t, res.Retry)
	assert.Equal(t, 4, res.Used)
	checkReleaseAfterUpgrade(t, f, s, v, code)
}

// checkReleaseAfterUpgrade releases the upgraded fixture's reservations of
// hzName and hzOther, and then code, which shares their slot.
func checkReleaseAfterUpgrade(t *testing.T, f *v1Fixture, s *sqlstore.Store, v *icpverify.Verifier, code string) {
	ctx := context.Background()
	for _, name := range []string{"A1", "A2", "A3"} {
		require.NoError(t, v.Release(ctx, appOf(t, s, f.codes[name])))
	}
	used, held, err := s.Usage(ctx, "i-a", nameKey(t, hzName))
	require.NoError(t, err)
	assert.Equal(t, 4, used)
	assert.True(t, held, "the new code holds the slot")
	require.NoError(t, v.Release(ctx, appOf(t, s, code)))
	used, held, err = s.Usage(ctx, "i-a", nameKey(t, hzName))
	require.NoError(t, err)
	assert.Equal(t, 3, used)
	assert.False(t, held)
	checkRows(t, s.DB(), len(v1Reservations)-1-3, len(v1Reservations)-1-3)
}

// TestMigrateFromV1Resumes cuts the upgrade short where it commits, and
// runs Migrate again: on MySQL, whose DDL is not transactional, the first
// COMMIT is that of the step "rekey", after the DDL of the steps before it;
// on PostgreSQL and SQLite it is that of the whole migration. The COMMIT is
// refused (the transaction is rolled back), or sent with its answer lost
// (it commits, and Migrate fails). A Migrate that finds the version
// unrecorded on a version-2 schema, as after a migration cut short before
// it recorded the version, runs no step again.
func TestMigrateFromV1Resumes(t *testing.T) {
	errLost := errors.New("the answer to COMMIT was lost")
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		for _, c := range []struct {
			name string
			hook commitHook
		}{
			{"CommitRefused", func(*faultConn, func() error) error { return errors.New("COMMIT refused by the test") }},
			{"CommitLost", func(_ *faultConn, commit func() error) error {
				if err := commit(); err != nil {
					return err
				}
				return errLost
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := newV1Fixture(t, d)
				pool, faults := f.db.openFaults(t)
				s, err := sqlstore.New(pool, d)
				require.NoError(t, err)
				faults.onNextCommit(c.hook)
				err = s.Migrate(context.Background())
				require.Error(t, err, "Migrate with its COMMIT cut short")
				t.Logf("Migrate with its COMMIT cut short: %v", err)
				s = f.db.store(t) // migrates again
				checkVersions(t, s, sqlstore.DefaultPrefix)
				f.checkUpgraded(t, s)
			})
		}
		t.Run("VersionUnrecorded", func(t *testing.T) {
			f := newV1Fixture(t, d)
			s := f.db.store(t)
			before := dumpTables(t, s.DB())
			delete(before, "schema_version")
			_, err := s.DB().Exec("DELETE FROM " + sqlstore.DefaultPrefix + "schema_version WHERE version >= 2")
			require.NoError(t, err)
			require.NoError(t, s.Migrate(context.Background()))
			after := dumpTables(t, s.DB())
			delete(after, "schema_version")
			if d == sqlstore.SQLite {
				// On SQLite version 5 rebuilds the reservations with
				// the columns it knows, and 6 rebuilds them again with
				// new identities: the versions rerun here, which a
				// migration cut short never leaves unrecorded there
				// (it is one transaction), change only those.
				before["reservations"] = withoutApplications(before["reservations"])
				after["reservations"] = withoutApplications(after["reservations"])
			}
			assert.Equal(t, before, after)
			checkVersions(t, s, sqlstore.DefaultPrefix)
			f.checkUpgraded(t, s)
		})
	})
}

// withoutApplications returns the rows of reservations that dumpTables
// made, without their application.
func withoutApplications(rows []string) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = regexp.MustCompile(` application=[0-9a-f]{32}`).ReplaceAllString(row, "")
	}
	return out
}
