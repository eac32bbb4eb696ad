//go:build linux

package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/icpfiling/icpverify/sqlstore"
)

// The private servers of TestRestart: a PostgreSQL or MariaDB server the
// test starts on a data directory and a TCP port of its own, so that it can
// crash it and start it again without disturbing the shared servers other
// tests use. Run as root, each server runs as its service user (postgres,
// mysql), which the servers ask for; otherwise as the test's own user.

// storeDB is the database the store's tables are in, on a private server;
// storeUser is the MariaDB user the store connects as.
const (
	storeDB   = "icpverify"
	storeUser = "icpv"
)

// privateServer is a database server the test started, which it can crash
// and start again on the same data directory and port.
type privateServer struct {
	d        sqlstore.Dialect
	dir      string              // owned by the server's user: data, socket, log
	port     int                 // on 127.0.0.1
	cred     *syscall.Credential // the user it runs as; nil: the test's
	argv     []string            // the server's command line
	quit     syscall.Signal      // the signal of a clean shutdown
	crashFn  func(t testing.TB)  // stops it hard; the process is then waited for
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	admin    *sql.DB       // a pool on the server, outside the store's sessions
	storeDSN string        // the DSN of the store's database
}

// postgresBinDir returns the directory of PostgreSQL's server binaries
// (initdb, postgres, pg_ctl): the PATH's, pg_config's, or the newest
// /usr/lib/postgresql/*/bin (Debian keeps them off the PATH).
func postgresBinDir() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range append(dirs, found...) {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) &&
			isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres, pg_ctl) on the PATH, from pg_config --bindir or in /usr/lib/postgresql/*/bin: install postgresql")
}

// versionOf returns the major version in a path /usr/lib/postgresql/N/bin.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// isExecutable reports whether path is an executable file.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// mariadbBins returns the paths of mariadbd and mariadb-install-db, on the
// PATH or where Debian puts them.
func mariadbBins() (server, installDB string, err error) {
	find := func(name, fallback string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if isExecutable(fallback) {
			return fallback
		}
		return ""
	}
	server = find("mariadbd", "/usr/sbin/mariadbd")
	installDB = find("mariadb-install-db", "/usr/bin/mariadb-install-db")
	if server == "" || installDB == "" {
		return "", "", errors.New("no mariadbd or mariadb-install-db on the PATH or in /usr/sbin, /usr/bin: install mariadb-server")
	}
	return server, installDB, nil
}

// serviceUser returns the credential of the user name if the test runs as
// root, which the servers refuse to run as; nil otherwise.
func serviceUser(t testing.TB, name string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("running as root, and there is no user %q to run the server as: %v", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// serverDir makes a fresh directory owned by cred's user (the test's if
// nil), removed when the test ends. It is not t.TempDir, whose parent only
// the test's user may enter.
func serverDir(t testing.TB, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "icpverify-restart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// command returns a command that runs as cred's user in dir, and is
// killed if the test process dies.
func command(cred *syscall.Credential, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// runTool runs a tool of the server (initdb, pg_ctl, mariadb-install-db)
// to its end, and fails t with its output if it fails.
func runTool(t testing.TB, cred *syscall.Credential, dir, name string, args ...string) {
	t.Helper()
	out, err := command(cred, dir, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start starts the server process, appending its output to its log, and
// waits until it accepts a session.
func (s *privateServer) start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s.cmd = command(s.cred, s.dir, s.argv[0], s.argv[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.argv[0], err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func(cmd *exec.Cmd) { cmd.Wait(); close(exited) }(s.cmd)
	s.waitAccepting(t)
}

// waitAccepting waits until the admin pool, or a fresh connection, runs a
// query, for up to a minute.
func (s *privateServer) waitAccepting(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.admin.PingContext(ctx)
		if err == nil {
			_, err = s.admin.ExecContext(ctx, "SELECT 1")
		}
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.exited:
			t.Fatalf("the %v server exited while starting: %v\n%s", s.d, err, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %v server does not accept sessions: %v\n%s", s.d, err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// crash stops the server hard (PostgreSQL's immediate shutdown, MariaDB's
// SIGKILL) and waits for its process to exit.
func (s *privateServer) crash(t testing.TB) {
	t.Helper()
	s.crashFn(t)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the %v server did not exit", s.d)
	}
}

// stop shuts the server down cleanly, or kills it after 20 s.
func (s *privateServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(s.quit)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// logTail returns the end of the server's log.
func (s *privateServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// startPostgres initializes a PostgreSQL cluster in a fresh directory,
// starts it on a free port with a database storeDB for the store, and
// returns it; it is stopped when the test ends.
func startPostgres(t *testing.T) *privateServer {
	t.Helper()
	bin, err := postgresBinDir()
	if err != nil {
		t.Skip(err)
	}
	cred := serviceUser(t, "postgres")
	dir := serverDir(t, cred)
	data := filepath.Join(dir, "data")
	runTool(t, cred, dir, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	s := &privateServer{d: sqlstore.Postgres, dir: dir, port: freePort(t), cred: cred, quit: syscall.SIGINT}
	s.argv = []string{filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
		"-c", "max_connections=100", "-c", "shared_buffers=32MB"}
	s.crashFn = func(t testing.TB) {
		runTool(t, cred, dir, filepath.Join(bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w")
	}
	base := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/", s.port)
	s.admin = openPool(t, "pgx", base+"postgres?sslmode=disable", 2)
	t.Cleanup(s.stop) // before the admin pool closes, after the store's
	s.start(t)
	if _, err := s.admin.Exec("CREATE DATABASE " + storeDB); err != nil {
		t.Fatal(err)
	}
	s.storeDSN = base + storeDB + "?sslmode=disable"
	return s
}

// startMariaDB installs a MariaDB data directory in a fresh directory,
// starts mariadbd on a free port with a database storeDB and a user
// storeUser for the store, and returns it; it is stopped when the test
// ends.
func startMariaDB(t *testing.T) *privateServer {
	t.Helper()
	server, installDB, err := mariadbBins()
	if err != nil {
		t.Skip(err)
	}
	cred := serviceUser(t, "mysql")
	dir := serverDir(t, cred)
	s := &privateServer{d: sqlstore.MySQL, dir: dir, port: freePort(t), cred: cred, quit: syscall.SIGTERM}
	cnf := writeMariaDBConfig(t, s)
	runTool(t, cred, dir, installDB, "--defaults-file="+cnf, "--auth-root-authentication-method=normal",
		"--skip-test-db")
	s.argv = []string{server, "--defaults-file=" + cnf}
	s.crashFn = func(t testing.TB) {
		if err := s.cmd.Process.Kill(); err != nil { // kill -9
			t.Fatal(err)
		}
	}
	s.admin = openPool(t, "mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.port), 2)
	t.Cleanup(s.stop)
	s.start(t)
	for _, q := range []string{
		"CREATE DATABASE " + storeDB,
		"CREATE USER '" + storeUser + "'@'%' IDENTIFIED BY '" + storeUser + "'",
		"GRANT ALL ON " + storeDB + ".* TO '" + storeUser + "'@'%'",
	} {
		if _, err := s.admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.DBName = storeUser, storeUser, "tcp", storeDB
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", s.port)
	cfg.ParseTime, cfg.InterpolateParams = true, true
	s.storeDSN = cfg.FormatDSN()
	return s
}

// writeMariaDBConfig writes the option file of s and returns its path.
func writeMariaDBConfig(t testing.TB, s *privateServer) string {
	t.Helper()
	cnf := filepath.Join(s.dir, "my.cnf")
	text := fmt.Sprintf(`[mysqld]
datadir=%[1]s/data
socket=%[1]s/mysqld.sock
pid-file=%[1]s/mysqld.pid
port=%[2]d
bind-address=127.0.0.1
skip-name-resolve
skip-log-bin
innodb_buffer_pool_size=64M
max_connections=200
`, s.dir, s.port)
	if err := os.WriteFile(cnf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cnf
}

// openPool opens a pool of at most conns connections without connecting;
// it is closed when the test ends.
func openPool(t testing.TB, driver, dsn string, conns int) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	t.Cleanup(func() { db.Close() })
	return db
}

// terminateStoreSessions ends every session of the store from the admin
// pool, PostgreSQL's backends of storeDB with pg_terminate_backend,
// MariaDB's connections of storeUser with KILL, and returns how many.
func (s *privateServer) terminateStoreSessions(ctx context.Context) (int, error) {
	if s.d == sqlstore.Postgres {
		var n int
		err := s.admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()) x`, storeDB).Scan(&n)
		return n, err
	}
	rows, err := s.admin.QueryContext(ctx, `SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()`, storeUser)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	killed := 0
	for _, id := range ids {
		// A connection may have gone meanwhile (ER_NO_SUCH_THREAD).
		if _, err := s.admin.ExecContext(ctx, "KILL "+strconv.FormatInt(id, 10)); err == nil {
			killed++
		}
	}
	return killed, nil
}
