package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/icpfiling/icpverify"
)

// listCodesSelect selects the codes of an instance, for ListServiceCodes;
// the dialect's ORDER BY follows.
const listCodesSelect = `SELECT sc.code, sc.instance, sc.owner, sc.grantee, sc.revoked, sc.issued_at
		FROM ${p}service_codes sc
		WHERE sc.instance = ?`

// listCodesOrder is each dialect's order of ListServiceCodes: by issue time,
// a NULL (the zero time) first, then by code, byte for byte. MySQL keeps
// codes as VARBINARY and sorts NULL first; SQLite keeps times as text of
// one width, which sorts as the times do, compares text with BINARY and
// sorts NULL first; PostgreSQL sorts NULL last unless told, and text by the
// database's collation unless told.
var listCodesOrder = map[Dialect]string{
	Postgres: ` ORDER BY sc.issued_at ASC NULLS FIRST, sc.code COLLATE "C" LIMIT ?`,
	MySQL:    ` ORDER BY sc.issued_at, sc.code LIMIT ?`,
	SQLite:   ` ORDER BY sc.issued_at, sc.code LIMIT ?`,
}

// listCodesKey names the statement of ListServiceCodes of a dialect and
// table prefix.
type listCodesKey struct {
	d      Dialect
	prefix string
}

// listCodesQueries caches the statements of ListServiceCodes, by
// listCodesKey, so that a Store builds its own once. (They are kept apart
// from the queries of store.go and queries.go.)
var listCodesQueries sync.Map

// listCodesQuery returns the statement of ListServiceCodes for s.
func (s *Store) listCodesQuery() string {
	k := listCodesKey{s.d, s.prefix}
	if q, ok := listCodesQueries.Load(k); ok {
		return q.(string)
	}
	q, _ := listCodesQueries.LoadOrStore(k, sqlText(s.d, s.prefix, listCodesSelect+listCodesOrder[s.d]))
	return q.(string)
}

// ListServiceCodes implements icpverify.InstanceLister: the codes of
// instance, in one query.
//
// The schema has no index on the instance of a service code, so the query
// reads the whole table of codes; a large inventory wants one on
// (instance, issued_at, code).
func (s *Store) ListServiceCodes(ctx context.Context, instance string, limit int) ([]icpverify.ServiceCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []icpverify.ServiceCode{}
	if limit <= 0 || !checkKey(instance) {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, s.listCodesQuery(), instance, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ListServiceCodes of %q: %w", instance, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc icpverify.ServiceCode
		err := rows.Scan(&sc.Code, &sc.Instance, &sc.Owner, &sc.Grantee, boolCol{&sc.Revoked}, timeCol{s.d, &sc.IssuedAt})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: ListServiceCodes of %q: reading a row: %w", instance, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: ListServiceCodes of %q: %w", instance, err)
	}
	return out, nil
}
