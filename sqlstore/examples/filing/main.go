// Command filing runs an ICP filing verification flow on a SQL store:
// it stores an instance, issues service codes from it, verifies them for
// filing subjects, retries, reaches the subject quota and the code quota,
// releases a reservation and files another.
//
// It uses SQLite by default, in a new temporary file unless -sqlite names
// one, or PostgreSQL or MySQL/MariaDB when given a DSN:
//
//	go run ./examples/filing
//	go run ./examples/filing -sqlite /tmp/icp.db
//	go run ./examples/filing -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./examples/filing -mysql 'root@tcp(127.0.0.1:3306)/test?parseTime=true&interpolateParams=true'
//
// Every run stores a new instance under new random keys, so it may be run
// again on the same database.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/icpfiling/icpverify/codeformat"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
	"github.com/icpfiling/icpverify/subject"
)

func main() {
	sqlitePath := flag.String("sqlite", "", "SQLite database file (default: a new temporary file)")
	postgresDSN := flag.String("postgres", "", "PostgreSQL DSN, e.g. postgres://user@host:5432/db?sslmode=disable")
	mysqlDSN := flag.String("mysql", "", "MySQL/MariaDB DSN, e.g. user@tcp(host:3306)/db?parseTime=true&interpolateParams=true")
	prefix := flag.String("prefix", sqlstore.DefaultPrefix, "table name prefix")
	flag.Parse()
	log.SetFlags(0)

	db, dialect, cleanup, err := open(*sqlitePath, *postgresDSN, *mysqlDSN)
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
	if err := run(context.Background(), os.Stdout, db, dialect, *prefix); err != nil {
		cleanup()
		log.Fatal(err)
	}
}

// open opens the database the flags name.
func open(sqlitePath, postgresDSN, mysqlDSN string) (*sql.DB, sqlstore.Dialect, func(), error) {
	var driver, dsn string
	var d sqlstore.Dialect
	cleanup := func() {}
	switch {
	case postgresDSN != "" && mysqlDSN != "":
		return nil, 0, nil, errors.New("give -postgres or -mysql, not both")
	case postgresDSN != "":
		driver, dsn, d = "pgx", postgresDSN, sqlstore.Postgres
	case mysqlDSN != "":
		driver, dsn, d = "mysql", mysqlDSN, sqlstore.MySQL
	default:
		if sqlitePath == "" {
			dir, err := os.MkdirTemp("", "icpverify-filing-")
			if err != nil {
				return nil, 0, nil, err
			}
			sqlitePath = filepath.Join(dir, "icp.db")
			cleanup = func() { os.RemoveAll(dir) }
		}
		// A busy timeout, so that writers from other processes wait
		// for the file's lock, and WAL, so that readers do not block
		// the writer.
		driver, d = "sqlite", sqlstore.SQLite
		dsn = "file:" + sqlitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		cleanup()
		return nil, 0, nil, fmt.Errorf("connecting to %s: %w", d, err)
	}
	fmt.Printf("database: %s\n", d)
	return db, d, func() { db.Close(); cleanup() }, nil
}

func run(ctx context.Context, w io.Writer, db *sql.DB, d sqlstore.Dialect, prefix string) error {
	store, err := sqlstore.New(db, d, sqlstore.WithTablePrefix(prefix))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	// A policy of 3 subjects and 5 codes per instance, so that the run
	// reaches both quotas.
	pol := icpverify.DefaultPolicy(icpverify.ProductECS)
	pol.SubjectLimit, pol.CodeLimit = 3, 5
	f := &filing{ctx: ctx, w: w, v: icpverify.New(store, store, icpverify.WithPolicy(icpverify.ProductECS, pol))}
	inst, err := f.setUp(store, pol)
	if err != nil {
		return err
	}
	codes, err := f.issue(inst.ID, pol.CodeLimit)
	if err != nil {
		return err
	}
	if err := f.apply(codes); err != nil {
		return err
	}
	used, _, err := store.Usage(ctx, inst.ID, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "instance %s: %d of %d subjects hold a slot\n", inst.ID, used, pol.SubjectLimit)
	return nil
}

// filing is one run's Verifier, with the owner of its instance.
type filing struct {
	ctx   context.Context
	w     io.Writer
	v     *icpverify.Verifier
	owner string
}

// setUp stores a new instance, of a new owner, in the inventory.
func (f *filing) setUp(store *sqlstore.Store, pol icpverify.Policy) (icpverify.Instance, error) {
	tag := randomTag()
	f.owner = "acct-" + tag
	inst := icpverify.Instance{
		ID: "i-" + tag, Account: f.owner, Product: icpverify.ProductECS, Region: "cn-hangzhou",
		Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.7",
		Status: icpverify.Running, ExpiresAt: time.Now().AddDate(1, 0, 0),
	}
	if err := store.PutInstanceContext(f.ctx, inst); err != nil {
		return icpverify.Instance{}, err
	}
	fmt.Fprintf(f.w, "instance %s of %s: %d subjects, %d codes\n", inst.ID, f.owner, pol.SubjectLimit, pol.CodeLimit)
	return inst, nil
}

// issue issues n codes from the instance, then shows that one more is
// refused.
func (f *filing) issue(instance string, n int) ([]string, error) {
	var codes []string
	for range n {
		code, err := f.v.IssueServiceCode(f.ctx, instance, f.owner)
		if err != nil {
			return nil, err
		}
		codes = append(codes, code)
		fmt.Fprintf(f.w, "issued %s\n", code)
	}
	_, err := f.v.IssueServiceCode(f.ctx, instance, f.owner)
	report(f.w, "issue a sixth code", err)
	return codes, nil
}

// apply files applications with codes: a retry, someone else's code, a
// fourth subject refused and then passed once a slot is released, and a
// filed code that cannot be released.
//
// The provider settles an application by the identity Verify answered
// (Result.Application): a retry answers the identity of the application it
// retries.
func (f *filing) apply(codes []string) error {
	hangzhou := f.verify(codes[0], "Hangzhou Example Technology Co., Ltd.")
	f.verify(codes[0], "Hangzhou Example Technology Co., Ltd.") // the applicant submits again
	shanghai := f.verify(codes[1], "Shanghai Sample Trading Co., Ltd.")
	f.verify(codes[2], "Beijing Demo Culture Media Co., Ltd.")
	f.verify(codes[0], "Shenzhen Other Co., Ltd.") // someone else's code
	f.verify(codes[3], "Shenzhen Other Co., Ltd.") // a fourth subject

	if err := f.v.Release(f.ctx, shanghai); err != nil {
		return err
	}
	fmt.Fprintf(f.w, "released %s: its application was withdrawn\n", codeformat.Mask(nil, codes[1]))
	f.verify(codes[3], "Shenzhen Other Co., Ltd.")

	if err := f.v.Complete(f.ctx, hangzhou); err != nil {
		return err
	}
	fmt.Fprintf(f.w, "filed %s\n", codeformat.Mask(nil, codes[0]))
	report(f.w, "release the filed code", f.v.Release(f.ctx, hangzhou))
	return nil
}

// certificates are the unified social credit codes of the companies that
// file: a filing subject is known by its certificate.
var certificates = map[string]string{
	"Hangzhou Example Technology Co., Ltd.": "91330106MA27WX1AXM",
	"Shanghai Sample Trading Co., Ltd.":     "91310115MA1K5E6C99",
	"Beijing Demo Culture Media Co., Ltd.":  "91110000600037341L",
	"Shenzhen Other Co., Ltd.":              "91440300MA5F7G8D9P",
}

// verify verifies code for the subject of that name, with its
// certificate, for the instance's owner, prints what happened, and returns
// the application's identity ("" if refused).
func (f *filing) verify(code, name string) string {
	res, err := f.v.Verify(f.ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: f.owner,
		Subject: name, SubjectID: subject.ID{Type: subject.CertUSCC, Number: certificates[name]}})
	what := fmt.Sprintf("verify %s for %s", codeformat.Mask(nil, code), name)
	if err != nil {
		report(f.w, what, err)
		return ""
	}
	retry := ""
	if res.Retry {
		retry = " (a retry: nothing changed)"
	}
	fmt.Fprintf(f.w, "%s: passed, %d of %d subjects%s\n", what, res.Used, res.Limit, retry)
	return res.Application
}

// report prints the refusal err, with its reason.
func report(w io.Writer, what string, err error) {
	var e *icpverify.Error
	switch {
	case err == nil:
		fmt.Fprintf(w, "%s: done\n", what)
	case errors.As(err, &e):
		fmt.Fprintf(w, "%s: refused, %s (%v)\n", what, e.Reason, e.Err)
	default:
		fmt.Fprintf(w, "%s: failed: %v\n", what, err)
	}
}

func randomTag() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
