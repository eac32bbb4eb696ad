package icphttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays in a request body.
const maxDepth = 32

// Why a body is refused. They reach the log, never the client.
var (
	errEmpty       = errors.New("empty body")
	errInvalidUTF8 = errors.New("the body is not valid UTF-8")
	errNotObject   = errors.New("the body is not a JSON object")
	errTrailing    = errors.New("data after the JSON object")
	errTooDeep     = errors.New("objects or arrays nested too deep")
	errNull        = errors.New("a member is null")
	errReplacement = errors.New("a string holds U+FFFD or an unpaired surrogate")
)

// schema is the members a JSON object of a request body may have: each
// member's exact name, and the schema of its value if that is an object of
// known members (a struct), nil otherwise.
type schema map[string]schema

// schemaOf returns the schema of struct type t: its exported fields, named
// by their json tags or their names, each with the schema of its type if
// that is a struct or a pointer to one.
func schemaOf(t reflect.Type) schema {
	s := schema{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		var sub schema
		if ft.Kind() == reflect.Struct {
			sub = schemaOf(ft)
		}
		s[name] = sub
	}
	return s
}

// frame is an object or array open in the body being checked.
type frame struct {
	object  bool
	wantKey bool                // an object's next token is a key or '}'
	keys    map[string]struct{} // an object's keys so far, folded
	// fields are the members the object may have, if it is the body or
	// an object of known members; nil for any other object, whose keys
	// are checked for repeats alone.
	fields schema
	// next is the schema of the value of the object's last key.
	next schema
}

// decodeStrict decodes data, a request body, into dst, a pointer to a
// struct whose schema is fields, more strictly than json.Unmarshal does.
// data must be valid UTF-8 and hold one JSON object and nothing after it
// but white space. Its members, and those of any object of known members
// in it (such as "subject_id"), must be named exactly as fields (no other
// name, nor one that differs from a field's only by case or Unicode
// folding, such as "Subject" or "ſubject"), none null. No
// object at any depth may repeat a key, even folded or escaped
// differently, and no string may hold U+FFFD, which is what
// encoding/json makes of an unpaired surrogate escape. A member left out
// leaves its field as it was.
//
// It reads the body as a stream of tokens (json.Decoder.Token) to check
// all this, then lets json.Unmarshal check the types and fill dst.
func decodeStrict(data []byte, dst any, fields schema) error {
	if !utf8.Valid(data) {
		return errInvalidUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // no number is out of range while checking
	if err := openObject(dec); err != nil {
		return err
	}
	if err := walkObject(dec, fields); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return json.Unmarshal(data, dst)
}

// openObject reads the first token of a body, which must open an object.
func openObject(dec *json.Decoder) error {
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return errEmpty
	case err != nil:
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	return nil
}

// walkObject reads the tokens of the object openObject opened, to its
// end, checking every key and value at every depth.
func walkObject(dec *json.Decoder, fields schema) error {
	stack := []frame{{object: true, wantKey: true, fields: fields}}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		top := &stack[len(stack)-1]
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top.object && top.wantKey {
			key, _ := tok.(string) // the decoder allows only a string here
			if err := checkKey(top, key); err != nil {
				return err
			}
			top.wantKey = false
			continue
		}
		if top.object {
			top.wantKey = true
		}
		if stack, err = checkValue(stack, tok); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks a value token at the depth of stack, and returns the
// stack with the object or array it opens, if any.
func checkValue(stack []frame, tok json.Token) ([]frame, error) {
	switch t := tok.(type) {
	case nil:
		if stack[len(stack)-1].fields != nil {
			return stack, errNull
		}
	case string:
		if strings.ContainsRune(t, utf8.RuneError) {
			return stack, errReplacement
		}
	case json.Delim: // '{' or '['
		if len(stack) >= maxDepth {
			return stack, errTooDeep
		}
		var fields schema
		if top := stack[len(stack)-1]; top.object && t == '{' {
			fields = top.next
		}
		stack = append(stack, frame{object: t == '{', wantKey: t == '{', fields: fields})
	}
	return stack, nil
}

// checkKey checks the key of a member of the object f: in an object of
// known members, it must be one of f.fields, exactly; in any object, it
// must not fold to a key that f already has.
func checkKey(f *frame, key string) error {
	if strings.ContainsRune(key, utf8.RuneError) {
		return errReplacement
	}
	if f.fields != nil {
		sub, ok := f.fields[key]
		if !ok {
			for name := range f.fields {
				if strings.EqualFold(key, name) {
					return fmt.Errorf("member %q is not %q: names are exact", key, name)
				}
			}
			return fmt.Errorf("unknown member %q", key)
		}
		f.next = sub
	}
	folded := foldKey(key)
	if _, dup := f.keys[folded]; dup {
		return fmt.Errorf("member %q repeated", key)
	}
	if f.keys == nil {
		f.keys = make(map[string]struct{})
	}
	f.keys[folded] = struct{}{}
	return nil
}

// foldKey returns a key with each rune replaced by the least rune that
// folds to it, so that two keys fold to the same string exactly when
// strings.EqualFold, and so encoding/json, takes them for one.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
