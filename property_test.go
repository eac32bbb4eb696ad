package icpverify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestPropertyRandomOperations runs random sequences of Verify, Check,
// Withdraw, Release, Complete, GrantServiceCode, RevokeServiceCode and
// transfers of instances from many goroutines at once, and checks the
// store after each run: no instance holds more subject keys than its
// limit, each instance's slot count is the number of distinct subject keys
// holding a live reservation on it, and every reservation holds its own
// subject's slot.
func TestPropertyRandomOperations(t *testing.T) {
	const (
		runs       = 8
		goroutines = 16
		ops        = 300
		limit      = 3
	)
	pol := DefaultPolicy(ProductECS)
	pol.SubjectLimit, pol.CodeLimit = limit, 8
	for run := range runs {
		t.Run(fmt.Sprint("seed ", run), func(t *testing.T) {
			f := newFixture(t, WithPolicy(ProductECS, pol))
			if run%2 == 1 {
				// Verify reserves through a CodeReserver that reserves
				// whatever its guard: the rules still hold.
				f, _ = newReserverFixture(t, true, WithPolicy(ProductECS, pol))
			}
			w := newWorld(f, 3, 8)
			var wg sync.WaitGroup
			for g := range goroutines {
				rng := rand.New(rand.NewPCG(uint64(run), uint64(g)))
				wg.Go(func() {
					for range ops {
						w.step(t, rng)
					}
				})
			}
			wg.Wait()
			checkInvariants(t, f.store, limit)
		})
	}
}

// world is what the random operations act on.
type world struct {
	f         *fixture
	instances []string
	codes     []string
	owners    []string
	accounts  []string
	subjects  []string
	websites  []string
}

func newWorld(f *fixture, instances, codes int) *world {
	w := &world{
		f:        f,
		owners:   []string{"owner-a", "owner-b"},
		accounts: []string{"owner-a", "owner-b", "agency", "stranger"},
		// Three subjects, each typed several ways.
		subjects: []string{"杭州示例科技有限公司", "杭州示例科技有限公司 ", "Example Ltd", "example  ltd", "Other Co"},
		websites: []string{"", "a.example.com", "b.example.com"},
	}
	for i := range instances {
		id := fmt.Sprint("i-", i)
		w.instances = append(w.instances, id)
		f.put(ecs(id, w.owners[0]))
		for range codes {
			w.codes = append(w.codes, f.issue(id, w.owners[0]))
		}
	}
	return w
}

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// step runs one random operation. Refusals are expected; a failure of any
// other kind fails the test.
func (w *world) step(t *testing.T, rng *rand.Rand) {
	ctx := context.Background()
	v := w.f.v
	code := pick(rng, w.codes)
	var err error
	switch n := rng.IntN(100); {
	case n < 45:
		req := Request{Product: ProductECS, ServiceCode: code, Account: pick(rng, w.accounts),
			Subject: pick(rng, w.subjects), Website: pick(rng, w.websites)}
		if n < 40 {
			_, err = v.Verify(ctx, req)
		} else {
			_, err = v.Check(ctx, req)
		}
	case n < 60:
		err = v.Withdraw(ctx, code, pick(rng, w.accounts))
	case n < 70:
		err = v.Release(ctx, code)
	case n < 78:
		err = v.Complete(ctx, code)
	case n < 92:
		grantee := pick(rng, []string{"agency", "", "stranger"})
		err = v.GrantServiceCode(ctx, code, pick(rng, w.owners), grantee)
	case n < 94:
		err = v.RevokeServiceCode(ctx, code)
	default:
		inst := ecs(pick(rng, w.instances), pick(rng, w.owners))
		err = w.f.store.PutInstanceContext(context.Background(), inst)
	}
	if err != nil && asError(err) == nil {
		t.Errorf("operation failed: %v", err)
	}
}

// checkInvariants checks the slots of every instance of s against its
// reservations.
func checkInvariants(t *testing.T, store MemoryStore, limit int) {
	s := mem(store)
	t.Helper()
	keys := make(map[string]map[string]int) // instance -> subject key -> reservations
	for i := range s.codes {
		sh := &s.codes[i]
		sh.mu.RLock()
		for code, ce := range sh.codes {
			if !ce.reserved {
				continue
			}
			r := ce.res
			if r.Code != code || r.SubjectKey == "" {
				t.Errorf("reservation %+v stored under %q", r, code)
			}
			if keys[r.Instance] == nil {
				keys[r.Instance] = make(map[string]int)
			}
			keys[r.Instance][r.SubjectKey]++
		}
		sh.mu.RUnlock()
	}
	for i := range s.instances {
		sh := &s.instances[i]
		sh.mu.RLock()
		for id, e := range sh.m {
			used := int(e.used.Load())
			if used > limit {
				t.Errorf("instance %s: %d subject keys hold a slot; the limit is %d", id, used, limit)
			}
			if used != len(keys[id]) {
				t.Errorf("instance %s: %d slots taken, but %d distinct subject keys hold a reservation", id, used, len(keys[id]))
			}
			for key, n := range keys[id] {
				if sh.slots[slot{id, key}] != n {
					t.Errorf("instance %s, subject key %q: slot counts %d reservations, %d stored", id, key, sh.slots[slot{id, key}], n)
				}
			}
		}
		sh.mu.RUnlock()
	}
}
