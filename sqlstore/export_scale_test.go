package sqlstore

// HotStatements returns, for the scale test's EXPLAIN, the statements on
// the hot path of a verification, by name, with their dialect's
// placeholders. A statement the dialect does not run is left out.
func (s *Store) HotStatements() map[string]string {
	m := map[string]string{
		"lookupCode":    s.q.lookupCode,
		"reserveCode":   s.q.reserveCode,
		"reserveCheck":  s.q.reserveCheck,
		"reserveInsert": s.q.reserveInsert,
		"slotTake":      s.q.slotTake,
		"quotaTake":     s.q.quotaTake,
		"quotaUsed":     s.q.quotaUsed,
		"usage":         s.q.usage,
	}
	if s.d != SQLite {
		// Reserve runs these only with quotas, off the hot path.
		for _, k := range []string{"reserveCheck", "slotTake", "quotaTake"} {
			delete(m, k)
		}
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}
