package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLen is the longest text, in bytes, the store keeps in a field: an
// instance ID, account, subject, website, service code, product type,
// region, public IP and so on; a subject key may be up to MaxSubjectKeyLen.
// Longer values are refused with ErrInvalid rather than cut.
const MaxLen = 256

// MaxSubjectKeyLen is the longest subject key, in bytes, the store keeps
// (icpverify.Reservation.SubjectKey): longer than MaxLen, since a key is
// made of a name of up to MaxLen bytes and a prefix, such as "name:".
const MaxSubjectKeyLen = 2 * MaxLen

// ErrInvalid is wrapped by the error for a value the store cannot keep
// faithfully: an empty key, text over MaxLen bytes, not valid UTF-8 or
// holding a NUL byte, or a time outside the years the database holds.
var ErrInvalid = errors.New("sqlstore: invalid value")

// checkText returns an error if s cannot be stored as a text field.
func checkText(field, s string, required bool) error {
	return checkTextLen(field, s, required, MaxLen)
}

// checkSubjectKey returns an error if key cannot be stored as a subject key.
func checkSubjectKey(key string) error {
	return checkTextLen("subject key", key, true, MaxSubjectKeyLen)
}

// checkTextLen returns an error if s cannot be stored as a text field of
// at most maxLen bytes.
func checkTextLen(field, s string, required bool, maxLen int) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	case len(s) > maxLen:
		return fmt.Errorf("%w: %s is %d bytes, over %d", ErrInvalid, field, len(s), maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: %s holds a NUL byte", ErrInvalid, field)
	}
	return nil
}

// MaxApplicationLen is the longest application identity the store keeps
// (icpverify.Reservation.Application), in ASCII letters and digits.
const MaxApplicationLen = 64

// checkApplicationID returns an error if id is not an application
// identity: 1 to MaxApplicationLen ASCII letters and digits.
func checkApplicationID(id string) error {
	if !validApplicationID(id) {
		return fmt.Errorf("%w: application %q is not 1 to %d ASCII letters and digits", ErrInvalid, id, MaxApplicationLen)
	}
	return nil
}

// validApplicationID reports whether id is 1 to MaxApplicationLen ASCII
// letters and digits; no other value is stored, or found.
func validApplicationID(id string) bool {
	if id == "" || len(id) > MaxApplicationLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// checkKey is checkText for a value looked up by key: a value that cannot be
// stored cannot be found either.
func checkKey(s string) bool { return checkKeyLen(s, MaxLen) }

// checkKeyLen is checkKey for a field of at most maxLen bytes.
func checkKeyLen(s string, maxLen int) bool {
	return s != "" && len(s) <= maxLen && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// The layouts of times kept as text.
const (
	sqliteTime = "2006-01-02T15:04:05.000000Z"
	mysqlTime  = "2006-01-02 15:04:05.000000"
)

// timeArg converts t to the value bound for a time column: NULL for the
// zero time, else t in UTC truncated to microseconds.
func (d Dialect) timeArg(field string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	minYear := 1
	if d == MySQL {
		minYear = 1000 // DATETIME's range
	}
	if y := t.Year(); y < minYear || y > 9999 {
		return nil, fmt.Errorf("%w: %s %s is outside the years %d to 9999", ErrInvalid, field, t.Format(time.RFC3339), minYear)
	}
	switch d {
	case SQLite:
		return t.Format(sqliteTime), nil
	case MySQL:
		// A string, so that the driver's loc setting cannot shift it.
		return t.Format(mysqlTime), nil
	}
	return t, nil
}

// timeCol scans a time column of any dialect into a UTC time.Time; NULL
// gives the zero time.
type timeCol struct {
	d Dialect
	t *time.Time
}

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case time.Time:
		if c.d == MySQL {
			// DATETIME has no zone; the driver read it in its loc.
			// The wall clock is UTC.
			v = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
		}
		*c.t = v.UTC()
		return nil
	case []byte:
		return c.parse(string(v))
	case string:
		return c.parse(v)
	}
	return fmt.Errorf("sqlstore: malformed time column: unexpected %T", src)
}

// parse reads a time kept as text, in any of the layouts the dialects
// return, into c.
func (c timeCol) parse(s string) error {
	for _, layout := range []string{sqliteTime, time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			*c.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: malformed time column: %q", s)
}

// boolCol scans a boolean column: BOOLEAN, TINYINT(1) or INTEGER 0/1.
type boolCol struct{ b *bool }

// Scan implements sql.Scanner.
func (c boolCol) Scan(src any) error {
	var n sql.NullBool
	if err := n.Scan(src); err != nil {
		return fmt.Errorf("sqlstore: malformed boolean column: %w", err)
	}
	if !n.Valid {
		return errors.New("sqlstore: malformed boolean column: NULL")
	}
	*c.b = n.Bool
	return nil
}
