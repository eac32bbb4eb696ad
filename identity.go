package icpverify

// subjectKeyOf returns the key that identifies the subject of req: its
// certificate if req names one, or else the canonical form of its name. The
// name must be a valid name either way, as it is shown and logged.
func subjectKeyOf(req Request, pol Policy) (string, *Error) {
	name, ok := subjectKey(req.Subject)
	if !ok {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
	}
	if req.SubjectID == (SubjectID{}) {
		if pol.RequireSubjectID {
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonSubjectIDMalformed, Field: "subject_id"}
		}
		return "name:" + name, nil
	}
	id, ok := NormalizeSubjectID(req.SubjectID)
	if !ok {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonSubjectIDMalformed, Field: "subject_id"}
	}
	return "id:" + string(id.Type) + ":" + id.Number, nil
}

// websiteOf returns the canonical domain of req's website, or "" if it
// names none.
func websiteOf(req Request) (string, *Error) {
	if req.Website == "" {
		return "", nil
	}
	site, ok := websiteKey(req.Website)
	if !ok {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "website"}
	}
	return site, nil
}
