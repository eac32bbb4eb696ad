package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

func TestNewRefuses(t *testing.T) {
	db, err := sql.Open("sqlite", sqliteDSN(t.TempDir()+"/x.db"))
	require.NoError(t, err)
	defer db.Close()

	_, err = sqlstore.New(nil, sqlstore.SQLite)
	assert.ErrorContains(t, err, "nil *sql.DB")
	_, err = sqlstore.New(db, sqlstore.Dialect(0))
	assert.ErrorContains(t, err, "unknown dialect")
	_, err = sqlstore.New(db, sqlstore.Dialect(42))
	assert.ErrorContains(t, err, "unknown dialect")
	for _, p := range []string{"A_", "1x", "a-b", "a b", "x; DROP TABLE y", strings.Repeat("a", 33)} {
		_, err = sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTablePrefix(p))
		assert.ErrorContains(t, err, "invalid table prefix", "prefix %q", p)
	}
	for _, p := range []string{"", "_", "icp_", strings.Repeat("a", 32)} {
		_, err = sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTablePrefix(p))
		assert.NoError(t, err, "prefix %q", p)
	}
	assert.Equal(t, "postgres", sqlstore.Postgres.String())
	assert.Equal(t, "mysql", sqlstore.MySQL.String())
	assert.Equal(t, "sqlite", sqlstore.SQLite.String())
	assert.Equal(t, "Dialect(0)", sqlstore.Dialect(0).String())
}

// TestValues checks what the store keeps exactly, and what it refuses.
func TestValues(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		ctx := context.Background()

		t.Run("Times", func(t *testing.T) {
			// Microseconds are kept, in UTC, whatever the location.
			at := time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("UTC+8", 8*3600))
			inst := eligible("i-times", "acct")
			inst.ExpiresAt = at
			require.NoError(t, s.PutInstanceContext(ctx, inst))
			got, err := s.Instance(ctx, inst.ID)
			require.NoError(t, err)
			assert.Equal(t, at.UTC().Truncate(time.Microsecond), got.ExpiresAt)
			assert.Equal(t, time.UTC, got.ExpiresAt.Location())

			inst.ExpiresAt = time.Time{}
			require.NoError(t, s.PutInstanceContext(ctx, inst))
			got, err = s.Instance(ctx, inst.ID)
			require.NoError(t, err)
			assert.True(t, got.ExpiresAt.IsZero(), "zero time came back as %v", got.ExpiresAt)

			inst.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			assert.ErrorIs(t, s.PutInstanceContext(ctx, inst), sqlstore.ErrInvalid)
		})

		t.Run("ExactKeys", func(t *testing.T) {
			// Keys differ by case, trailing space and Unicode form:
			// MySQL's default collations would merge them.
			subjects := []string{"Acme", "ACME", "Acme ", "Ácme", "A\u0301cme"}
			for i, sub := range subjects {
				code := "CODE-" + string(rune('A'+i))
				_, added, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: "i-times", Owner: "acct"}, 100)
				require.NoError(t, err)
				require.True(t, added)
				out, used, err := s.Reserve(ctx, icpverify.Reservation{Code: code, Instance: "i-times", Subject: sub, SubjectKey: sub, Application: newApp()}, 100)
				require.NoError(t, err)
				assert.Equal(t, icpverify.Reserved, out, "subject %q", sub)
				assert.Equal(t, i+1, used, "subject %q should take its own slot", sub)
			}
			for i, sub := range subjects {
				r, err := s.Reservation(ctx, "CODE-"+string(rune('A'+i)))
				require.NoError(t, err)
				assert.Equal(t, sub, r.Subject)
				assert.Equal(t, sub, r.SubjectKey)
			}
			_, err := s.Reservation(ctx, "code-a")
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
		})

		t.Run("Refused", func(t *testing.T) {
			long := strings.Repeat("x", sqlstore.MaxLen+1)
			for _, inst := range []icpverify.Instance{
				{ID: ""}, {ID: long}, {ID: "i\x00"}, {ID: "i\xff"},
				{ID: "i-ok", Account: long}, {ID: "i-ok", Region: "bad\xfe"},
			} {
				assert.ErrorIs(t, s.PutInstanceContext(ctx, inst), sqlstore.ErrInvalid, "PutInstance(%q)", inst.ID)
			}
			for _, r := range []icpverify.Reservation{
				{Code: "C", Instance: "i", Subject: long, SubjectKey: "k", Application: "a1"},
				{Code: "C", Instance: "i", Subject: "s", Application: "a1"}, // no subject key
				{Code: "C", Instance: "i", SubjectKey: strings.Repeat("k", sqlstore.MaxSubjectKeyLen+1), Application: "a1"},
				{Code: "C", Instance: "i", SubjectKey: "k", Website: long, Application: "a1"},
				{Code: "C", Instance: "i", SubjectKey: "k\x00", Application: "a1"},
				{Code: "C", Instance: "i", SubjectKey: "k"}, // no application
				{Code: "C", Instance: "i", SubjectKey: "k", Application: strings.Repeat("a", sqlstore.MaxApplicationLen+1)},
				{Code: "C", Instance: "i", SubjectKey: "k", Application: "a-1"},
				{Code: "C", Instance: "i", SubjectKey: "k", Application: "ａ1"},
			} {
				_, _, err := s.Reserve(ctx, r, 5)
				assert.ErrorIs(t, err, sqlstore.ErrInvalid, "Reserve(%+v)", r)
			}
			_, _, err := s.Reserve(ctx, icpverify.Reservation{Code: "C", Instance: "i"}, 5)
			assert.ErrorIs(t, err, sqlstore.ErrInvalid)
			// ReserveServiceCode refuses them too, on a code that exists,
			// whether or not its guard holds, and stores nothing.
			require.NoError(t, s.PutInstanceContext(ctx, icpverify.Instance{ID: "i-refused", Account: "a", Product: "ecs", Status: icpverify.Running}))
			_, _, err = s.AddServiceCode(ctx, icpverify.ServiceCode{Code: "CODE-R", Instance: "i-refused", Owner: "a"}, 5)
			require.NoError(t, err)
			for _, r := range []icpverify.Reservation{
				{Code: "CODE-R", Account: "a", Subject: long, SubjectKey: "k", Application: "r1"},
				{Code: "CODE-R", Account: "a", Subject: "s", Application: "r1"},
				{Code: "CODE-R", Account: "a", SubjectKey: "k\x00", Application: "r1"},
				{Code: "CODE-R", Account: long, SubjectKey: "k", Application: "r1"},
				{Code: "CODE-R", Account: "a", SubjectKey: "k"},
				{Code: "CODE-R", Account: "a", SubjectKey: "k", Application: "r 1"},
			} {
				for _, g := range []icpverify.ReserveGuard{{Product: "ecs"}, {Product: "cdn"}} {
					_, _, err := s.ReserveServiceCode(ctx, r, 5, g)
					assert.ErrorIs(t, err, sqlstore.ErrInvalid, "ReserveServiceCode(%+v)", r)
				}
			}
			_, err = s.Reservation(ctx, "CODE-R")
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
			_, _, err = s.ReserveServiceCode(ctx, icpverify.Reservation{Code: "\xff", Account: "a", SubjectKey: "k"}, 5, icpverify.ReserveGuard{})
			assert.ErrorIs(t, err, icpverify.ErrNotFound, "a code that cannot be stored is not found")
			_, _, err = s.AddServiceCode(ctx, icpverify.ServiceCode{Instance: "i-times"}, 5)
			assert.ErrorIs(t, err, sqlstore.ErrInvalid)
			// Keys that cannot be stored are not found.
			_, err = s.Instance(ctx, long)
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
			_, err = s.ServiceCode(ctx, "\xff")
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
			_, err = s.Release(ctx, icpverify.Reservation{})
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
			_, err = s.Complete(ctx, icpverify.Reservation{Code: "CODE-A", SubjectKey: "\xff"})
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
			for _, id := range []string{"", "\xff", "a-1", strings.Repeat("a", sqlstore.MaxApplicationLen+1)} {
				_, err = s.Application(ctx, id)
				assert.ErrorIs(t, err, icpverify.ErrNotFound, "Application(%q)", id)
				_, err = s.Release(ctx, icpverify.Reservation{Code: "CODE-A", Application: id})
				assert.ErrorIs(t, err, icpverify.ErrNotFound, "Release with application %q", id)
			}
			assert.ErrorIs(t, s.GrantServiceCode(ctx, long, "o", "g"), icpverify.ErrNotFound)
			assert.ErrorIs(t, s.GrantServiceCode(ctx, "CODE-A", long, "g"), sqlstore.ErrInvalid)
			assert.ErrorIs(t, s.RevokeServiceCode(ctx, "\xff"), icpverify.ErrNotFound)
			used, held, err := s.Usage(ctx, long, long)
			assert.NoError(t, err)
			assert.Equal(t, 0, used)
			assert.False(t, held)
		})

		t.Run("LongSubjectKey", func(t *testing.T) {
			// A key of a name of MaxLen bytes is longer than MaxLen.
			key := "name:" + strings.Repeat("键", sqlstore.MaxLen/3)
			require.Greater(t, len(key), sqlstore.MaxLen)
			_, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: "LONG-KEY", Instance: "i-times"}, 100)
			require.NoError(t, err)
			r := icpverify.Reservation{Code: "LONG-KEY", Instance: "i-times", Subject: "s", SubjectKey: key, Website: "example.com",
				Application: strings.Repeat("Ab9", sqlstore.MaxApplicationLen)[:sqlstore.MaxApplicationLen]}
			out, _, err := s.Reserve(ctx, r, 100)
			require.NoError(t, err)
			assert.Equal(t, icpverify.Reserved, out)
			got, err := s.Reservation(ctx, r.Code)
			require.NoError(t, err)
			assert.Equal(t, key, got.SubjectKey)
			assert.Equal(t, r.Application, got.Application)
			_, held, err := s.Usage(ctx, "i-times", key)
			require.NoError(t, err)
			assert.True(t, held)
			_, err = s.Release(ctx, r)
			assert.NoError(t, err)
		})

		t.Run("ApplicationUsed", func(t *testing.T) {
			// An Application another code's reservation has is refused
			// at once, by Reserve and ReserveServiceCode, and nothing is
			// stored.
			require.NoError(t, s.PutInstanceContext(ctx, icpverify.Instance{ID: "i-app", Account: "a", Product: "ecs", Status: icpverify.Running}))
			for _, code := range []string{"APP-1", "APP-2", "APP-3"} {
				_, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: "i-app", Owner: "a"}, 100)
				require.NoError(t, err)
			}
			first := icpverify.Reservation{Code: "APP-1", Instance: "i-app", Account: "a", Subject: "s", SubjectKey: "s", Application: newApp()}
			out, _, err := s.Reserve(ctx, first, 100)
			require.NoError(t, err)
			require.Equal(t, icpverify.Reserved, out)
			again := first
			again.Code = "APP-2"
			start := time.Now()
			_, _, err = s.Reserve(ctx, again, 100)
			assert.ErrorIs(t, err, sqlstore.ErrInvalid)
			again.Code, again.Instance = "APP-3", ""
			_, _, err = s.ReserveServiceCode(ctx, again, 100, icpverify.ReserveGuard{Product: "ecs"})
			assert.ErrorIs(t, err, sqlstore.ErrInvalid)
			assert.Less(t, time.Since(start), 5*time.Second, "refused without retrying for long")
			for _, code := range []string{"APP-2", "APP-3"} {
				_, err = s.Reservation(ctx, code)
				assert.ErrorIs(t, err, icpverify.ErrNotFound, "reservation of %s", code)
			}
			got, err := s.Application(ctx, first.Application)
			require.NoError(t, err)
			assert.Equal(t, "APP-1", got.Code)
			used, _, err := s.Usage(ctx, "i-app", "s")
			require.NoError(t, err)
			assert.Equal(t, 1, used)
		})

		t.Run("ZeroLimit", func(t *testing.T) {
			_, added, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: "Z1", Instance: "i-times"}, 0)
			require.NoError(t, err)
			assert.False(t, added)
			out, used, err := s.Reserve(ctx, icpverify.Reservation{Code: "Z2", Instance: "i-zero", Subject: "s", SubjectKey: "s", Application: newApp()}, 0)
			require.NoError(t, err)
			assert.Equal(t, icpverify.Full, out)
			assert.Equal(t, 0, used)
			_, err = s.Reservation(ctx, "Z2")
			assert.ErrorIs(t, err, icpverify.ErrNotFound)
		})
	})
}

// TestMalformedRow checks that a row the store did not write gives an
// error, not a panic or a wrong value.
func TestMalformedRow(t *testing.T) {
	s := newDatabase(t, sqlstore.SQLite).store(t)
	ctx := context.Background()
	_, err := s.DB().ExecContext(ctx, `INSERT INTO icpverify_instances
		(id, account, product, region, billing, term_months, public_ip, trial, status, expires_at)
		VALUES ('i-bad', 'a', 'ecs', 'cn-hangzhou', 'subscription', 12, '', 0, 'running', 'next tuesday')`)
	require.NoError(t, err)
	_, err = s.Instance(ctx, "i-bad")
	require.Error(t, err)
	assert.False(t, errors.Is(err, icpverify.ErrNotFound))
	assert.ErrorContains(t, err, "malformed time")

	_, err = s.DB().ExecContext(ctx, `INSERT INTO icpverify_reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
		VALUES ('C1', 'i-x', 'a', 's', 'k', '', 0, NULL, 'app1')`)
	require.NoError(t, err)
	// A reservation without its slot: Release reports it, and changes
	// nothing.
	_, err = s.Release(ctx, icpverify.Reservation{Code: "C1", Application: "app1"})
	assert.ErrorContains(t, err, "malformed quota")
	_, err = s.Reservation(ctx, "C1")
	assert.NoError(t, err)
}

// TestVerifierFlow runs a filing through the Verifier on each dialect.
func TestVerifierFlow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		ctx := context.Background()
		v := icpverify.New(s, s)
		require.NoError(t, s.PutInstanceContext(ctx, eligible("i-flow", "owner")))
		var codes []string
		for range 5 {
			code, err := v.IssueServiceCode(ctx, "i-flow", "owner")
			require.NoError(t, err)
			codes = append(codes, code)
		}
		_, err := v.IssueServiceCode(ctx, "i-flow", "owner")
		assert.ErrorIs(t, err, icpverify.ErrQuotaReached)

		apps := make([]string, len(codes))
		for i, code := range codes {
			req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: strings.ToLower(code), Account: "owner",
				Subject: "subject-" + string(rune('A'+i)), SubjectID: certOf("subject-" + string(rune('A'+i))), Website: "WWW.Example-" + string(rune('a'+i)) + ".com."}
			res, err := v.Verify(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, i+1, res.Used)
			apps[i] = res.Application
			res, err = v.Verify(ctx, req)
			require.NoError(t, err)
			assert.True(t, res.Retry)
			assert.Equal(t, apps[i], res.Application, "a retry answers the application it retries")
			r, err := s.Application(ctx, apps[i])
			require.NoError(t, err)
			assert.Equal(t, code, r.Code)
		}
		// The same application with the subject typed otherwise is a
		// retry; for another website the code is in use.
		again, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[0], Account: "owner",
			Subject: "  SUBJECT-a ", SubjectID: certOf("  SUBJECT-a "), Website: "www.example-a.com"})
		require.NoError(t, err)
		assert.True(t, again.Retry)
		_, err = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[0], Account: "owner",
			Subject: "subject-A", SubjectID: certOf("subject-A"), Website: "other.example.com"})
		var inUse *icpverify.Error
		require.ErrorAs(t, err, &inUse)
		assert.Equal(t, icpverify.ReasonCodeInUse, inUse.Reason)
		// A sixth subject with a used code: taken.
		_, err = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[0], Account: "owner", Subject: "subject-F", SubjectID: certOf("subject-F")})
		assert.ErrorIs(t, err, icpverify.ErrServiceCodeInvalid)

		require.NoError(t, v.Release(ctx, apps[4]))
		assert.ErrorIs(t, v.Release(ctx, apps[4]), icpverify.ErrNotFound, "released already")
		res, err := v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[4], Account: "owner", Subject: "subject-F", SubjectID: certOf("subject-F")})
		require.NoError(t, err)
		assert.Equal(t, 5, res.Used)
		assert.NotEqual(t, apps[4], res.Application)
		assert.ErrorIs(t, v.Release(ctx, apps[4]), icpverify.ErrNotFound, "the first application, after a new one reserved the code")
		require.NoError(t, v.Complete(ctx, res.Application))
		assert.ErrorIs(t, v.Release(ctx, res.Application), icpverify.ErrServiceCodeInvalid)

		list, err := s.ListReservations(ctx, "owner", 10)
		require.NoError(t, err)
		assert.Len(t, list, 5)
		insts, err := s.ListInstances(ctx, "owner", 10)
		require.NoError(t, err)
		require.Len(t, insts, 1)
		used, _, err := s.Usage(ctx, insts[0].ID, "")
		require.NoError(t, err)
		assert.Equal(t, 5, used)

		// The inventory forgets the instance: its codes read with the
		// zero Instance, and verify as released.
		_, err = s.DB().ExecContext(ctx, `DELETE FROM icpverify_instances WHERE id = 'i-flow'`)
		require.NoError(t, err)
		rec, err := s.LookupServiceCode(ctx, codes[0])
		require.NoError(t, err)
		assert.Equal(t, "i-flow", rec.Code.Instance)
		assert.Equal(t, icpverify.Instance{}, rec.Instance)
		assert.Equal(t, "subject-A", rec.Reservation.Subject)
		assert.Equal(t, certKey(t, "subject-A"), rec.Reservation.SubjectKey)
		assert.Equal(t, "www.example-a.com", rec.Reservation.Website)
		_, err = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: codes[0], Account: "owner", Subject: "subject-A", SubjectID: certOf("subject-A")})
		var e *icpverify.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, icpverify.ReasonInstanceReleased, e.Reason)
	})
}

// TestSameSubjectConcurrent reserves many codes of one subject at once on a
// fresh instance: all share one slot, and each call reports it.
func TestSameSubjectConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		ctx := context.Background()
		for round := range 5 {
			inst := "i-same-" + string(rune('a'+round))
			require.NoError(t, s.PutInstanceContext(ctx, eligible(inst, "acct")))
			const n = 16
			codes := make([]string, n)
			for i := range codes {
				codes[i] = inst + "-" + string(rune('A'+i))
				_, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: codes[i], Instance: inst}, 100)
				require.NoError(t, err)
			}
			var g errgroup
			start := make(chan struct{})
			for i := range codes {
				g.Go(func() error {
					<-start
					out, used, err := s.Reserve(ctx, icpverify.Reservation{Code: codes[i], Instance: inst, Subject: "one", SubjectKey: "one", Application: newApp()}, 5)
					if err == nil && (out != icpverify.Reserved || used != 1) {
						err = errors.New("Reserve = " + strconv.Itoa(int(out)) + ", used " + strconv.Itoa(used) + "; want Reserved, used 1")
					}
					return err
				})
			}
			close(start)
			require.NoError(t, g.Wait())
		}
		checkRows(t, s.DB(), 5*16, 5*16)
	})
}
