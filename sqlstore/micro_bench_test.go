package sqlstore_test

import (
	"context"
	"testing"

	"github.com/icpfiling/icpverify"
)

func BenchmarkMicro(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			skipUnlessAvailable(b, d)
			s := newDatabase(b, d).store(b)
			v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
			ctx := context.Background()
			req := issueCodes(b, s, v, 1)[0]
			res, err := v.Verify(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("ServiceCode", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.ServiceCode(ctx, req.ServiceCode); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Instance", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Instance(ctx, res.Instance); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("ReserveHeld", func(b *testing.B) {
				r := icpverify.Reservation{Code: res.ServiceCode, Instance: res.Instance, Account: req.Account, Subject: req.Subject}
				for b.Loop() {
					if o, _, err := s.Reserve(ctx, r, 5); err != nil || o != icpverify.Held {
						b.Fatal(o, err)
					}
				}
			})
		})
	}
}
