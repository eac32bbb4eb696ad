package icpverify

import "strings"

// subjectKeyOf returns the key that identifies the subject of req.
func subjectKeyOf(req Request, _ Policy) (string, *Error) {
	if e := checkField("subject", req.Subject); e != nil {
		return "", e
	}
	return "name:" + req.Subject, nil
}

// websiteOf returns the canonical domain of req's website, or "" if it
// names none.
func websiteOf(req Request) (string, *Error) {
	if req.Website == "" {
		return "", nil
	}
	if e := checkField("website", req.Website); e != nil {
		return "", e
	}
	return strings.TrimSuffix(strings.ToLower(req.Website), "."), nil
}
