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

var (
	_ InstanceStore = (*MemoryStore)(nil)
	_ QuotaStore    = (*MemoryStore)(nil)
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
	e := sh.entry(inst.ID)
	e.inst, e.known = inst, true
	sh.mu.Unlock()
	return nil
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
// Locks are taken instance shard first, then code shard, everywhere.
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
