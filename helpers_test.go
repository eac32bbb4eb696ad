package icpverify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
	"github.com/stretchr/testify/require"
)

// t0 is the fixtures' "now".
var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// clock is a settable clock, safe for concurrent use.
type clock struct{ now atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	return c
}

func (c *clock) Now() time.Time  { return *c.now.Load() }
func (c *clock) Set(t time.Time) { c.now.Store(&t) }

// fixture is a Verifier on a memory store, with a settable clock.
type fixture struct {
	t     testing.TB
	store MemoryStore
	clock *clock
	v     *Verifier
}

func newFixture(t testing.TB, opts ...Option) *fixture {
	f := &fixture{t: t, store: NewMemoryStore(), clock: newClock(t0)}
	f.v = New(f.store, f.store, append([]Option{WithClock(f.clock.Now)}, opts...)...)
	return f
}

// ecs returns an eligible ECS instance of account.
func ecs(id, account string) Instance {
	return Instance{
		ID:         id,
		Account:    account,
		Product:    ProductECS,
		Region:     "cn-hangzhou",
		Billing:    Subscription,
		TermMonths: 12,
		PublicIP:   "203.0.113.10",
		Status:     Running,
		ExpiresAt:  t0.AddDate(1, 0, 0),
	}
}

// put stores instances.
func (f *fixture) put(insts ...Instance) {
	f.t.Helper()
	for _, inst := range insts {
		require.NoError(f.t, f.store.PutInstanceContext(context.Background(), inst))
	}
}

// issue issues a code from an instance, failing the test on error.
func (f *fixture) issue(instance, account string) string {
	f.t.Helper()
	code, err := f.v.IssueServiceCode(context.Background(), instance, account)
	require.NoError(f.t, err)
	return code
}

// instanceWithCode puts an eligible ECS instance and issues one code.
func (f *fixture) instanceWithCode(id, account string) string {
	f.t.Helper()
	f.put(ecs(id, account))
	return f.issue(id, account)
}

// request returns a Request for an ECS code, for the subject of that name
// with its certificate (see certOf).
func request(code, account, name string) Request {
	return Request{Product: ProductECS, ServiceCode: code, Account: account, Subject: name, SubjectID: certOf(name)}
}

// certOf returns a certificate for the subject of that name, as the
// fixtures give it: one per canonical name, so that names the rules key
// as one get one certificate; the zero ID for a name that has no key.
func certOf(name string) subject.ID {
	key, ok := subject.Key(name, subject.ID{})
	if !ok {
		return subject.ID{}
	}
	sum := sha256.Sum256([]byte(key))
	return subject.ID{Type: subject.CertOther, Number: "T" + strings.ToUpper(hex.EncodeToString(sum[:8]))}
}

// keyOf returns the subject key the Verifier gives the subject of req.
func keyOf(t testing.TB, req Request) string {
	t.Helper()
	key, ok := subject.Key(req.Subject, req.SubjectID)
	require.True(t, ok, "%q %+v", req.Subject, req.SubjectID)
	return key
}

// used returns the number of subjects holding a slot on instance.
func (f *fixture) used(instance string) int {
	f.t.Helper()
	n, _, err := f.store.Usage(context.Background(), instance, "")
	require.NoError(f.t, err)
	return n
}

// failingStore fails every call with err after the stores it wraps answer
// the calls named in pass.
type failingStore struct {
	MemoryStore
	err  error
	fail map[string]bool
}

func (s *failingStore) check(op string) error {
	if s.fail[op] {
		return fmt.Errorf("%s: %w", op, s.err)
	}
	return nil
}

func (s *failingStore) Instance(ctx context.Context, id string) (Instance, error) {
	if err := s.check("Instance"); err != nil {
		return Instance{}, err
	}
	return s.MemoryStore.Instance(ctx, id)
}

func (s *failingStore) ServiceCode(ctx context.Context, code string) (ServiceCode, error) {
	if err := s.check("ServiceCode"); err != nil {
		return ServiceCode{}, err
	}
	return s.MemoryStore.ServiceCode(ctx, code)
}

// LookupServiceCode fails as ServiceCode or Instance would, so that the
// failures reach a Verifier that reads through the lookup.
func (s *failingStore) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	for _, op := range []string{"LookupServiceCode", "ServiceCode", "Instance"} {
		if err := s.check(op); err != nil {
			return CodeRecord{}, err
		}
	}
	return s.MemoryStore.LookupServiceCode(ctx, code)
}

// ReserveServiceCode reads and reserves through the failing methods.
func (s *failingStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	return reserveAsRead(ctx, s, r, limit, g, false, nil)
}

func (s *failingStore) AddServiceCode(ctx context.Context, sc ServiceCode, limit int) (int, bool, error) {
	if err := s.check("AddServiceCode"); err != nil {
		return 0, false, err
	}
	return s.MemoryStore.AddServiceCode(ctx, sc, limit)
}

func (s *failingStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	if err := s.check("Reserve"); err != nil {
		return 0, 0, err
	}
	return s.MemoryStore.Reserve(ctx, r, limit)
}

func (s *failingStore) Reservation(ctx context.Context, code string) (Reservation, error) {
	if err := s.check("Reservation"); err != nil {
		return Reservation{}, err
	}
	return s.MemoryStore.Reservation(ctx, code)
}

func (s *failingStore) Places(ctx context.Context, key, member string) (int, bool, error) {
	if err := s.check("Places"); err != nil {
		return 0, false, err
	}
	return s.MemoryStore.Places(ctx, key, member)
}

func (s *failingStore) Usage(ctx context.Context, instance, subject string) (int, bool, error) {
	if err := s.check("Usage"); err != nil {
		return 0, false, err
	}
	return s.MemoryStore.Usage(ctx, instance, subject)
}

func (s *failingStore) Release(ctx context.Context, r Reservation) (Reservation, error) {
	if err := s.check("Release"); err != nil {
		return Reservation{}, err
	}
	return s.MemoryStore.Release(ctx, r)
}

func (s *failingStore) Complete(ctx context.Context, r Reservation) (Reservation, error) {
	if err := s.check("Complete"); err != nil {
		return Reservation{}, err
	}
	return s.MemoryStore.Complete(ctx, r)
}

func (s *failingStore) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	if err := s.check("GrantServiceCode"); err != nil {
		return err
	}
	return s.MemoryStore.GrantServiceCode(ctx, code, owner, grantee)
}

func (s *failingStore) RevokeServiceCode(ctx context.Context, code string) error {
	if err := s.check("RevokeServiceCode"); err != nil {
		return err
	}
	return s.MemoryStore.RevokeServiceCode(ctx, code)
}

// canonical reports whether s is a well-formed code of the default format
// in canonical form.
func canonical(s string) bool {
	c, ok := codeformat.Normalize(s)
	return ok && c == s
}

// app returns the application that holds the reservation of a typed code,
// or "unreserved", the identity of no application, if it holds none.
func (f *fixture) app(code string) string {
	f.t.Helper()
	c, ok := codeformat.Normalize(code)
	if !ok {
		return "unreserved"
	}
	r, err := f.store.Reservation(context.Background(), c)
	if err != nil {
		return "unreserved"
	}
	return r.Application
}

// mem returns the memory store behind s, for tests that look inside it.
func mem(s MemoryStore) *memoryStore { return s.(*memoryStore) }

// forget makes the memory store of f forget the instance id, as an
// inventory that no longer holds a released instance does.
func forget(f *fixture, id string) {
	sh := mem(f.store).instanceShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[id]; e != nil {
		e.inst, e.known = Instance{}, false
		e.snap.Store(nil)
	}
}
