package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// maxField is the longest text, in bytes, a field of a row may hold: the
// store keeps no more, and the Verifier takes no longer instance ID or
// account from an applicant.
const maxField = sqlstore.MaxLen

// record is an instance as a row gives it.
type record struct {
	ID         string
	Account    string
	Product    string
	Region     string
	Billing    string
	TermMonths int
	PublicIP   string
	Trial      bool
	Status     string
	ExpiresAt  string
}

// fieldNames returns the names of a record's fields in a row, in the order
// of the help text.
func fieldNames() [10]string {
	return [...]string{"id", "account", "product", "region", "billing",
		"term_months", "public_ip", "trial", "status", "expires_at"}
}

// field returns the field of r named name, as the pointer JSON decodes
// into, or nil if there is none.
func (r *record) field(name string) any {
	switch name {
	case "id":
		return &r.ID
	case "account":
		return &r.Account
	case "product":
		return &r.Product
	case "region":
		return &r.Region
	case "billing":
		return &r.Billing
	case "term_months":
		return &r.TermMonths
	case "public_ip":
		return &r.PublicIP
	case "trial":
		return &r.Trial
	case "status":
		return &r.Status
	case "expires_at":
		return &r.ExpiresAt
	}
	return nil
}

// catalogue is the product types of icpverify's catalogue, which import
// takes without --product.
func catalogue() []icpverify.ProductType {
	return []icpverify.ProductType{icpverify.ProductECS, icpverify.ProductSimpleApplicationServer,
		icpverify.ProductSLB, icpverify.ProductACK, icpverify.ProductOSS, icpverify.ProductCDN}
}

// products is the set of product types an import takes, in canonical
// (lower-case) form.
type products []icpverify.ProductType

// validProductName reports whether s can name a product type of the
// operator's own: 1 to 32 lower-case ASCII letters, digits, '-' or '_',
// starting with a letter.
func validProductName(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// asciiLower is s in lower case if s is ASCII, and ok; Unicode case
// folding is not taken (the Kelvin sign is no "k").
func asciiLower(s string) (lower string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// oneOf returns the canonical value of v among want, compared without
// ASCII case, or false.
func oneOf[T ~string](v string, want []T) (T, bool) {
	lower, ok := asciiLower(v)
	if !ok {
		return "", false
	}
	i := slices.Index(want, T(lower))
	if i < 0 {
		return "", false
	}
	return want[i], true
}

// list is the values of want for a message: "a", "b" or "c".
func list[T ~string](want []T) string {
	var b strings.Builder
	for i, w := range want {
		switch {
		case i == 0:
		case i == len(want)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(string(w)))
	}
	return b.String()
}

// show is s as a message shows it: as it is if it is plain text, else
// quoted with Go's escapes, so that no control character, invisible
// character or bidirectional override reaches the terminal. Long text is
// cut.
func show(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s != "" && plain(s) == nil {
		return s
	}
	return strconv.Quote(s)
}

// plain returns an error if s is not plain text: valid UTF-8 made of
// visible characters alone, no space, no control, format or unassigned
// character. An instance ID, a region and an account are plain.
func plain(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '\u2800' || r == '\u3164' || r == '\uffa0' || r == '\u115f' || r == '\u1160':
			return errors.New("holds a space")
		case !unicode.IsGraphic(r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r):
			return fmt.Errorf("holds the invisible or control character %U", r)
		}
	}
	return nil
}

// word checks a plain field of a row: present if required, at most
// maxField bytes, and plain.
func word(name, v string, required bool) error {
	switch {
	case v == "" && required:
		return fmt.Errorf("%s is missing", name)
	case v == "":
		return nil
	case len(v) > maxField:
		return fmt.Errorf("%s is %d bytes, over %d", name, len(v), maxField)
	}
	if err := plain(v); err != nil {
		return fmt.Errorf("%s %s %w", name, show(v), err)
	}
	return nil
}

// instance checks r and returns its instance, in canonical form: product,
// billing and status in lower case, the public IP as net/netip writes it.
// It names every problem of the row, not the first alone.
func (r record) instance(known products) (icpverify.Instance, error) {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(word("id", r.ID, true))
	add(word("account", r.Account, true))
	add(word("region", r.Region, false))
	inst := icpverify.Instance{ID: r.ID, Account: r.Account, Region: r.Region, TermMonths: r.TermMonths, Trial: r.Trial}
	r.kinds(&inst, known, add)
	r.values(&inst, add)
	if len(errs) > 0 {
		return icpverify.Instance{}, joined(errs)
	}
	return inst, nil
}

// kinds sets the product, status and billing of inst, in canonical form,
// from those of r, or adds what is wrong with them.
func (r record) kinds(inst *icpverify.Instance, known products, add func(error)) {
	var ok bool
	if r.Product == "" {
		add(errors.New("product is missing"))
	} else if inst.Product, ok = oneOf(r.Product, known); !ok {
		add(fmt.Errorf("product %s is unknown: want %s (in any case)", show(r.Product), list(known)))
	}
	if r.Status == "" {
		add(errors.New("status is missing"))
	} else if inst.Status, ok = oneOf(r.Status, []icpverify.Status{icpverify.Running, icpverify.Stopped, icpverify.Released}); !ok {
		add(fmt.Errorf("status %s: want %q, %q or %q", show(r.Status), icpverify.Running, icpverify.Stopped, icpverify.Released))
	}
	if r.Billing != "" {
		if inst.Billing, ok = oneOf(r.Billing, []icpverify.Billing{icpverify.Subscription, icpverify.PayAsYouGo}); !ok {
			add(fmt.Errorf("billing %s: want %q or %q", show(r.Billing), icpverify.Subscription, icpverify.PayAsYouGo))
		}
	}
}

// values sets the public IP and the end of term of inst from those of r,
// or adds what is wrong with them and with the term.
func (r record) values(inst *icpverify.Instance, add func(error)) {
	if r.TermMonths < 0 {
		add(fmt.Errorf("term_months %d is negative", r.TermMonths))
	}
	if r.PublicIP != "" {
		ip, err := netip.ParseAddr(r.PublicIP)
		switch {
		case err != nil:
			add(fmt.Errorf("public_ip %s is not an IP address", show(r.PublicIP)))
		case ip.Zone() != "":
			add(fmt.Errorf("public_ip %s has a zone", show(r.PublicIP)))
		default:
			inst.PublicIP = ip.String()
		}
	}
	if r.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, r.ExpiresAt)
		if err != nil {
			add(fmt.Errorf("expires_at %s is not an RFC 3339 time", show(r.ExpiresAt)))
		}
		inst.ExpiresAt = t
	}
}

// joined is errs as one error, "; " between them.
func joined(errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// maxRow is the longest row, in bytes, import reads; a row is ten fields
// of at most maxField bytes.
const maxRow = 64 << 10

// parseJSONLine reads a line of JSON Lines: one object whose members are
// fields of record, each named exactly and at most once (encoding/json
// alone would take "ID" for "id" and keep the last of two "id"). A null
// member is as if absent. The line must be valid UTF-8, which
// encoding/json would otherwise mend silently.
func parseJSONLine(line []byte) (record, error) {
	var rec record
	if !utf8.Valid(line) {
		return rec, errors.New("the line is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil {
		return rec, jsonError(err)
	}
	if tok != json.Delim('{') {
		return rec, errors.New("want a JSON object")
	}
	names := fieldNames()
	var seen [len(names)]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rec, jsonError(err)
		}
		name, _ := tok.(string)
		dst := rec.field(name)
		if dst == nil {
			return rec, fmt.Errorf("unknown field %s: want %s", show(name), list(names[:]))
		}
		i := slices.Index(names[:], name)
		if seen[i] {
			return rec, fmt.Errorf("field %q twice", name)
		}
		seen[i] = true
		if err := dec.Decode(dst); err != nil {
			return rec, fmt.Errorf("%s: %w", name, jsonError(err))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return rec, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rec, errors.New("text after the JSON object")
	}
	return rec, nil
}

// jsonError is err of encoding/json in the words of a row.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a string"
		switch te.Type.Kind() {
		case reflect.Int:
			want = "a whole number"
		case reflect.Bool:
			want = "true or false"
		}
		return fmt.Errorf("want %s, not a JSON %s", want, te.Value)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON object is cut short")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not JSON: %v", se)
	}
	return err
}

// csvColumns maps the names of a CSV header row to their columns. Every
// name must be a field of record, once, and id must be there.
func csvColumns(header []string) (map[string]int, error) {
	col := map[string]int{}
	names := fieldNames()
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if !slices.Contains(names[:], name) {
			return nil, fmt.Errorf("line 1: unknown column %s in the header row", strconv.Quote(name))
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("line 1: column %q twice in the header row", name)
		}
		col[name] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, errors.New("line 1: the header row has no id column")
	}
	return col, nil
}

// csvRecord reads a CSV row into a record, with the columns of col.
func csvRecord(col map[string]int, row []string) (record, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	for _, v := range row {
		if !utf8.ValidString(v) {
			return record{}, errors.New("the row is not valid UTF-8")
		}
	}
	rec := record{ID: get("id"), Account: get("account"), Product: get("product"), Region: get("region"),
		Billing: get("billing"), PublicIP: get("public_ip"), Status: get("status"), ExpiresAt: get("expires_at")}
	if v := get("term_months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return rec, fmt.Errorf("term_months %s is not a whole number", show(v))
		}
		rec.TermMonths = n
	}
	if v := get("trial"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return rec, fmt.Errorf("trial %s is not true or false", show(v))
		}
		rec.Trial = b
	}
	return rec, nil
}
