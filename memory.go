package icpverify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// shardCount is the number of independently locked parts of a MemoryStore,
// so that verifications of different instances rarely wait for each other.
const shardCount = 64

// MemoryStore is an InstanceStore and a QuotaStore kept in the memory of
// one process, with both optional capabilities (CodeReserver and
// InstanceLister). It suits tests, examples and a backend that runs a
// single replica; several replicas need a shared, durable store.
// NewMemoryStore returns one; it is safe for concurrent use.
type MemoryStore interface {
	CodeReserver
	InstanceLister

	// PutInstanceContext adds inst to the inventory, or replaces the
	// instance with the same ID. It returns the context's error if ctx
	// has ended, and an error for an instance without an ID.
	PutInstanceContext(ctx context.Context, inst Instance) error
}

// memoryStore is the MemoryStore NewMemoryStore returns. Its data is split
// over shards, each with its own lock, so that verifications of different
// instances rarely wait for each other.
type memoryStore struct {
	seed      maphash.Seed              // of the shard hash
	instances [shardCount]instanceShard // by instance ID
	codes     [shardCount]codeShard     // by service code
	accounts  [shardCount]accountShard  // by account
	apps      [shardCount]appShard      // by application
	places    placeTable                // of reservations' Quotas
}

// placeTable holds the places that reservations take in their Quotas: how
// many reservations count each member under each key, and how many members
// each key has. Its lock is taken last, after an instance's and a code's
// shard.
type placeTable struct {
	mu      sync.Mutex
	holds   map[place]int
	members map[string]int
}

// place is a member's place under a quota's key.
type place struct{ key, member string }

// full returns the index of the first of qs that has its Limit of
// members, none of them its Member, or -1.
func (t *placeTable) full(qs []Quota) int {
	for i, q := range qs {
		if t.holds[place{q.Key, q.Member}] == 0 && t.members[q.Key] >= q.Limit {
			return i
		}
	}
	return -1
}

// take counts one more reservation for each of qs.
func (t *placeTable) take(qs []Quota) {
	for _, q := range qs {
		p := place{q.Key, q.Member}
		if t.holds[p] == 0 {
			t.members[q.Key]++
		}
		t.holds[p]++
	}
}

// free counts one reservation less for those of qs that keep tells.
func (t *placeTable) free(qs []Quota, keep func(Quota) bool) {
	if len(qs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range qs {
		p := place{q.Key, q.Member}
		if !keep(q) || t.holds[p] == 0 {
			continue
		}
		if t.holds[p]--; t.holds[p] == 0 {
			delete(t.holds, p)
			if t.members[q.Key]--; t.members[q.Key] == 0 {
				delete(t.members, q.Key)
			}
		}
	}
}

// appShard maps the Application of reservations to their codes. An entry
// is added and deleted with its reservation, under the locks of its
// instance's and its code's shards.
type appShard struct {
	mu   sync.RWMutex
	code map[string]string
	_    [40]byte
}

// Locks are taken instance shard first, then code shard, then account or
// application shard, and at most one of each, everywhere.

type instanceShard struct {
	mu    sync.RWMutex
	m     map[string]*instanceEntry
	slots map[slot]int // reservations each subject key holds on an instance
	_     [32]byte     // keep shards on separate cache lines
}

// instanceEntry is what the store knows of one instance ID. An entry made
// by a reservation alone, for an instance the inventory does not hold, has
// known unset. Entries are never deleted, so that a code's entry can point
// to its instance's.
type instanceEntry struct {
	inst   Instance
	known  bool
	issued int                      // service codes issued
	used   atomic.Int64             // subject keys holding a slot; written under the shard's lock
	snap   atomic.Pointer[Instance] // inst if known, for reads without the shard's lock
}

// put sets the instance of e; the shard's write lock must be held.
func (e *instanceEntry) put(inst Instance) {
	e.inst, e.known = inst, true
	e.snap.Store(&inst)
}

// slot names a subject key's slot on an instance.
type slot struct{ instance, subjectKey string }

type codeShard struct {
	mu    sync.RWMutex
	codes map[string]*codeEntry
	_     [40]byte
}

// codeEntry is what the store knows of one service code: the code, if the
// inventory holds it, and its reservation, if it has one, each with the
// entry of its instance, so that a lookup or a retry reads the instance
// without the lock of its shard. It is read and written under the lock of
// the code's shard, and deleted when it holds neither.
type codeEntry struct {
	sc       ServiceCode
	known    bool           // the inventory holds sc
	inst     *instanceEntry // of sc.Instance, if known
	res      Reservation
	reserved bool           // res is the code's reservation
	resInst  *instanceEntry // of res.Instance, if reserved
}

// entry returns the entry of code, making it if needed. The shard's write
// lock must be held.
func (sh *codeShard) entry(code string) *codeEntry {
	ce := sh.codes[code]
	if ce == nil {
		ce = &codeEntry{}
		sh.codes[code] = ce
	}
	return ce
}

// unreserve removes the reservation of ce, stored under code, and the entry
// itself if it then holds nothing. The shard's write lock must be held.
func (sh *codeShard) unreserve(code string, ce *codeEntry) {
	ce.res, ce.reserved, ce.resInst = Reservation{}, false, nil
	if !ce.known {
		delete(sh.codes, code)
	}
}

// accountShard indexes instances by account.
type accountShard struct {
	mu        sync.RWMutex
	instances map[string]set // account -> instance IDs
	_         [40]byte
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

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() MemoryStore {
	s := &memoryStore{seed: maphash.MakeSeed(), places: placeTable{holds: make(map[place]int), members: make(map[string]int)}}
	for i := range shardCount {
		s.instances[i].m = make(map[string]*instanceEntry)
		s.instances[i].slots = make(map[slot]int)
		s.codes[i].codes = make(map[string]*codeEntry)
		s.accounts[i].instances = make(map[string]set)
		s.apps[i].code = make(map[string]string)
	}
	return s
}

// shardOf hashes a key to a shard index.
func (s *memoryStore) shardOf(key string) int { return int(maphash.String(s.seed, key) % shardCount) }

func (s *memoryStore) instanceShard(id string) *instanceShard { return &s.instances[s.shardOf(id)] }
func (s *memoryStore) codeShard(code string) *codeShard       { return &s.codes[s.shardOf(code)] }
func (s *memoryStore) accountShard(a string) *accountShard    { return &s.accounts[s.shardOf(a)] }

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

// PutInstanceContext implements MemoryStore.
func (s *memoryStore) PutInstanceContext(ctx context.Context, inst Instance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
	e.put(inst)
	ash := s.accountShard(inst.Account)
	ash.mu.Lock()
	add(ash.instances, inst.Account, inst.ID)
	ash.mu.Unlock()
	return nil
}

// Instance implements InstanceStore.
func (s *memoryStore) Instance(ctx context.Context, id string) (Instance, error) {
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
func (s *memoryStore) ServiceCode(ctx context.Context, code string) (ServiceCode, error) {
	if err := ctx.Err(); err != nil {
		return ServiceCode{}, err
	}
	sh := s.codeShard(code)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if ce := sh.codes[code]; ce != nil && ce.known {
		return ce.sc, nil
	}
	return ServiceCode{}, ErrNotFound
}

// AddServiceCode implements InstanceStore.
func (s *memoryStore) AddServiceCode(ctx context.Context, sc ServiceCode, limit int) (int, bool, error) {
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
	ce := csh.entry(sc.Code)
	if ce.known {
		return e.issued, false, ErrExists
	}
	ce.sc, ce.known, ce.inst = sc, true, e
	e.issued++
	return e.issued, true, nil
}

// GrantServiceCode implements InstanceStore.
func (s *memoryStore) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	return s.updateCode(ctx, code, func(sc *ServiceCode) { sc.Owner, sc.Grantee = owner, grantee })
}

// RevokeServiceCode implements InstanceStore.
func (s *memoryStore) RevokeServiceCode(ctx context.Context, code string) error {
	return s.updateCode(ctx, code, func(sc *ServiceCode) { sc.Revoked = true })
}

// updateCode runs f on the stored service code with its shard locked.
func (s *memoryStore) updateCode(ctx context.Context, code string, f func(*ServiceCode)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.codeShard(code)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ce := sh.codes[code]
	if ce == nil || !ce.known {
		return ErrNotFound
	}
	f(&ce.sc)
	return nil
}

// Reserve implements QuotaStore.
func (s *memoryStore) Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if r.Code == "" || r.Instance == "" || r.SubjectKey == "" || r.Application == "" {
		return 0, 0, errEmptyKey
	}
	// A retry needs only the code's read lock.
	csh := s.codeShard(r.Code)
	csh.mu.RLock()
	var old Reservation
	var used int
	ce := csh.codes[r.Code]
	ok := ce != nil && ce.reserved
	if ok {
		old, used = ce.res, int(ce.resInst.used.Load())
	}
	csh.mu.RUnlock()
	if ok {
		return outcomeOf(&old, &r), used, nil
	}

	ish := s.instanceShard(r.Instance)
	ish.mu.Lock()
	defer ish.mu.Unlock()
	csh.mu.Lock()
	defer csh.mu.Unlock()
	if e := ish.m[r.Instance]; e != nil {
		used = int(e.used.Load())
	}
	if ce := csh.codes[r.Code]; ce != nil && ce.reserved {
		return outcomeOf(&ce.res, &r), int(ce.resInst.used.Load()), nil
	}
	k := slot{r.Instance, r.SubjectKey}
	held := ish.slots[k]
	if held == 0 && used >= limit {
		return Full, used, nil
	}
	if len(r.Quotas) > 0 {
		s.places.mu.Lock()
		defer s.places.mu.Unlock()
		if i := s.places.full(r.Quotas); i >= 0 {
			return Exceeded, i, nil
		}
		r.Quotas = slices.Clone(r.Quotas)
		s.places.take(r.Quotas)
	}
	e := ish.entry(r.Instance)
	r.Filed, r.Deregistered = false, false
	// The identity may be part of a larger string: keep only its own.
	r.Application = strings.Clone(r.Application)
	ce = csh.entry(r.Code)
	ce.res, ce.reserved, ce.resInst = r, true, e
	s.indexApplication(r.Application, r.Code)
	ish.slots[k] = held + 1
	if held == 0 {
		e.used.Add(1)
	}
	return Reserved, int(e.used.Load()), nil
}

// LookupServiceCode implements CodeReserver: it reads the code and its
// reservation under one lock, then the instance.
func (s *memoryStore) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	if err := ctx.Err(); err != nil {
		return CodeRecord{}, err
	}
	var rec CodeRecord
	if !s.lookup(code, &rec) {
		return CodeRecord{}, ErrNotFound
	}
	return rec, nil
}

// lookup reads code into rec as LookupServiceCode does, and reports
// whether the inventory holds it.
func (s *memoryStore) lookup(code string, rec *CodeRecord) bool {
	csh := s.codeShard(code)
	csh.mu.RLock()
	ce := csh.codes[code]
	if ce == nil || !ce.known {
		csh.mu.RUnlock()
		return false
	}
	rec.Code = ce.sc
	e := ce.inst
	if ce.reserved {
		rec.Reservation, rec.Used = ce.res, int(ce.resInst.used.Load())
		rec.Reservation.Quotas = nil
	}
	csh.mu.RUnlock()
	if inst := e.snap.Load(); inst != nil {
		rec.Instance = *inst
	}
	return true
}

// ReserveServiceCode implements CodeReserver: it reads the code as
// LookupServiceCode does and, if it has no reservation and g holds,
// reserves it with Reserve.
func (s *memoryStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	if err := ctx.Err(); err != nil {
		return CodeRecord{}, 0, err
	}
	var rec CodeRecord
	if !s.lookup(r.Code, &rec) {
		return CodeRecord{}, 0, ErrNotFound
	}
	if rec.Reservation.Code != "" || !g.Allows(r.Account, rec.Code, rec.Instance) {
		return rec, 0, nil
	}
	r.Instance = rec.Code.Instance
	outcome, used, err := s.Reserve(ctx, r, limit)
	if err != nil {
		return CodeRecord{}, 0, err
	}
	rec.Used = used
	return rec, outcome, nil
}

// Reservation implements QuotaStore.
func (s *memoryStore) Reservation(ctx context.Context, code string) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	if r, ok := s.reservation(code); ok {
		return r, nil
	}
	return Reservation{}, ErrNotFound
}

// reservation returns the reservation of code.
func (s *memoryStore) reservation(code string) (Reservation, bool) {
	sh := s.codeShard(code)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if ce := sh.codes[code]; ce != nil && ce.reserved {
		r := ce.res
		r.Quotas = nil // the store's own
		return r, true
	}
	return Reservation{}, false
}

// Application implements QuotaStore.
func (s *memoryStore) Application(ctx context.Context, id string) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	ash := &s.apps[s.shardOf(id)]
	ash.mu.RLock()
	code, ok := ash.code[id]
	ash.mu.RUnlock()
	if !ok {
		return Reservation{}, ErrNotFound
	}
	r, ok := s.reservation(code)
	if !ok || r.Application != id {
		return Reservation{}, ErrNotFound
	}
	return r, nil
}

// indexApplication maps the application id to code, or deletes its entry
// if code is empty.
func (s *memoryStore) indexApplication(id, code string) {
	ash := &s.apps[s.shardOf(id)]
	ash.mu.Lock()
	if code == "" {
		delete(ash.code, id)
	} else {
		ash.code[id] = code
	}
	ash.mu.Unlock()
}

// Usage implements QuotaStore.
func (s *memoryStore) Usage(ctx context.Context, instance, subjectKey string) (int, bool, error) {
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
	return int(e.used.Load()), sh.slots[slot{instance, subjectKey}] > 0, nil
}

// Places implements QuotaStore.
func (s *memoryStore) Places(ctx context.Context, key, member string) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	s.places.mu.Lock()
	defer s.places.mu.Unlock()
	return s.places.members[key], s.places.holds[place{key, member}] > 0, nil
}

// Release implements QuotaStore.
func (s *memoryStore) Release(ctx context.Context, r Reservation) (Reservation, error) {
	return s.update(ctx, r, func(ish *instanceShard, csh *codeShard, ce *codeEntry) Reservation {
		old := ce.res
		if old.Filed {
			return old
		}
		csh.unreserve(old.Code, ce)
		s.indexApplication(old.Application, "")
		ish.freeSlot(old.Instance, old.SubjectKey)
		s.places.free(old.Quotas, func(Quota) bool { return true })
		return old
	})
}

// freeSlot counts one reservation less for a subject key's slot on an
// instance, freeing it at none; the shard's write lock must be held.
func (sh *instanceShard) freeSlot(instance, subjectKey string) {
	k := slot{instance, subjectKey}
	if sh.slots[k]--; sh.slots[k] <= 0 {
		delete(sh.slots, k)
		sh.entry(instance).used.Add(-1)
	}
}

// Complete implements QuotaStore.
func (s *memoryStore) Complete(ctx context.Context, r Reservation) (Reservation, error) {
	return s.update(ctx, r, func(_ *instanceShard, _ *codeShard, ce *codeEntry) Reservation {
		if !ce.res.Filed {
			ce.res.Filed = true
			s.places.free(ce.res.Quotas, func(q Quota) bool { return q.UntilFiled })
		}
		return ce.res
	})
}

// Deregister implements QuotaStore.
func (s *memoryStore) Deregister(ctx context.Context, r Reservation) (Reservation, error) {
	return s.update(ctx, r, func(ish *instanceShard, _ *codeShard, ce *codeEntry) Reservation {
		if ce.res.Filed && !ce.res.Deregistered {
			ce.res.Deregistered = true
			ish.freeSlot(ce.res.Instance, ce.res.SubjectKey)
			s.places.free(ce.res.Quotas, func(q Quota) bool { return !q.UntilFiled })
		}
		return ce.res
	})
}

// update runs f on the reservation of r.Code, if its Application is
// r.Application, with the write locks of its instance's and its code's
// shards held.
func (s *memoryStore) update(ctx context.Context, r Reservation, f func(*instanceShard, *codeShard, *codeEntry) Reservation) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	old, err := s.Reservation(ctx, r.Code)
	if err != nil {
		return Reservation{}, err
	}
	ish, csh := s.instanceShard(old.Instance), s.codeShard(r.Code)
	ish.mu.Lock()
	defer ish.mu.Unlock()
	csh.mu.Lock()
	defer csh.mu.Unlock()
	ce := csh.codes[r.Code]
	if ce == nil || !ce.reserved || ce.res.Application != r.Application {
		// Released since it was read, or another application's. A code's
		// reservation is always on the code's one instance, so the locks
		// held are the right ones.
		return Reservation{}, ErrNotFound
	}
	after := f(ish, csh, ce)
	after.Quotas = nil // the store's own
	return after, nil
}

// ListInstances implements InstanceLister.
func (s *memoryStore) ListInstances(ctx context.Context, account string, limit int) ([]Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := s.owned(account, limit)
	out := make([]Instance, 0, len(ids))
	for _, id := range ids {
		sh := s.instanceShard(id)
		sh.mu.RLock()
		if e := sh.m[id]; e != nil && e.known && e.inst.Account == account {
			out = append(out, e.inst)
		}
		sh.mu.RUnlock()
	}
	return out, nil
}

// ListReservations implements QuotaStore. It reads every shard of
// the store: the memory store keeps no index of reservations by account.
func (s *memoryStore) ListReservations(ctx context.Context, account string, limit int) ([]Reservation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Reservation
	for i := range s.codes {
		sh := &s.codes[i]
		sh.mu.RLock()
		for _, ce := range sh.codes {
			if len(out) >= limit {
				break
			}
			if ce.reserved && ce.res.Account == account {
				r := ce.res
				r.Quotas = nil // the store's own
				out = append(out, r)
			}
		}
		sh.mu.RUnlock()
	}
	return out, nil
}

// owned returns at most limit instance IDs of account.
func (s *memoryStore) owned(account string, limit int) []string {
	ash := s.accountShard(account)
	ash.mu.RLock()
	defer ash.mu.RUnlock()
	ids := ash.instances[account]
	out := make([]string, 0, min(len(ids), max(limit, 0)))
	for id := range ids {
		if len(out) >= limit {
			break
		}
		out = append(out, id)
	}
	return out
}

// ListServiceCodes implements InstanceLister. It reads every code shard of the
// store, each code with its reservation under the shard's lock: the memory
// store keeps no index of codes by instance.
func (s *memoryStore) ListServiceCodes(ctx context.Context, instance string, limit int) ([]ServiceCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []ServiceCode
	for i := range s.codes {
		sh := &s.codes[i]
		sh.mu.RLock()
		for _, ce := range sh.codes {
			if ce.known && ce.sc.Instance == instance {
				out = append(out, ce.sc)
			}
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b ServiceCode) int {
		return cmp.Or(a.IssuedAt.Compare(b.IssuedAt), strings.Compare(a.Code, b.Code))
	})
	return out[:min(len(out), max(limit, 0))], nil
}
