package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/icpfiling/icpverify"
)

// reserveQuotasCall reserves r, which has quotas, on PostgreSQL or MySQL
// with one call of the routine ${p}reserve_quotas (schema version 9), and
// reports the outcome and the instance's usage afterwards, or Exceeded and
// the index of the first full quota of r. The call is one round trip: in
// autocommit on PostgreSQL, in the procedure's own transaction on MySQL.
// If PostgreSQL's function answers that the session does not run at READ
// COMMITTED, this call and those after it run it in a transaction at that
// level (three round trips). It returns errRetry if the code's
// reservation went away meanwhile, and returns by ctx's deadline even if
// the driver does not watch ctx (see finish); the call may then still
// commit.
func (s *Store) reserveQuotasCall(ctx context.Context, r icpverify.Reservation, at any, limit int64) (icpverify.Outcome, int, error) {
	args := append([]any{r.Code, r.Instance, r.Account, r.Subject, r.SubjectKey, r.Website, at, limit, r.Application},
		s.quotaArgs(r.Quotas)...)
	var outcome, used int64
	var err error
	if !s.quotasTx.Load() {
		err = finish(ctx, func() error {
			var o, u int64
			err := s.queryRow(ctx, s.q.reserveQuotasCall, args...).Scan(&o, &u)
			outcome, used = o, u
			return err
		})
		if s.d != Postgres || pgState(err) != pgNotReadCommitted {
			return quotasOutcome(outcome, used, err)
		}
		s.quotasTx.Store(true)
	}
	err = s.inTx(ctx, func(q querier) (bool, error) {
		err := q.QueryRowContext(ctx, s.q.reserveQuotasCall, args...).Scan(&outcome, &used)
		return err == nil && outcome == routineReserved, err
	})
	return quotasOutcome(outcome, used, err)
}

// quotasOutcome is routineOutcome for a call of ${p}reserve_quotas that
// returned err.
func quotasOutcome(outcome, used int64, err error) (icpverify.Outcome, int, error) {
	if err != nil {
		return 0, 0, err
	}
	return routineOutcome(outcome, used)
}

// quotaArgs returns the arguments of ${p}reserve_quotas that describe the
// quotas qs, taken in the byte order of their keys: on PostgreSQL
// pgQuotaArrays, on MySQL mysqlQuotaArgs.
func (s *Store) quotaArgs(qs []icpverify.Quota) []any {
	if s.d == Postgres {
		return pgQuotaArrays(qs)
	}
	return mysqlQuotaArgs(qs)
}

// pgQuotaArrays returns the arrays that PostgreSQL's ${p}reserve_quotas
// takes for the quotas qs, in the byte order of their keys: the keys, the
// members, the limits, whether each is UntilFiled, and the index of each
// in qs.
func pgQuotaArrays(qs []icpverify.Quota) []any {
	var keys, members, limits, until, index []string
	for _, i := range byKey(qs) {
		q := qs[i]
		keys, members = append(keys, q.Key), append(members, q.Member)
		limits = append(limits, strconv.FormatInt(clampLimit(q.Limit), 10))
		until = append(until, strconv.FormatBool(q.UntilFiled))
		index = append(index, strconv.Itoa(i))
	}
	return []any{pgArray(keys), pgArray(members), pgArray(limits), pgArray(until), pgArray(index)}
}

// pgArray returns the text of a PostgreSQL array literal of the elements
// elems: each in double quotes, with its backslashes and double quotes
// escaped by a backslash, so that it reads back as it is, whatever it
// holds (text that checkTextLen accepts has no NUL).
func pgArray(elems []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, c := range []byte(e) {
			if c == '\\' || c == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// mysqlQuotaArgs returns what MySQL's ${p}reserve_quotas takes for the
// quotas qs, in the byte order of their keys: the keys concatenated, the
// members concatenated, and for each quota 27 digits: its index in qs
// (10), its limit (10; 0 for any limit of 0 or less, which admits no new
// member either), 1 if it is UntilFiled else 0, and the lengths of its
// key (3) and member (3), which checkQuotas bounds by MaxSubjectKeyLen.
// All are bytes, which the driver binds as binary strings (never nil,
// which it binds as NULL, even where every key or member is empty).
func mysqlQuotaArgs(qs []icpverify.Quota) []any {
	keys, members, meta := []byte{}, []byte{}, make([]byte, 0, 27*len(qs))
	for _, i := range byKey(qs) {
		q := qs[i]
		keys, members = append(keys, q.Key...), append(members, q.Member...)
		until := 0
		if q.UntilFiled {
			until = 1
		}
		meta = fmt.Appendf(meta, "%010d%010d%d%03d%03d", i, max(clampLimit(q.Limit), 0), until, len(q.Key), len(q.Member))
	}
	return []any{keys, members, meta}
}
