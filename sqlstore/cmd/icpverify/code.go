package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/icpfiling/icpverify"
)

var codeCmd = &command{
	name:     "code",
	synopsis: "[--json] CODE",
	help: `Code prints the status of a service code, as the provider sees it: its
state, instance, owner, grantee and the application it is reserved for,
and whether its filing, once complete, was deregistered.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		asJSON := fs.Bool("json", false, "print JSON")
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "code", "want one service code, got %d arguments", len(args))
			}
			s, closeFn, status := openMigrated(ctx, e, "code", db)
			if s == nil {
				return status
			}
			defer closeFn()
			st, err := icpverify.New(s, s).ServiceCodeStatus(ctx, args[0])
			if err != nil {
				return failure(e, "code", err)
			}
			// A filed reservation may be deregistered since: its slot is
			// free again, its code still used.
			var deregistered bool
			if st.Filed {
				r, err := s.Reservation(ctx, st.Code)
				if err != nil && !errors.Is(err, icpverify.ErrNotFound) {
					return failure(e, "code", err)
				}
				deregistered = err == nil && r.Deregistered
			}
			if *asJSON {
				j := codeJSON(st)
				j.Deregistered = deregistered
				return writeJSON(e, "code", j)
			}
			filed := strconv.FormatBool(st.Filed)
			if deregistered {
				filed += ", deregistered"
			}
			w := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
			for _, kv := range [][2]string{
				{"code", st.Code},
				{"state", fmt.Sprintf("%s (%d)", st.State, st.State.ProviderCode())},
				{"invalid", string(st.Invalid)},
				{"instance", st.Instance},
				{"product", string(st.Product)},
				{"owner", st.Owner},
				{"grantee", st.Grantee},
				{"issued_at", timeText(st.IssuedAt)},
				{"expires_at", timeText(st.ExpiresAt)},
				{"applicant", st.Applicant},
				{"subject", st.Subject},
				{"certificate", certificate(st.SubjectKey)},
				{"subject_key", st.SubjectKey},
				{"website", st.Website},
				{"reserved_at", timeText(st.ReservedAt)},
				{"filed", filed},
			} {
				fmt.Fprintf(w, "%s:\t%s\n", kv[0], dash(kv[1]))
			}
			return flush(e, "code", w)
		}
	},
}

// codeStatusJSON is a CodeStatus as --json prints it.
type codeStatusJSON struct {
	Code         string `json:"code"`
	State        string `json:"state"`
	ProviderCode int    `json:"provider_state"`
	Invalid      string `json:"invalid,omitempty"`
	Instance     string `json:"instance"`
	Product      string `json:"product,omitempty"`
	Owner        string `json:"owner"`
	Grantee      string `json:"grantee,omitempty"`
	IssuedAt     string `json:"issued_at,omitempty"`
	ExpiresAt    string `json:"expires_at,omitempty"`
	Applicant    string `json:"applicant,omitempty"`
	Subject      string `json:"subject,omitempty"`
	Certificate  string `json:"certificate,omitempty"`
	SubjectKey   string `json:"subject_key,omitempty"`
	Website      string `json:"website,omitempty"`
	ReservedAt   string `json:"reserved_at,omitempty"`
	Filed        bool   `json:"filed"`
	Deregistered bool   `json:"deregistered,omitempty"` // code only: the filing was deregistered
}

func codeJSON(st icpverify.CodeStatus) codeStatusJSON {
	return codeStatusJSON{
		Code: st.Code, State: string(st.State), ProviderCode: st.State.ProviderCode(), Invalid: string(st.Invalid),
		Instance: st.Instance, Product: string(st.Product), Owner: st.Owner, Grantee: st.Grantee,
		IssuedAt: timeText(st.IssuedAt), ExpiresAt: timeText(st.ExpiresAt),
		Applicant: st.Applicant, Subject: st.Subject, Certificate: certificate(st.SubjectKey), SubjectKey: st.SubjectKey, Website: st.Website,
		ReservedAt: timeText(st.ReservedAt), Filed: st.Filed,
	}
}

// certificate is the certificate number a subject is keyed by, from its
// subject key ("id:" and the number, see subject.Key): a USCC shows as its
// organisation code, a first-generation resident ID in its 18-digit form.
// It is "" for a subject known by its name.
func certificate(subjectKey string) string {
	number, _ := strings.CutPrefix(subjectKey, "id:")
	if number == subjectKey {
		return ""
	}
	return number
}

// timeText is t in RFC 3339, UTC; "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// writeJSON prints v as indented JSON on stdout.
func writeJSON(e *env, name string, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return failure(e, name, err)
	}
	return 0
}

// flush flushes a tabwriter on stdout.
func flush(e *env, name string, w interface{ Flush() error }) int {
	if err := w.Flush(); err != nil {
		return failure(e, name, err)
	}
	return 0
}

// table returns a tabwriter for a table on w.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
