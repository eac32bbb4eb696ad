package icphttp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nestedBody has a member of any type, so that nested objects reach the
// checks.
type nestedBody struct {
	Name string `json:"name"`
	Any  any    `json:"any"`
}

func TestFieldNames(t *testing.T) {
	type body struct {
		A      string `json:"a"`
		B      string `json:"b,omitempty"`
		C      string
		D      string `json:"-"`
		E      string `json:",omitempty"`
		hidden string
	}
	_ = body{}.hidden
	assert.Equal(t, schema{"a": nil, "b": nil, "C": nil, "E": nil}, schemaOf(reflect.TypeFor[body]()))
	assert.Equal(t, schema{"product": nil, "service_code": nil, "subject": nil, "website": nil,
		"subject_id": schema{"type": nil, "number": nil}}, schemaOf(reflect.TypeFor[requestBody]()))
	assert.Equal(t, schema{"application": nil}, schemaOf(reflect.TypeFor[applicationBody]()))
	type inner struct {
		X string `json:"x"`
	}
	type outer struct {
		P *inner `json:"p"`
		V inner
	}
	assert.Equal(t, schema{"p": schema{"x": nil}, "V": schema{"x": nil}}, schemaOf(reflect.TypeFor[outer]()))
}

func TestDecodeStrict(t *testing.T) {
	fields := schemaOf(reflect.TypeFor[requestBody]())
	accepted := []struct {
		body string
		want requestBody
	}{
		{`{"product":"ecs","service_code":"C","subject":"S"}`, requestBody{"ecs", "C", "S", subjectIDBody{}, ""}},
		{`{"product":"ecs","service_code":"C","subject":"S","website":"a.example"}`, requestBody{"ecs", "C", "S", subjectIDBody{}, "a.example"}},
		{`{"subject":"S","subject_id":{"type":"uscc","number":"91110000600037341L"}}`,
			requestBody{Subject: "S", SubjectID: subjectIDBody{"uscc", "91110000600037341L"}}},
		{`{"subject_id":{"\u0074ype":"other","number":""}}`, requestBody{SubjectID: subjectIDBody{Type: "other"}}},
		{`{"subject_id":{}}`, requestBody{}},
		{" \n{}\r\n\t ", requestBody{}},
		{`{"subject":"S"}`, requestBody{Subject: "S"}},
		// An escape of the exact name is the exact name.
		{`{"\u0073ubject":"S"}`, requestBody{Subject: "S"}},
		{`{"subject":"杭州示例有限公司 \u00e9"}`, requestBody{Subject: "杭州示例有限公司 é"}},
		{`{"subject":"\ud83d\ude00"}`, requestBody{Subject: "😀"}},
	}
	for _, c := range accepted {
		var got requestBody
		require.NoError(t, decodeStrict([]byte(c.body), &got, fields), c.body)
		assert.Equal(t, c.want, got, c.body)
	}

	refused := []struct{ name, body string }{
		{"empty", ``},
		{"white space", "  \n"},
		{"null", `null`},
		{"array", `[{"subject":"S"}]`},
		{"string", `"subject"`},
		{"number", `5`},
		{"truncated", `{"subject":"S"`},
		{"truncated key", `{"subject"`},
		{"unclosed string", `{"subject":"S}`},
		{"two objects", `{"subject":"S"}{"subject":"T"}`},
		{"trailing garbage", `{"subject":"S"} x`},
		{"trailing comma", `{"subject":"S",}`},
		{"trailing array", `{"subject":"S"}[]`},
		{"duplicate", `{"subject":"S","subject":"T"}`},
		{"duplicate, same value", `{"subject":"S","subject":"S"}`},
		{"duplicate, escaped", `{"subject":"S","\u0073ubject":"T"}`},
		{"duplicate account", `{"account":"alice","account":"bob"}`},
		{"account", `{"product":"ecs","service_code":"C","subject":"S","account":"bob"}`},
		{"capital", `{"Subject":"S"}`},
		{"upper", `{"SUBJECT":"S"}`},
		{"capital after the exact", `{"subject":"S","Subject":"T"}`},
		{"long s", `{"ſubject":"S"}`},
		{"long s escaped", `{"\u017fubject":"S"}`},
		{"long s after the exact", `{"subject":"S","ſubject":"T"}`},
		{"kelvin sign", `{"product":"ecs","service_code":"C","subject":"S","\u212aey":"x"}`},
		{"unknown", `{"servicecode":"C"}`},
		{"null member", `{"subject":null}`},
		{"null website", `{"subject":"S","website":null}`},
		{"capital website", `{"subject":"S","Website":"a.example"}`},
		{"number member", `{"subject":5}`},
		{"object member", `{"subject":{}}`},
		{"array member", `{"subject":["S"]}`},
		{"bool member", `{"subject":true}`},
		{"nested duplicate", `{"subject":{"a":1,"a":2}}`},
		{"invalid UTF-8 in a value", "{\"subject\":\"S\xff\"}"},
		{"invalid UTF-8 in a key", "{\"subject\xc3\":\"S\"}"},
		{"invalid UTF-8 outside strings", "{\"subject\":\"S\"}\xff"},
		{"overlong encoding", "{\"subject\":\"\xc0\xaf\"}"},
		{"UTF-8 BOM", "\xef\xbb\xbf{\"subject\":\"S\"}"},
		{"lone high surrogate", `{"subject":"\ud800"}`},
		{"lone low surrogate", `{"subject":"a\udc00b"}`},
		{"replacement character", `{"subject":"\ufffd"}`},
		{"replacement character, raw", "{\"subject\":\"\uFFFD\"}"},
		{"single quotes", `{'subject':'S'}`},
		{"comment", `{"subject":"S"/* */}`},
		{"control character", "{\"subject\":\"a\x01b\"}"},
		{"null subject_id", `{"subject_id":null}`},
		{"subject_id not an object", `{"subject_id":"91110000600037341L"}`},
		{"subject_id array", `{"subject_id":[{"type":"uscc"}]}`},
		{"subject_id unknown member", `{"subject_id":{"type":"uscc","number":"9","kind":"x"}}`},
		{"subject_id capital member", `{"subject_id":{"Type":"uscc"}}`},
		{"subject_id Kelvin member", `{"subject_id":{"type":"uscc","numbe\u212a":"x"}}`},
		{"subject_id null member", `{"subject_id":{"type":"uscc","number":null}}`},
		{"subject_id duplicate member", `{"subject_id":{"number":"1","number":"2"}}`},
		{"subject_id number not a string", `{"subject_id":{"type":"uscc","number":91110000}}`},
		{"subject_id nested object", `{"subject_id":{"type":{"a":1}}}`},
		{"subject_id lone surrogate", `{"subject_id":{"number":"\ud800"}}`},
		{"Subject_id", `{"Subject_id":{"type":"uscc"}}`},
		{"subjectid", `{"subjectid":{"type":"uscc"}}`},
		{"two subject_ids", `{"subject_id":{"type":"uscc"},"subject_id":{"type":"other"}}`},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			got := requestBody{Subject: "untouched"}
			err := decodeStrict([]byte(c.body), &got, fields)
			assert.Error(t, err, c.body)
			if !utf8.ValidString(c.body) {
				assert.ErrorIs(t, err, errInvalidUTF8)
			}
		})
	}
}

// TestDecodeStrictApplication checks the body of /withdraw: the
// application's identity alone, its form left to the Verifier.
func TestDecodeStrictApplication(t *testing.T) {
	fields := schemaOf(reflect.TypeFor[applicationBody]())
	for _, c := range []struct {
		body string
		want applicationBody
	}{
		{`{"application":"0123456789abcdef0123456789abcdef"}`, applicationBody{"0123456789abcdef0123456789abcdef"}},
		{`{"\u0061pplication":"a1"}`, applicationBody{"a1"}},
		{`{}`, applicationBody{}},
		// Not an identity's form, but a string: the Verifier refuses it.
		{`{"application":"not an id!"}`, applicationBody{"not an id!"}},
	} {
		var got applicationBody
		require.NoError(t, decodeStrict([]byte(c.body), &got, fields), c.body)
		assert.Equal(t, c.want, got, c.body)
	}
	for _, body := range []string{
		`{"application":null}`,
		`{"application":1}`,
		`{"application":["a1"]}`,
		`{"application":{"id":"a1"}}`,
		`{"application":"a1","application":"b2"}`,
		`{"application":"a1","\u0061pplication":"b2"}`,
		`{"Application":"a1"}`,
		`{"APPLICATION":"a1"}`,
		`{"application":"a1","account":"alice"}`,
		`{"application":"a1","service_code":"C"}`,
		`{"service_code":"C"}`,
		`{"application_id":"a1"}`,
		`{"application":"a1"}{"application":"b2"}`,
		`{"application":"\ud800"}`,
		"{\"application\":\"a\xff\"}",
		`"a1"`,
		``,
	} {
		got := applicationBody{Application: "untouched"}
		assert.Error(t, decodeStrict([]byte(body), &got, fields), body)
	}
}

// TestDecodeStrictNested checks the keys of nested objects.
func TestDecodeStrictNested(t *testing.T) {
	fields := schemaOf(reflect.TypeFor[nestedBody]())
	for _, body := range []string{
		`{"any":{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}}`,
		`{"name":"n","any":[1,"x",null,true,{"k":{}}]}`,
		`{"any":[null,{"k":null}]}`, // null below the top level is a value of any
	} {
		var got nestedBody
		assert.NoError(t, decodeStrict([]byte(body), &got, fields), body)
	}
	for _, body := range []string{
		`{"any":null}`,
		`{"any":1e400}`, // out of the range of float64
		`{"any":{"a":1,"a":1}}`,
		`{"any":{"a":1,"A":1}}`,
		`{"any":{"s":1,"ſ":1}}`,
		`{"any":{"k":1,"\u212a":1}}`,
		`{"any":{"b":{"x":1,"y":2,"x":3}}}`,
		`{"any":[{"a":1},{"a":1,"a":2}]}`,
		`{"any":{"\u0061":1,"a":2}}`,
		`{"name":"n","any":{"k":"\ud800"}}`,
		`{"any":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
		`{"any":` + strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth) + `}`,
	} {
		var got nestedBody
		assert.Error(t, decodeStrict([]byte(body), &got, fields), body)
	}
	// The deepest nesting allowed.
	body := `{"any":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`
	var got nestedBody
	assert.NoError(t, decodeStrict([]byte(body), &got, fields))
}

// TestFoldKey checks that foldKey equates exactly the keys that
// strings.EqualFold, and so encoding/json, takes for one.
func TestFoldKey(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		f := unicode.SimpleFold(r)
		if foldKey(string(r)) != foldKey(string(f)) {
			t.Fatalf("foldKey(%q) != foldKey(%q)", r, f)
		}
	}
	pairs := []struct {
		a, b string
	}{
		{"subject", "ſubject"}, {"subject", "SUBJECT"}, {"key", "\u212aey"}, {"service_code", "SERVICE_CODE"},
		{"subject", "subjects"}, {"subject", "subjeçt"}, {"σ", "ς"}, {"ǅ", "ǆ"}, {"a", "b"}, {"", "a"},
	}
	for _, p := range pairs {
		assert.Equal(t, strings.EqualFold(p.a, p.b), foldKey(p.a) == foldKey(p.b), "%q %q", p.a, p.b)
	}
}

// FuzzDecodeStrict checks that decoding never panics and never accepts a
// body that is not valid UTF-8, has a repeated key at any depth (however
// folded or escaped), or a member that is not named exactly.
func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{
		`{"product":"ecs","service_code":"7KQ2-M9XD-4TRB-WH6C","subject":"S"}`,
		`{"subject":"S","subject":"T"}`,
		`{"ſubject":"S"}`,
		`{"Subject":"S"}`,
		`{"account":"bob","subject":"S"}`,
		`{"\u0073ubject":"S","subject":"T"}`,
		`{"name":"n","any":{"a":1,"b":[{"a":1,"A":2}]}}`,
		`{"any":{"k":1,"\u212a":2}}`,
		`{"subject":"\ud800"}`,
		"{\"subject\":\"\xff\"}",
		`{"subject":"S"} {}`,
		`{"application":"0123456789abcdef0123456789abcdef"}`,
		`{"application":"a1","\u0061pplication":"b2"}`,
		`{"Application":"a1"}`,
		`{"application":"a1","account":"bob"}`,
		`{"application":null}`,
		`{"subject":"S","subject_id":{"type":"uscc","number":"91110000600037341L"}}`,
		`{"subject_id":{"type":"uscc","Number":"1"}}`,
		`{"subject_id":{"number":null}}`,
		`{"subject_id":{"type":"x","type":"y"}}`,
		`{"subject_id":{"extra":{"a":1}}}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	fields := schemaOf(reflect.TypeFor[requestBody]())
	app := schemaOf(reflect.TypeFor[applicationBody]())
	nested := schemaOf(reflect.TypeFor[nestedBody]())
	f.Fuzz(func(t *testing.T, data []byte) {
		var req requestBody
		if decodeStrict(data, &req, fields) == nil {
			checkAccepted(t, data, fields)
		}
		var a applicationBody
		if decodeStrict(data, &a, app) == nil {
			checkAccepted(t, data, app)
		}
		var n nestedBody
		if decodeStrict(data, &n, nested) == nil {
			checkAccepted(t, data, nested)
		}
	})
}

// checkAccepted fails t unless data, which decodeStrict accepted, is valid
// UTF-8 and valid JSON, a single object whose members, and those of its
// objects of known members, are named exactly as fields and not null, with
// no repeated key at any depth.
func checkAccepted(t *testing.T, data []byte, fields schema) {
	t.Helper()
	if !utf8.Valid(data) || !json.Valid(data) {
		t.Fatalf("accepted invalid %q", data)
	}
	checkMembers(t, data, data, fields)
	if k, ok := repeatedKey(data); ok {
		t.Fatalf("accepted %q with key %q repeated", data, k)
	}
}

// checkMembers fails t unless raw, a part of the accepted body data, is an
// object whose members are named exactly as fields, not null, and, where
// fields has a schema for a member, an object of it too.
func checkMembers(t *testing.T, data, raw []byte, fields schema) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		t.Fatalf("accepted %q, with %q not an object: %v", data, raw, err)
	}
	for k, v := range obj {
		sub, ok := fields[k]
		if !ok {
			t.Fatalf("accepted %q with member %q", data, k)
		}
		if string(v) == "null" {
			t.Fatalf("accepted %q with member %q null", data, k)
		}
		if sub != nil {
			checkMembers(t, data, v, sub)
		}
	}
}

// repeatedKey returns a key that an object in the valid JSON value raw
// repeats, compared with strings.EqualFold, if there is one. It decodes
// each object into a map and counts its members apart, so it shares no
// code with decodeStrict.
func repeatedKey(raw []byte) (string, bool) {
	switch raw[firstNonSpace(raw)] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return "", false
		}
		if n := countMembers(raw); n != len(m) {
			return "(exact duplicate)", true
		}
		keys := make([]string, 0, len(m))
		for k, v := range m {
			for _, other := range keys {
				if strings.EqualFold(k, other) {
					return k, true
				}
			}
			keys = append(keys, k)
			if k, ok := repeatedKey(v); ok {
				return k, true
			}
		}
	case '[':
		var xs []json.RawMessage
		if json.Unmarshal(raw, &xs) != nil {
			return "", false
		}
		for _, x := range xs {
			if k, ok := repeatedKey(x); ok {
				return k, true
			}
		}
	}
	return "", false
}

// firstNonSpace returns the index of the first byte of raw that is not
// JSON white space.
func firstNonSpace(raw []byte) int {
	for i, b := range raw {
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return i
		}
	}
	return 0
}

// countMembers counts the members of the valid JSON object raw, decoding
// each value whole.
func countMembers(raw []byte) int {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil { // '{'
		return -1
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return -1
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return -1
		}
		n++
	}
	return n
}
