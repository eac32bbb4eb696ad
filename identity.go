package icpverify

// SubjectKey returns the key under which the Verifier keeps the slot of a
// subject, and binds codes to it (Reservation.SubjectKey): "id:" with the
// certificate's type and number as NormalizeSubjectID gives them, if id is
// not the zero SubjectID; otherwise "name:" with the canonical form of name,
// which ignores case, width, spacing and invisible characters. It reports
// false if id is not well formed, or if it is zero and name is not a valid
// name: empty once folded, too long, not valid UTF-8, or holding control or
// bidirectional characters. A store that upgrades reservations kept under
// a subject's name calls it to key them as the Verifier does.
func SubjectKey(name string, id SubjectID) (string, bool) {
	if id != (SubjectID{}) {
		id, ok := NormalizeSubjectID(id)
		if !ok {
			return "", false
		}
		return "id:" + string(id.Type) + ":" + id.Number, true
	}
	return prefixedSubjectKey("name:", name)
}

// subjectKeyOf returns the key that identifies the subject of req, as
// SubjectKey does. The name must be a valid name even with a SubjectID, as
// it is shown and logged.
func subjectKeyOf(req *Request, pol Policy) (string, *Error) {
	if req.SubjectID == (SubjectID{}) {
		if pol.RequireSubjectID {
			if !validSubjectName(req.Subject) {
				return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
			}
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonSubjectIDMalformed, Field: "subject_id"}
		}
		key, ok := prefixedSubjectKey("name:", req.Subject)
		if !ok {
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
		}
		return key, nil
	}
	if !validSubjectName(req.Subject) {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
	}
	key, ok := SubjectKey("", req.SubjectID)
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
