package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/icpfiling/icpverify"
)

// lenient is a row as encoding/json alone reads it.
type lenient struct {
	ID         string `json:"id"`
	Account    string `json:"account"`
	Product    string `json:"product"`
	Region     string `json:"region"`
	Billing    string `json:"billing"`
	TermMonths int    `json:"term_months"`
	PublicIP   string `json:"public_ip"`
	Trial      bool   `json:"trial"`
	Status     string `json:"status"`
	ExpiresAt  string `json:"expires_at"`
}

func jsonSeeds(f *testing.F) {
	for _, s := range []string{
		`{"id":"i-1","account":"acct","product":"ecs","region":"cn-hangzhou","billing":"subscription","term_months":12,"public_ip":"203.0.113.1","trial":false,"status":"running","expires_at":"2027-06-01T00:00:00Z"}`,
		`{"id":"i-only-id"}`, `{"id":"i-1","id":"i-2"}`, `{"ID":"x"}`, `{"id":null}`, `{} {}`, `[1]`, `"x"`, `{"id":"a`,
		`{"id":"i-1","account":"acct","product":"ECS","status":"RUNNING","public_ip":"::FFFF:1.2.3.4"}`,
		`{"id":" i","account":"a\u200b","product":"vm","status":"on","term_months":-1,"public_ip":"not-an-ip"}`,
		"{\"id\":\"\xff\"}", `{"term_months":1e3}`, `{"trial":"yes"}`, `{}`, `null`, `{"\u0069d":"x"}`, `{"id":"a\"}\\"}`,
		`{"id":"x","region":{"a":[1,{"b":2}]}}`, `{"id":"x","id":"x"}`, `{"trial":true,"trial":false}`, `{"Id":"x"}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseJSONLine: the strict parser never panics; what it accepts,
// encoding/json reads the same; an instance it makes is canonical and
// comes back the same through a line written from it.
func FuzzParseJSONLine(f *testing.F) {
	jsonSeeds(f)
	known := products(append(catalogue(), "gpu"))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := parseJSONLine(line)
		if err != nil {
			return
		}
		var l lenient
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", line, err)
		}
		if record(l) != rec {
			t.Fatalf("%q: read as %+v, encoding/json reads %+v", line, rec, l)
		}
		inst, err := rec.instance(known)
		if err != nil {
			return
		}
		checkCanonical(t, inst, known)
		again, err := parseJSONLine(lineOf(t, inst))
		if err != nil {
			t.Fatalf("the line of %+v: %v", inst, err)
		}
		inst2, err := again.instance(known)
		if err != nil || inst2 != inst {
			t.Fatalf("%+v came back as %+v, %v", inst, inst2, err)
		}
	})
}

// checkCanonical fails t unless inst is as import stores it.
func checkCanonical(t *testing.T, inst icpverify.Instance, known products) {
	t.Helper()
	for _, v := range []string{inst.ID, inst.Account} {
		if v == "" || len(v) > maxField || plain(v) != nil {
			t.Fatalf("%+v: %q is not a plain field", inst, v)
		}
	}
	if inst.Region != "" && plain(inst.Region) != nil {
		t.Fatalf("%+v: region not plain", inst)
	}
	if !slices.Contains(known, inst.Product) {
		t.Fatalf("%+v: product not canonical", inst)
	}
	switch inst.Status {
	case icpverify.Running, icpverify.Stopped, icpverify.Released:
	default:
		t.Fatalf("%+v: status not canonical", inst)
	}
	switch inst.Billing {
	case "", icpverify.Subscription, icpverify.PayAsYouGo:
	default:
		t.Fatalf("%+v: billing not canonical", inst)
	}
	if inst.PublicIP != "" {
		ip, err := netip.ParseAddr(inst.PublicIP)
		if err != nil || ip.String() != inst.PublicIP {
			t.Fatalf("%+v: public IP not canonical", inst)
		}
	}
	if inst.TermMonths < 0 {
		t.Fatalf("%+v: negative term", inst)
	}
}

// lineOf writes inst as a line of JSON Lines.
func lineOf(t *testing.T, inst icpverify.Instance) []byte {
	t.Helper()
	l := lenient{ID: inst.ID, Account: inst.Account, Product: string(inst.Product), Region: inst.Region,
		Billing: string(inst.Billing), TermMonths: inst.TermMonths, PublicIP: inst.PublicIP, Trial: inst.Trial, Status: string(inst.Status)}
	if !inst.ExpiresAt.IsZero() {
		l.ExpiresAt = inst.ExpiresAt.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkLines fails t unless the lines of rows read from input go up, each
// within the input.
func checkLines(t *testing.T, input []byte, read func(rowFunc) error) {
	t.Helper()
	last, lines := 0, bytes.Count(input, []byte("\n"))+1
	err := read(func(line int, rec record, rerr error) error {
		if line <= last || line > lines {
			t.Fatalf("row on line %d after line %d, of %d lines", line, last, lines)
		}
		last = line
		if rerr == nil && !utf8.ValidString(rec.ID+rec.Account+rec.Product+rec.Region+rec.Billing+rec.PublicIP+rec.Status+rec.ExpiresAt) {
			t.Fatalf("line %d: a row not valid UTF-8 taken", line)
		}
		return nil
	})
	if err != nil && strings.Contains(err.Error(), "panic") {
		t.Fatal(err)
	}
}

// FuzzReadJSONL: reading any input never panics, and reports rows by
// lines that go up.
func FuzzReadJSONL(f *testing.F) {
	jsonSeeds(f)
	f.Add([]byte("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\r\n" + strings.Repeat("x", maxRow+2) + "\n{}"))
	f.Fuzz(func(t *testing.T, input []byte) {
		checkLines(t, input, func(fn rowFunc) error { return readJSONL(bytes.NewReader(input), fn) })
	})
}

// FuzzReadCSV: the same for CSV.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"id,account,product,status\nc-1,acct,ecs,running\n", "id\n\"a\nb\",x\n", "\ufeffid,trial\nx,maybe\n", "id,id\n",
		"id,account\n\"c-1\",\"unterminated\n", "id,term_months\nx,1e3\n", "id,colour\n", "\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		checkLines(t, input, func(fn rowFunc) error { return readCSV(bytes.NewReader(input), fn) })
	})
}

// FuzzParseWindow: a window is never negative nor over 100 years, and
// whole days print as they were given.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"30d", "720h", "-1d", "36501d", "1h30m", "", "0", "1e9h", "+5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWindow(s)
		if err != nil {
			return
		}
		if d < 0 || d > maxWindowDays*24*time.Hour {
			t.Fatalf("%q: %v", s, d)
		}
		w := window(d)
		if d2, err := parseWindow(w.String()); err != nil || d2 != d {
			t.Fatalf("%q: %v printed as %q, read back as %v, %v", s, d, w.String(), d2, err)
		}
	})
}

// FuzzDatabaseURL: no database URL or DSN makes the parser panic, and a
// password never shows in what the command prints of it.
func FuzzDatabaseURL(f *testing.F) {
	for _, s := range [][2]string{
		{"root:%s@tcp(127.0.0.1:3306)/test", "hunter2"}, {"mysql://u:%s@db/icp", "s3cr3t!"},
		{"postgres://u:%s@db/icp?sslmode=disable", "pa:ss"}, {"u:%s@unix(/run/x.sock)/db?parseTime=maybe", "p@ss/w"},
		{"sqlite:%s", "x"}, {"%s", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, pass string) {
		raw := strings.Replace(pattern, "%s", pass, 1)
		_, err := parseDatabaseURL(raw)
		p := password(raw)
		if p == "" || len(p) < 6 || strings.Count(raw, p) != 1 || strings.Contains("xxxxx", p) {
			return // a password that shows elsewhere cannot be told from the rest
		}
		if strings.Contains(redact(raw), p) {
			t.Fatalf("redact(%q) = %q shows the password", raw, redact(raw))
		}
		if err != nil && strings.Contains(err.Error(), p) {
			t.Fatalf("%q: %v shows the password", raw, err)
		}
	})
}
