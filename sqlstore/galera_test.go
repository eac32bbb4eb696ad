package sqlstore_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/storetest"
)

// galeraEnv names the DSNs of the nodes of a MariaDB Galera cluster,
// separated by commas, for the tests that run the store on several primaries
// at once.
const galeraEnv = "ICPVERIFY_GALERA_DSNS"

// galeraNodes returns the DSNs of $ICPVERIFY_GALERA_DSNS, or skips t.
func galeraNodes(t testing.TB) []string {
	t.Helper()
	v := os.Getenv(galeraEnv)
	if v == "" {
		t.Skip(galeraEnv + " not set; set it to the DSNs of a Galera cluster's nodes, separated by commas, to run the Galera tests, e.g. root@tcp(127.0.0.1:3307)/test,root@tcp(127.0.0.1:3308)/test,root@tcp(127.0.0.1:3309)/test")
	}
	return strings.Split(v, ",")
}

// newGaleraDatabase makes a fresh database on a Galera cluster, through its
// first node, migrated through that node; its pools (open) are on the nodes
// in turn. Migrate takes GET_LOCK, which Galera does not make cluster-wide,
// so one node migrates before the others use the database.
func newGaleraDatabase(t testing.TB) *database {
	t.Helper()
	nodes := galeraNodes(t)
	ctx := context.Background()
	admin := openDB(t, "mysql", nodes[0])
	name := randomName("icpv_galera_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	db := &database{d: sqlstore.MySQL, name: name, admin: admin}
	for _, n := range nodes {
		cfg, err := mysql.ParseDSN(n)
		if err != nil {
			t.Fatalf("%s: %v", galeraEnv, err)
		}
		cfg.DBName = name
		cfg.ParseTime, cfg.InterpolateParams = true, true
		// Reads wait for what other nodes committed first, so that a code
		// issued through one node is found through another.
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["wsrep_sync_wait"] = "1"
		db.nodes = append(db.nodes, cfg.FormatDSN())
	}
	db.dsn = db.nodes[0]
	db.storeOn(t, openDB(t, "mysql", db.dsn)) // migrates
	return db
}

// TestGaleraConformance runs the storetest suite on a Galera cluster, each
// subtest's store on the next node.
func TestGaleraConformance(t *testing.T) {
	galeraNodes(t)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newGaleraDatabase(t).store(t)
	})
}

// TestGaleraReplicas races replicas on every node of a Galera cluster for
// the same slots: the limit holds cluster-wide, and a certification
// conflict is retried inside the store, never returned.
func TestGaleraReplicas(t *testing.T) {
	opsPer := 40
	if testing.Short() {
		opsPer = 10
	}
	raceReplicas(t, newGaleraDatabase(t), opsPer)
}

// BenchmarkGaleraVerify measures first reservations from 64 verifiers on one
// node of a Galera cluster, then spread over all of its nodes.
func BenchmarkGaleraVerify(b *testing.B) {
	for _, spread := range []bool{false, true} {
		name := "one node"
		if spread {
			name = "every node"
		}
		b.Run(name, func(b *testing.B) {
			db := newGaleraDatabase(b)
			pools := 1
			if spread {
				pools = len(db.nodes)
			}
			verifiers := make([]*icpverify.Verifier, pools)
			var first *sqlstore.Store
			for i := range verifiers {
				pool := openDB(b, "mysql", db.nodes[i])
				pool.SetMaxOpenConns(benchConns / pools)
				s := db.storeOn(b, pool)
				if first == nil {
					first = s
				}
				verifiers[i] = icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
			}
			reqs := issueCodes(b, first, verifiers[0], b.N)
			ctx := context.Background()
			rate := parallel64(b, func(i int64) error {
				_, err := verifiers[int(i)%pools].Verify(ctx, reqs[i])
				return err
			})
			b.ReportMetric(rate, "verifies/s")
		})
	}
}
