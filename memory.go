package icpverify

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// shardCount is the number of independently locked parts of a MemoryStore,
// so that verifications of different instances rarely wait for each other.
const shardCount = 64

// MemoryStore is an InstanceStore and a QuotaStore kept in the memory of
// one process. It suits tests, examples and a backend that runs a single
// replica; several replicas need a shared, durable store. The zero value is
// not usable: call NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	instances [shardCount]instanceShard // by instance ID
	codes     [shardCount]codeShard     // by service code
	accounts  [shardCount]accountShard  // by account
}

type instanceShard struct {
	mu sync.RWMutex
	m  map[string]*instanceEntry
	_  [40]byte // keep shards on separate cache lines
}

// instanceEntry is what the store knows of one instance ID. An entry made
// by a reservation alone, for an instance the inventory does not hold, has
// known unset.
type instanceEntry struct {
	inst     Instance
	known    bool
	issued   int                    // service codes issued
	slots    map[string]int         // subject -> reservations it holds here
	reserved map[string]Reservation // code -> reservation
}

type codeShard struct {
	mu    sync.RWMutex
	codes map[string]ServiceCode
	// onInstance finds the reservation of a code: code -> instance ID.
	onInstance map[string]string
	_          [32]byte
}

// accountShard indexes instances and reservations by account.
type accountShard struct {
	mu           sync.RWMutex
	instances    map[string]set // account -> instance IDs
	reservations map[string]set // account -> reserved codes
	_            [32]byte
}

type set map[string]struct{}

// add adds key to the set of owner in m.
func add(m map[string]set, owner, key string) {
	s := m[owner]
	if s == nil {
		s = make(set)
		m[owner] = s
	}
	s[key] = struct{}{}
}

// remove removes key from the set of owner in m.
func remove(m map[string]set, owner, key string) {
	if s := m[owner]; s != nil {
		delete(s, key)
		if len(s) == 0 {
			delete(m, owner)
		}
	}
}

var (
	_ InstanceLister    = (*MemoryStore)(nil)
	_ ReservationLister = (*MemoryStore)(nil)
	_ InstanceStore     = (*MemoryStore)(nil)
	_ QuotaStore        = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{}
	for i := range s.instances {
		s.instances[i].m = make(map[string]*instanceEntry)
	}
	for i := range s.codes {
		s.codes[i].codes = make(map[string]ServiceCode)
		s.codes[i].onInstance = make(map[string]string)
	}
	for i := range s.accounts {
		s.accounts[i].instances = make(map[string]set)
		s.accounts[i].reservations = make(map[string]set)
	}
	return s
}

// shardOf hashes a key (FNV-1a) to a shard index.
func shardOf(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % shardCount)
}

func (s *MemoryStore) instanceShard(id string) *instanceShard { return &s.instances[shardOf(id)] }
func (s *MemoryStore) codeShard(code string) *codeShard       { return &s.codes[shardOf(code)] }
func (s *MemoryStore) accountShard(a string) *accountShard    { return &s.accounts[shardOf(a)] }

// entry returns the entry of an instance ID, making it if needed. The
// shard's write lock must be held.
func (sh *instanceShard) entry(id string) *instanceEntry {
	e := sh.m[id]
	if e == nil {
		e = &instanceEntry{}
		sh.m[id] = e
	}
	return e
}

// errEmptyKey is returned for an empty instance ID, code or subject.
var errEmptyKey = errors.New("icpverify: memory store: empty key")

// PutInstance adds an instance to the inventory or replaces it.
func (s *MemoryStore) PutInstance(inst Instance) error {
	if inst.ID == "" {
		return fmt.Errorf("icpverify: memory store: instance has no ID: %w", errEmptyKey)
	}
	sh := s.instanceShard(inst.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entry(inst.ID)
	if e.known && e.inst.Account != inst.Account {
		ash := s.accountShard(e.inst.Account)
		ash.mu.Lock()
		remove(ash.instances, e.inst.Account, inst.ID)
		ash.mu.Unlock()
	}
	e.inst, e.known = inst, true
	ash := s.accountShard(inst.Account)
	ash.mu.Lock()
	add(ash.instances, inst.Account, inst.ID)
	ash.mu.Unlock()
	return nil
}

// ListInstances implements InstanceLister.
func (s *MemoryStore) ListInstances(ctx context.Context, account string, limit int) ([]InstanceUsage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := s.owned(account, func(a *accountShard) map[string]set { return a.instances }, limit)
	out := make([]InstanceUsage, 0, len(ids))
	for _, id := range ids {
		sh := s.instanceShard(id)
		sh.mu.RLock()
		if e := sh.m[id]; e != nil && e.known && e.inst.Account == account {
			out = append(out, InstanceUsage{Instance: e.inst, Used: len(e.slots)})
		}
		sh.mu.RUnlock()
	}
	return out, nil
}

// ListReservations implements ReservationLister.
func (s *MemoryStore) ListReservations(ctx context.Context, account string, limit int) ([]Reservation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	codes := s.owned(account, func(a *accountShard) map[string]set { return a.reservations }, limit)
	out := make([]Reservation, 0, len(codes))
	for _, code := range codes {
		r, err := s.Reservation(ctx, code)
		if err == nil && r.Account == account {
			out = append(out, r)
		}
	}
	return out, nil
}

// owned returns at most limit keys of the set of account in one index.
func (s *MemoryStore) owned(account string, index func(*accountShard) map[string]set, limit int) []string {
	ash := s.accountShard(account)
	ash.mu.RLock()
	defer ash.mu.RUnlock()
	keys := index(ash)[account]
	out := make([]string, 0, min(len(keys), max(limit, 0)))
	for k := range keys {
		if len(out) >= limit {
			break
		}
		out = append(out, k)
	}
	return out
}

// Instance implements InstanceStore.
func (s *MemoryStore) Instance(ctx context.Context, id string) (Instance, error) {
	if err := ctx.Err(); err != nil {
		return Instance{}, err
	}
	sh := s.instanceShard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.m[id]; e != nil && e.known {
		return e.inst, nil
	}
	return Instance{}, ErrNotFound
}

// ServiceCode implements InstanceStore.
func (s *MemoryStore) ServiceCode(ctx context.Context, code string) (ServiceCode, error) {
	if err := ctx.Err(); err != nil {
		return ServiceCode{}, err
	}
	sh := s.codeShard(code)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sc, ok := sh.codes[code]; ok {
		return sc, nil
	}
	return ServiceCode{}, ErrNotFound
}

// AddServiceCode implements InstanceStore.
func (s *MemoryStore) AddServiceCode(ctx context.Context, sc ServiceCode, limit int) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if sc.Code == "" {
		return 0, false, errEmptyKey
	}
	ish := s.instanceShard(sc.Instance)
	ish.mu.Lock()
	defer ish.mu.Unlock()
	e := ish.m[sc.Instance]
	if e == nil || !e.known {
		return 0, false, ErrNotFound
	}
	if e.issued >= limit {
		return e.issued, false, nil
	}
	csh := s.codeShard(sc.Code)
	csh.mu.Lock()
	defer csh.mu.Unlock()
	if _, ok := csh.codes[sc.Code]; ok {
		return e.issued, false, ErrExists
	}
	csh.codes[sc.Code] = sc
	e.issued++
	return e.issued, true, nil
}

// GrantServiceCode implements InstanceStore.
func (s *MemoryStore) GrantServiceCode(ctx context.Context, code, grantee string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.codeShard(code)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sc, ok := sh.codes[code]
	if !ok {
		return ErrNotFound
	}
	sc.Grantee = grantee
	sh.codes[code] = sc
	return nil
}

// Reserve implements QuotaStore.
//
// Locks are taken instance shard first, then code shard, then account
// shard, everywhere.
func (s *MemoryStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if r.Code == "" || r.Instance == "" || r.Subject == "" {
		return 0, 0, errEmptyKey
	}
	ish := s.instanceShard(r.Instance)
	ish.mu.Lock()
	defer ish.mu.Unlock()
	e := ish.entry(r.Instance)
	if old, ok := e.reserved[r.Code]; ok {
		if old.Filed || old.Subject != r.Subject {
			return Taken, len(e.slots), nil
		}
		return Held, len(e.slots), nil
	}
	if e.slots[r.Subject] == 0 && len(e.slots) >= limit {
		return Full, len(e.slots), nil
	}
	csh := s.codeShard(r.Code)
	csh.mu.Lock()
	defer csh.mu.Unlock()
	if _, ok := csh.onInstance[r.Code]; ok {
		// Reserved on another instance: a code belongs to one instance,
		// so only a store shared with another inventory gets here.
		return Taken, len(e.slots), nil
	}
	if e.reserved == nil {
		e.reserved = make(map[string]Reservation)
		e.slots = make(map[string]int)
	}
	r.Filed = false
	e.reserved[r.Code] = r
	e.slots[r.Subject]++
	csh.onInstance[r.Code] = r.Instance
	if r.Account != "" {
		ash := s.accountShard(r.Account)
		ash.mu.Lock()
		add(ash.reservations, r.Account, r.Code)
		ash.mu.Unlock()
	}
	return Reserved, len(e.slots), nil
}

// lookup finds the instance a code is reserved on.
func (s *MemoryStore) lookup(code string) (string, bool) {
	sh := s.codeShard(code)
	sh.mu.RLock()
	id, ok := sh.onInstance[code]
	sh.mu.RUnlock()
	return id, ok
}

// Reservation implements QuotaStore.
func (s *MemoryStore) Reservation(ctx context.Context, code string) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	id, ok := s.lookup(code)
	if !ok {
		return Reservation{}, ErrNotFound
	}
	sh := s.instanceShard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.m[id]; e != nil {
		if r, ok := e.reserved[code]; ok {
			return r, nil
		}
	}
	return Reservation{}, ErrNotFound
}

// Usage implements QuotaStore.
func (s *MemoryStore) Usage(ctx context.Context, instance, subject string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	sh := s.instanceShard(instance)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := sh.m[instance]
	if e == nil {
		return 0, false, nil
	}
	return len(e.slots), e.slots[subject] > 0, nil
}

// Release implements QuotaStore.
func (s *MemoryStore) Release(ctx context.Context, code string) (Reservation, error) {
	return s.update(ctx, code, func(e *instanceEntry, r Reservation) Reservation {
		if r.Filed {
			return r
		}
		delete(e.reserved, code)
		if e.slots[r.Subject]--; e.slots[r.Subject] <= 0 {
			delete(e.slots, r.Subject)
		}
		csh := s.codeShard(code)
		csh.mu.Lock()
		delete(csh.onInstance, code)
		csh.mu.Unlock()
		ash := s.accountShard(r.Account)
		ash.mu.Lock()
		remove(ash.reservations, r.Account, code)
		ash.mu.Unlock()
		return r
	})
}

// Complete implements QuotaStore.
func (s *MemoryStore) Complete(ctx context.Context, code string) (Reservation, error) {
	return s.update(ctx, code, func(e *instanceEntry, r Reservation) Reservation {
		r.Filed = true
		e.reserved[code] = r
		return r
	})
}

// update runs f on the reservation of code under its instance's lock.
func (s *MemoryStore) update(ctx context.Context, code string, f func(*instanceEntry, Reservation) Reservation) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	id, ok := s.lookup(code)
	if !ok {
		return Reservation{}, ErrNotFound
	}
	sh := s.instanceShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e == nil {
		return Reservation{}, ErrNotFound
	}
	r, ok := e.reserved[code]
	if !ok {
		// Released since the lookup.
		return Reservation{}, ErrNotFound
	}
	return f(e, r), nil
}
