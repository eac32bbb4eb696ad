package icpverify

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCode(t testing.TB) string {
	t.Helper()
	c, err := codeformat.Default().New(rand.Reader)
	require.NoError(t, err)
	return c
}

func TestIssueServiceCodeEligibility(t *testing.T) {
	const acct = "acct-1"
	tests := []struct {
		name   string
		edit   func(*Instance)
		as     string
		reason Reason
	}{
		{"other owner, as if it did not exist", nil, "acct-2", ReasonInstanceNotFound},
		{"SLB", func(i *Instance) { i.Product = ProductSLB }, acct, ReasonProductNotFileable},
		{"unknown product", func(i *Instance) { i.Product = "mainframe" }, acct, ReasonProductNotFileable},
		{"trial", func(i *Instance) { i.Trial = true }, acct, ReasonTrialInstance},
		{"pay-as-you-go", func(i *Instance) { i.Billing = PayAsYouGo }, acct, ReasonNotSubscription},
		{"no billing", func(i *Instance) { i.Billing = "" }, acct, ReasonNotSubscription},
		{"2 months", func(i *Instance) { i.TermMonths = 2 }, acct, ReasonTermTooShort},
		{"Hong Kong", func(i *Instance) { i.Region = "cn-hongkong" }, acct, ReasonNotMainland},
		{"Singapore", func(i *Instance) { i.Region = "ap-southeast-1" }, acct, ReasonNotMainland},
		{"no public IP", func(i *Instance) { i.PublicIP = "" }, acct, ReasonNoPublicIP},
		{"stopped", func(i *Instance) { i.Status = Stopped }, acct, ReasonNotRunning},
		{"released", func(i *Instance) { i.Status = Released }, acct, ReasonInstanceReleased},
		{"expired", func(i *Instance) { i.ExpiresAt = t0 }, acct, ReasonInstanceExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			inst := ecs("i-1", acct)
			if tt.edit != nil {
				tt.edit(&inst)
			}
			f.put(inst)
			_, err := f.v.IssueServiceCode(context.Background(), "i-1", tt.as)
			require.ErrorIs(t, err, ErrInvalidProduct)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.reason, e.Reason)
			assert.Equal(t, "i-1", e.Instance)
		})
	}
}

func TestIssueServiceCodeEligibleEdges(t *testing.T) {
	f := newFixture(t)
	inst := ecs("i-1", "a")
	inst.TermMonths = 3        // exactly the minimum
	inst.ExpiresAt = t0.Add(1) // not yet expired
	inst.Region = "cn-beijing" // mainland
	inst.Product = ProductSimpleApplicationServer
	f.put(inst)
	code := f.issue("i-1", "a")
	assert.True(t, canonical(code), code)
	sc, err := f.store.ServiceCode(context.Background(), code)
	require.NoError(t, err)
	assert.Equal(t, ServiceCode{Code: code, Instance: "i-1", Owner: "a", IssuedAt: t0}, sc)
}

func TestIssueServiceCodeUnknownInstance(t *testing.T) {
	f := newFixture(t)
	_, err := f.v.IssueServiceCode(context.Background(), "i-missing", "a")
	require.ErrorIs(t, err, ErrInvalidProduct)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ReasonInstanceNotFound, e.Reason)
}

func TestIssueServiceCodeLimit(t *testing.T) {
	f := newFixture(t)
	f.put(ecs("i-1", "a"))
	for range 5 {
		f.issue("i-1", "a")
	}
	_, err := f.v.IssueServiceCode(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, ErrQuotaReached)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ReasonCodeLimit, e.Reason)
	assert.Equal(t, 5, e.Used)
	assert.Equal(t, 5, e.Limit)
}

func TestIssueServiceCodeRaisedLimit(t *testing.T) {
	pol := DefaultPolicy(ProductECS)
	pol.CodeLimit = 7
	f := newFixture(t, WithPolicy(ProductECS, pol))
	f.put(ecs("i-1", "a"))
	for range 7 {
		f.issue("i-1", "a")
	}
	_, err := f.v.IssueServiceCode(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, ErrQuotaReached)
}

func TestIssueServiceCodeLimitUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	f.put(ecs("i-1", "a"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var issued, refused int
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.v.IssueServiceCode(context.Background(), "i-1", "a")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				issued++
			case errors.Is(err, ErrQuotaReached):
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 5, issued)
	assert.Equal(t, 35, refused)
}

func TestIssueServiceCodeRedrawsOnCollision(t *testing.T) {
	f := newFixture(t)
	f.put(ecs("i-1", "a"))
	// The first two draws give the same code; the second is redrawn.
	first := bytes.Repeat([]byte{7}, 10)
	f.v.rand = draws(first, first, bytes.Repeat([]byte{9}, 10))
	c1 := f.issue("i-1", "a")
	c2 := f.issue("i-1", "a")
	assert.NotEqual(t, c1, c2)
	issued, _, err := f.store.AddServiceCode(context.Background(), ServiceCode{Code: mustCode(t), Instance: "i-1"}, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, issued, "the collision must not count as an issued code")

	// A reader that only ever repeats itself gives up with ErrExists.
	f.v.rand = draws(first, first, first, first)
	_, err = f.v.IssueServiceCode(context.Background(), "i-1", "a")
	require.ErrorIs(t, err, ErrExists)
}

func draws(parts ...[]byte) *bytes.Reader { return bytes.NewReader(bytes.Join(parts, nil)) }

func TestIssueServiceCodeBadInput(t *testing.T) {
	f := newFixture(t)
	f.put(ecs("i-1", "a"))
	for _, tt := range []struct{ instance, account string }{
		{"", "a"},
		{"i-1", ""},
		{strings.Repeat("i", 1<<20), "a"},
		{"i-1", "\xff\xfe"},
	} {
		_, err := f.v.IssueServiceCode(context.Background(), tt.instance, tt.account)
		require.ErrorIs(t, err, ErrInvalidProduct)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, ReasonInvalidRequest, e.Reason)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.IssueServiceCode(ctx, "i-1", "a")
	require.ErrorIs(t, err, context.Canceled)
}

func TestIssueServiceCodeStoreFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, op := range []string{"Instance", "AddServiceCode"} {
		t.Run(op, func(t *testing.T) {
			mem := NewMemoryStore()
			require.NoError(t, mem.PutInstanceContext(context.Background(), ecs("i-1", "a")))
			s := &failingStore{MemoryStore: mem, err: boom, fail: map[string]bool{op: true}}
			v := New(s, s, WithClock(func() time.Time { return t0 }))
			_, err := v.IssueServiceCode(context.Background(), "i-1", "a")
			require.ErrorIs(t, err, boom)
			for _, s := range []error{ErrInvalidProduct, ErrServiceCodeInvalid, ErrQuotaReached} {
				assert.NotErrorIs(t, err, s)
			}
		})
	}
}

func TestGrantServiceCode(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "owner")
	ctx := context.Background()

	// The grantee cannot use the code before the grant, and learns nothing
	// of it.
	_, err := f.v.Verify(ctx, request(code, "agency", "Subject A"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)

	err = f.v.GrantServiceCode(ctx, code, "agency", "someone")
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)

	require.NoError(t, f.v.GrantServiceCode(ctx, strings.ToLower(code), "owner", "agency"))
	_, err = f.v.Verify(ctx, request(code, "agency", "Subject A"))
	require.NoError(t, err)

	err = f.v.GrantServiceCode(ctx, mustCode(t), "owner", "agency")
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	err = f.v.GrantServiceCode(ctx, "XXXX", "owner", "agency")
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeMalformed)
	err = f.v.GrantServiceCode(ctx, code, "", "agency")
	requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
	err = f.v.GrantServiceCode(ctx, code, "owner", "\xff")
	requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
}

// requireReason asserts err is an *Error wrapping sentinel with reason.
func requireReason(t testing.TB, err error, sentinel error, reason Reason) *Error {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, reason, e.Reason, "error: %v", err)
	return e
}

// TestDocumentedCodesAreValid: every code in the default format that the
// README and the doc comments show passes its own check symbol.
func TestDocumentedCodesAreValid(t *testing.T) {
	code := regexp.MustCompile(`\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b`)
	for _, name := range []string{"README.md", "doc.go", "codeformat/codeformat.go", "codeformat/default.go", "examples/httpbackend/README.md"} {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		for _, c := range code.FindAllString(string(b), -1) {
			if strings.Contains(c, "XXXX") || strings.Contains(c, "0000-0000") {
				continue // a placeholder
			}
			_, ok := codeformat.Normalize(c)
			assert.True(t, ok, "%s shows %s, which fails its check symbol", name, c)
		}
	}
}
