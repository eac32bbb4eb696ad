// Command icpverify is the operator's tool for an icpverify inventory kept
// in a SQL database by package sqlstore: PostgreSQL, MySQL/MariaDB or
// SQLite.
//
// Usage:
//
//	icpverify [--database-url URL] [--prefix PREFIX] <subcommand> [flags] [args]
//
// Subcommands:
//
//	migrate                              create or upgrade the tables; print the schema version before and after
//	import [--format jsonl|csv] FILE|-   load instances from JSON Lines or CSV, refusing bad rows by line
//	code CODE                            show a service code's status
//	codes INSTANCE --account ACCOUNT     list an instance's service codes
//	revoke CODE                          revoke a service code for good
//	expiring --account ACCOUNT [--within 30d]
//	                                     list the account's codes whose instance expires soon
//	help [SUBCOMMAND]                    show this text, or a subcommand's
//
// Every subcommand takes, before or after its name:
//
//	--database-url URL   the database; default $ICPVERIFY_DATABASE_URL
//	--prefix PREFIX      the table name prefix (default "icpverify_")
//
// The database URL is one of
//
//	postgres://user:pass@host:5432/db?sslmode=verify-full   (or postgresql://; any pgx URL)
//	mysql://user:pass@host:3306/db?param=value              (MySQL or MariaDB; go-sql-driver parameters)
//	mysql://user:pass@localhost/db?socket=/run/mysqld/mysqld.sock   (over a unix socket)
//	sqlite:relative/path.db  or  sqlite:///absolute/path.db
//
// or the MySQL driver's own DSN, as sqlstore's callers open it:
//
//	user:pass@tcp(host:3306)/db?param=value   or  user:pass@unix(/path/mysqld.sock)/db
//
// Every subcommand but migrate needs the tables at this command's schema
// version; without them it fails with "run migrate first".
//
// The code, codes and expiring subcommands print aligned text, or JSON with
// --json. Flags may come before or after the arguments. Errors go to the
// standard error; the exit status is 0 on success, 1 on failure and 2 on
// bad usage. -h or --help prints the usage to the standard output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/icpfiling/icpverify/sqlstore"
)

const usageText = `Usage: icpverify [--database-url URL] [--prefix PREFIX] <subcommand> [flags] [args]

Subcommands:
  migrate                              create or upgrade the tables; print the schema version before and after
  import [--format jsonl|csv] FILE|-   load instances from JSON Lines or CSV, refusing bad rows by line
  code CODE                            show a service code's status
  codes INSTANCE --account ACCOUNT     list an instance's service codes
  revoke CODE                          revoke a service code for good
  expiring --account ACCOUNT [--within 30d]
                                       list the account's codes whose instance expires soon
  help [SUBCOMMAND]                    show this text, or a subcommand's

Every subcommand takes, before or after its name:
  --database-url URL   the database; default $ICPVERIFY_DATABASE_URL
  --prefix PREFIX      the table name prefix (default "icpverify_")

Database URLs:
  postgres://user:pass@host:5432/db?sslmode=verify-full   (or postgresql://)
  mysql://user:pass@host:3306/db?param=value              (MySQL or MariaDB)
  mysql://user:pass@localhost/db?socket=/run/mysqld/mysqld.sock   (a unix socket)
  sqlite:relative/path.db  or  sqlite:///absolute/path.db
  user:pass@tcp(host:3306)/db?param=value                 (the MySQL driver's own DSN)

Every subcommand but migrate needs the tables: run migrate first.

Run 'icpverify <subcommand> -h' for a subcommand's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env is what a subcommand runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is a subcommand: its name, the synopsis of its arguments, and
// the function that defines its flags on fs and returns what runs it.
type command struct {
	name, synopsis, help string
	setup                func(fs *flag.FlagSet, db *dbFlags) func(ctx context.Context, e *env, args []string) int
}

var commands = []*command{migrateCmd, importCmd, codeCmd, codesCmd, revokeCmd, expiringCmd}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run runs the command line args (without the program's name) and returns
// the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	args, err := commandFirst(args)
	if err != nil {
		fmt.Fprintf(stderr, "icpverify: %v\n\n%s", err, usageText)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if args[0] == "help" && len(args) > 1 {
			c := lookup(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "icpverify help: unknown subcommand %q\n", args[1])
				return 2
			}
			fs, _ := c.flagSet()
			c.usage(stdout, fs)
			return 0
		}
		fmt.Fprint(stdout, usageText)
		return 0
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "icpverify: unknown subcommand %q\n\n%s", args[0], usageText)
		return 2
	}
	fs, exec := c.flagSet()
	fs.SetOutput(stderr)
	rest, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout, fs)
		return 0
	}
	if err != nil {
		// The flag package printed the error.
		c.usage(stderr, fs)
		return 2
	}
	return exec(ctx, e, rest)
}

// commandFirst moves the flags every subcommand takes, when they come
// before the subcommand's name ("icpverify --database-url URL migrate"),
// after it, where the subcommand's flag set reads them. A help flag among
// them asks for the usage; any other flag before the name, or none but
// flags, is bad usage.
func commandFirst(args []string) ([]string, error) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch {
		case name == "h" || name == "help":
			return args[i : i+1], nil
		case name != "database-url" && name != "prefix":
			return nil, fmt.Errorf("flag %s must follow the subcommand", args[i])
		case hasValue:
			i++
		case i+1 < len(args):
			i += 2
		default:
			return nil, fmt.Errorf("flag %s needs a value", args[i])
		}
	}
	if i == 0 {
		return args, nil
	}
	if i == len(args) {
		return nil, errors.New("no subcommand")
	}
	return append(append([]string{args[i]}, args[:i]...), args[i+1:]...), nil
}

// flagSet returns the subcommand's flags and what runs it.
func (c *command) flagSet() (*flag.FlagSet, func(context.Context, *env, []string) int) {
	fs := flag.NewFlagSet("icpverify "+c.name, flag.ContinueOnError)
	fs.Usage = func() {} // run prints the usage where it belongs
	db := &dbFlags{}
	fs.StringVar(&db.url, "database-url", "", "the database `URL`; default $"+databaseURLEnv)
	fs.StringVar(&db.prefix, "prefix", sqlstore.DefaultPrefix, "the table name `prefix`")
	return fs, c.setup(fs, db)
}

// usage prints the subcommand's usage and flags to w.
func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: icpverify %s %s\n\n%s\n\nFlags:\n", c.name, c.synopsis, strings.TrimSpace(c.help))
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseInterspersed parses flags anywhere among the arguments, as in
// "codes INSTANCE --account ACCOUNT", and returns the arguments that are
// not flags. After "--" every argument is one.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(rest, fs.Args()...), nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError reports bad usage of a subcommand: exit status 2.
func usageError(e *env, name, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "icpverify %s: %s\nRun 'icpverify %s -h' for usage.\n", name, fmt.Sprintf(format, a...), name)
	return 2
}

// failure reports a failure of a subcommand: exit status 1.
func failure(e *env, name string, err error) int {
	fmt.Fprintf(e.stderr, "icpverify %s: %v\n", name, err)
	return 1
}
