package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/icpfiling/icpverify/subject"
)

// stepRule is how Migrate runs a named step of a migration file.
type stepRule struct {
	// skipIf names a column whose existence shows that the step is done;
	// needs, a column without which it is done, or needless.
	skipIf, needs column
	// skipIfIndex names an index whose existence shows that the step is
	// done (MySQL only).
	skipIfIndex column
	// tx runs the step's statements in one transaction on MySQL. (On
	// PostgreSQL and SQLite the whole migration is one.)
	tx bool
	// then, if set, runs after the step's statements.
	then func(s *Store, ctx context.Context, q querier) error
}

// column names a column of one of the store's tables, without the prefix.
type column struct{ table, name string }

// stepRules are the rules of the named steps of the migration files, those
// of version 2 (schema/<dialect>/0002_subject_keys.sql), 4, 6, 7 and 9. On MySQL, whose DDL
// is not transactional, they let Migrate take up a migration that was cut
// short: a step that is done is skipped, and "rekey", which runs again if
// it committed before the migration stopped, finds its work done (it keys
// only rows without a key, merges only slots that share a key, and counts
// the slots anew).
var stepRules = map[string]stepRule{
	"columns":     {skipIf: column{"reservations", "subject_key"}},
	"slot-column": {skipIf: column{"slots", "subject_key"}},
	"keys":        {needs: column{"slots", "subject"}, then: (*Store).fillSubjectKeys},
	"rekey":       {needs: column{"slots", "subject"}, tx: true},
	"key-slots":   {needs: column{"slots", "subject"}},
	"cleanup":     {},
	// Version 4 (schema/mysql/0004_codes_by_instance.sql).
	"codes-index": {skipIfIndex: column{"service_codes", "service_codes_instance"}},
	// Version 6 (schema/mysql/0006_application.sql; on SQLite
	// "application-column" rebuilds the table).
	"application-column":   {skipIf: column{"reservations", "application"}},
	"application-fill":     {tx: true},
	"application-not-null": {},
	"application-index":    {skipIfIndex: column{"reservations", "reservations_application"}},
	"application-routine":  {},
	// Version 7 (schema/<dialect>/0007_certificate_keys.sql): "rekey-v7"
	// re-keys only keys of the map that "rekeys" fills, and a key of
	// version 7 is its own, so every step can run again.
	"rekeys":        {then: (*Store).fillRekeys},
	"rekey-v7":      {tx: true},
	"rekey-cleanup": {},
	// Version 9 (schema/<dialect>/0009_quotas.sql): one ALTER adds both
	// columns; the tables are created only if missing.
	"quota-columns":  {skipIf: column{"reservations", "deregistered"}},
	"quota-tables":   {},
	"quotas-routine": {},
}

// runStep runs the step st of a migration on q, as its rule says.
func (s *Store) runStep(ctx context.Context, q querier, st step) error {
	rule := stepRules[st.name]
	for _, c := range []struct {
		col  column
		want bool // the step runs if the column's existence is want
	}{{rule.skipIf, false}, {rule.needs, true}} {
		if c.col.table == "" {
			continue
		}
		has, err := s.has(ctx, q, s.q.hasColumn, c.col.table, c.col.name)
		if err != nil {
			return err
		}
		if has != c.want {
			return nil
		}
	}
	if rule.skipIfIndex.table != "" {
		has, err := s.has(ctx, q, s.q.hasIndex, rule.skipIfIndex.table, s.prefix+rule.skipIfIndex.name)
		if err != nil {
			return err
		}
		if has {
			return nil
		}
	}
	var err error
	if conn, ok := q.(*sql.Conn); ok && rule.tx && s.d == MySQL {
		err = s.execInTx(ctx, conn, st.stmts)
	} else {
		err = execAll(ctx, q, st.stmts)
	}
	if err == nil && rule.then != nil {
		err = rule.then(s, ctx, q)
	}
	return err
}

// has reports whether the table (named without its prefix) has the column
// or index name, with the statement query: hasColumn or hasIndex. On
// PostgreSQL and SQLite the statement reads the catalog. On MySQL it reads
// the table itself, WHERE FALSE, and the error that an unknown column
// (1054) or index (1176) or a missing table (1146) raises means no: a
// server that is asked many information_schema queries at once was seen
// to crash (MariaDB 10.11), and these read no row.
func (s *Store) has(ctx context.Context, q querier, query, table, name string) (bool, error) {
	if s.d != MySQL {
		var has bool
		err := q.QueryRowContext(ctx, query, s.prefix+table, name).Scan(boolCol{&has})
		return has, err
	}
	stmt := strings.NewReplacer("${t}", s.prefix+table, "${n}", name).Replace(query)
	rows, err := q.QueryContext(ctx, stmt)
	switch mysqlNumber(err) {
	case 0:
	case 1054, 1176, 1146:
		return false, nil
	default:
		return false, err
	}
	return true, rows.Close()
}

// execAll runs stmts on q in order.
func execAll(ctx context.Context, q querier, stmts []string) error {
	for _, stmt := range stmts {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// execInTx runs stmts in one transaction on conn, and commits it unless
// ctx has ended.
func (s *Store) execInTx(ctx context.Context, conn *sql.Conn, stmts []string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := execAll(ctx, tx, stmts); err != nil {
		_ = finish(ctx, tx.Rollback)
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = finish(ctx, tx.Rollback)
		return err
	}
	return finish(ctx, tx.Commit)
}

// v1SubjectKey returns the subject key of a reservation that version 1 of
// the schema kept by the subject's name alone: the key the Verifier gives
// the name without a certificate ("name:" and its canonical form), or, for
// a name that yields none (one the Verifier now refuses), "v1:" and the
// name as it is, a key no request can have.
func v1SubjectKey(name string) string {
	if key, ok := subject.Key(name, subject.ID{}); ok {
		return key
	}
	return "v1:" + name
}

// subjectPageSize is how many rows fillSubjectKeys reads at a time.
const subjectPageSize = 500

// fillSubjectKeys fills ${p}v1_subject_keys with the key of every subject
// of the version-1 tables reservations and slots, reading them a page at a
// time in the order of their primary keys.
func (s *Store) fillSubjectKeys(ctx context.Context, q querier) error {
	for _, src := range []struct {
		query  string
		cursor int // columns read that continue the primary key's order
	}{{s.q.v1Subjects, 1}, {s.q.v1SlotSubjects, 2}} {
		after := []any{"", ""}[:src.cursor]
		for after != nil {
			var subjects []string
			var err error
			subjects, after, err = subjectPage(ctx, q, src.query, after)
			if err == nil {
				err = s.insertSubjectKeys(ctx, q, subjects)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// subjectPage reads the page of subjects after the cursor after with
// query, which selects a key column and the subject, and returns them with
// the cursor of the next page, nil after the last.
func subjectPage(ctx context.Context, q querier, query string, after []any) ([]string, []any, error) {
	args := append(append(make([]any, 0, len(after)+1), after...), subjectPageSize)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var key, subject string
	var subjects []string
	for rows.Next() {
		if err := rows.Scan(&key, &subject); err != nil {
			return nil, nil, err
		}
		subjects = append(subjects, subject)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(subjects) < subjectPageSize {
		return subjects, nil, nil
	}
	return subjects, []any{key, subject}[:len(after)], nil
}

// insertSubjectKeys stores the key of each of subjects in
// ${p}v1_subject_keys, with one statement; a subject stored already is
// left as it is.
func (s *Store) insertSubjectKeys(ctx context.Context, q querier, subjects []string) error {
	if len(subjects) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO ${p}v1_subject_keys (subject, subject_key) VALUES `)
	seen := make(map[string]bool, len(subjects))
	args := make([]any, 0, 2*len(subjects))
	for _, subject := range subjects {
		if seen[subject] {
			continue
		}
		seen[subject] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, subject, v1SubjectKey(subject))
	}
	b.WriteString(s.q.subjectKeysConflict)
	_, err := q.ExecContext(ctx, sqlText(s.d, s.prefix, b.String()), args...)
	return err
}

// rekeyV6 returns the key that this version gives the subject that schema
// version 6 kept under key: for "id:" and a certificate's type and number,
// or "name:" and a canonical name of version 6, subject.Key of them; any
// other key ("v1:" and a name, a key of this version, a key of the
// caller's own) and a key that yields no new one (a name the rules now
// leave empty) as it is, which no request of this version can have.
func rekeyV6(key string) string {
	if rest, ok := strings.CutPrefix(key, "id:"); ok {
		typ, number, ok := strings.Cut(rest, ":")
		if !ok {
			return key // a certificate key of this version: "id:" and a number
		}
		if k, ok := subject.Key("", subject.ID{Type: subject.CertType(typ), Number: number}); ok {
			return k
		}
		return key
	}
	if name, ok := strings.CutPrefix(key, "name:"); ok {
		if k, ok := subject.Key(name, subject.ID{}); ok {
			return k
		}
	}
	return key
}

// fillRekeys fills ${p}v6_subject_keys with every subject key of the
// version-6 tables reservations and slots that rekeyV6 changes, and its
// new key, reading the tables a page at a time in the order of their
// primary keys.
func (s *Store) fillRekeys(ctx context.Context, q querier) error {
	for _, src := range []struct {
		query  string
		cursor int // columns read that continue the primary key's order
	}{{s.q.v6Keys, 1}, {s.q.v6SlotKeys, 2}} {
		after := []any{"", ""}[:src.cursor]
		for after != nil {
			var keys []string
			var err error
			keys, after, err = subjectPage(ctx, q, src.query, after)
			if err == nil {
				err = s.insertRekeys(ctx, q, keys)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// insertRekeys stores in ${p}v6_subject_keys, with one statement, each of
// keys that rekeyV6 changes and its new key; a key stored already is left
// as it is. It fails if a new key would change again, which would merge a
// slot into one that is itself merged away.
func (s *Store) insertRekeys(ctx context.Context, q querier, keys []string) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO ${p}v6_subject_keys (subject_key, new_key) VALUES `)
	seen := make(map[string]bool, len(keys))
	args := make([]any, 0, 2*len(keys))
	for _, key := range keys {
		if seen[key] {
			continue
		}
		seen[key] = true
		next := rekeyV6(key)
		if next == key {
			continue
		}
		if again := rekeyV6(next); again != next {
			return fmt.Errorf("re-keying subject key %q: its new key %q re-keys to %q", key, next, again)
		}
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, key, next)
	}
	if len(args) == 0 {
		return nil
	}
	b.WriteString(s.q.rekeysConflict)
	_, err := q.ExecContext(ctx, sqlText(s.d, s.prefix, b.String()), args...)
	return err
}
