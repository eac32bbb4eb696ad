package icpverify

import "github.com/icpfiling/icpverify/subject"

// subjectKeyOf returns the key that identifies the subject of req, as
// subject.Key does. The name must be a valid name even with a SubjectID, as
// it is shown and logged.
func subjectKeyOf(req *Request, pol Policy) (string, *Error) {
	if req.SubjectID == (subject.ID{}) {
		if pol.RequireSubjectID {
			if !subject.ValidName(req.Subject) {
				return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
			}
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonSubjectIDMalformed, Field: "subject_id"}
		}
		key, ok := subject.Key(req.Subject, subject.ID{})
		if !ok {
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
		}
		return key, nil
	}
	if !subject.ValidName(req.Subject) {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
	}
	key, ok := subject.Key("", req.SubjectID)
	if !ok {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonSubjectIDMalformed, Field: "subject_id"}
	}
	return key, nil
}

// websiteOf returns the canonical domain of req's website, or "" if it
// names none.
func websiteOf(req *Request) (string, *Error) {
	if req.Website == "" {
		return "", nil
	}
	site, ok := websiteKey(req.Website)
	if !ok {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "website"}
	}
	return site, nil
}
