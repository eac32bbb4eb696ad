// Package subject identifies the subject of an ICP filing: the organisation
// or person a website is filed for, whom a cloud product's quota of filing
// subjects counts.
//
// A subject is known by its certificate, an ID, when one is given: its type
// and number as Normalize reads them offline, whatever case, width, spaces
// and dashes they were typed with, so that the unified social credit code
// of a company is one subject under any name. Without a certificate it is
// known by its name, ignoring case, width, spacing and invisible
// characters, so that a Chinese company name typed with an input method's
// full-width brackets is the name typed with ASCII ones. Key gives the key
// a subject's slot is kept under. A subject named once by its certificate
// and once by its name alone has two keys.
package subject

// Key returns the key under which a subject's slot is kept and codes are
// bound to it: "id:" with the certificate's type and number as Normalize
// gives them, if id is not the zero ID; otherwise "name:" with the
// canonical form of name, which ignores case, width, spacing and invisible
// characters. It reports false if id is not well formed, or if it is zero
// and name is not a valid name (see ValidName). The name is not read when
// id is given. A store that upgrades reservations kept under a subject's
// name calls it to key them as the Verifier of package icpverify does.
func Key(name string, id ID) (string, bool) {
	if id != (ID{}) {
		id, ok := Normalize(id)
		if !ok {
			return "", false
		}
		return "id:" + string(id.Type) + ":" + id.Number, true
	}
	return prefixedNameKey("name:", name)
}
