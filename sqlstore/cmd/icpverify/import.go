package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

var importCmd = &command{
	name:     "import",
	synopsis: "[--format jsonl|csv] [--transfer] [--product TYPE]... FILE|-",
	help: `Import loads instances into the inventory, adding them or replacing them
(a replaced instance keeps its count of issued codes), from FILE or, with
"-", the standard input: JSON Lines (one object per line) or CSV with a
header row. The fields are

  id           required; no spaces, no invisible or control characters
  account      required; the same rule
  product      required: ecs, swas, slb, ack, oss, cdn, or a --product
  status       required: running, stopped or released
  billing      subscription or pay-as-you-go
  region       the same rule as id, e.g. cn-hangzhou
  term_months  a whole number, not negative
  public_ip    an IPv4 or IPv6 address
  trial        true or false
  expires_at   an RFC 3339 time, e.g. 2027-06-01T00:00:00Z

Product, status and billing are taken in any case and stored in lower
case; a public IP is stored as Go's net/netip writes it. Text fields are
at most 256 bytes. A JSON object names each field once, exactly; null is
as if absent; a line must be valid UTF-8 and at most 64 KiB (a CSV row
over 64 KiB stops the import).

A row is refused, reported with its line number on the standard error,
and the rest are loaded, when it breaks a rule above, or when

  - its instance ID is on an earlier row of the input: both line numbers
    are reported, and only the earlier row is taken, whether the two rows
    name one account or two;
  - the inventory holds its instance under another account: an import
    moves an instance to another account only with --transfer, and then
    reports each move.

Rows are loaded in batches. A progress bar (bytes read, rate, time left,
rows loaded and bad) is drawn when the standard error is a terminal; at the
end one line sums up: "loaded N, bad M". The exit status is 1 if any row
was bad. The tables must exist: run migrate first.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		format := fs.String("format", "", "the input `format`, jsonl or csv (default: from the file's extension, else jsonl)")
		batch := fs.Int("batch", 1000, "instances per batch")
		transfer := fs.Bool("transfer", false, "let rows move instances the inventory holds to another account, reporting each move")
		known := products(catalogue())
		fs.Func("product", "take the product `type` as well as the catalogue's; may be repeated", func(v string) error {
			if !validProductName(v) {
				return errors.New("want 1 to 32 lower-case ASCII letters, digits, '-' or '_', starting with a letter")
			}
			known = append(known, icpverify.ProductType(v))
			return nil
		})
		return func(ctx context.Context, e *env, args []string) int {
			if len(args) != 1 {
				return usageError(e, "import", "want one FILE or -, got %d arguments", len(args))
			}
			f := *format
			if f == "" {
				f = "jsonl"
				if strings.HasSuffix(strings.ToLower(args[0]), ".csv") {
					f = "csv"
				}
			}
			if f != "jsonl" && f != "csv" {
				return usageError(e, "import", "unknown --format %q: want jsonl or csv", f)
			}
			if *batch < 1 {
				return usageError(e, "import", "--batch must be at least 1")
			}
			im := &importer{e: e, batchSize: *batch, known: known, transfer: *transfer, prefix: db.prefix,
				seen: map[string]seenRow{}, accounts: map[string]string{}}
			return im.run(ctx, db, f, args[0])
		}
	},
}

// importer loads rows in batches.
type importer struct {
	e         *env
	store     *sqlstore.Store
	prefix    string // the store's table prefix
	batchSize int
	known     products // the product types taken
	transfer  bool     // rows may move instances to another account
	progress  *progress

	batch    []icpverify.Instance
	pending  []pendingRow       // of each instance of batch
	seen     map[string]seenRow // the rows taken so far, by instance ID
	accounts map[string]string  // one string per account, for seen

	loaded, moved, bad int
}

// pendingRow is where an instance of the batch comes from.
type pendingRow struct {
	line int
	from string // the account the inventory holds it under, if it moves
}

// seenRow is a row taken for loading.
type seenRow struct {
	line    int
	account string
}

// run imports the file named name (or "-") in format f into the store of db.
func (im *importer) run(ctx context.Context, db *dbFlags, f, name string) int {
	e := im.e
	in, size := e.stdin, int64(-1)
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return failure(e, "import", err)
		}
		defer file.Close()
		in = file
		if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	s, closeFn, status := openMigrated(ctx, e, "import", db)
	if s == nil {
		return status
	}
	defer closeFn()
	im.store = s
	im.progress = newProgress(e.stderr, size)
	in = im.progress.reader(in)
	var err error
	if f == "csv" {
		err = readCSV(in, func(line int, rec record, rerr error) error { return im.row(ctx, line, rec, rerr) })
	} else {
		err = readJSONL(in, func(line int, rec record, rerr error) error { return im.row(ctx, line, rec, rerr) })
	}
	if err == nil {
		err = im.flush(ctx)
	} else if ctx.Err() == nil {
		// What was read before the input failed is loaded.
		if ferr := im.flush(ctx); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	im.progress.done(im.summary())
	if err != nil {
		return failure(e, "import", err)
	}
	if im.bad > 0 {
		return 1
	}
	return 0
}

// summary is the line that sums up the import.
func (im *importer) summary() string {
	if im.moved > 0 {
		return fmt.Sprintf("loaded %d (%d moved to another account), bad %d", im.loaded, im.moved, im.bad)
	}
	return fmt.Sprintf("loaded %d, bad %d", im.loaded, im.bad)
}

// badRow reports a bad row.
func (im *importer) badRow(line int, format string, a ...any) {
	im.bad++
	im.progress.message("icpverify import: line %d: %s", line, fmt.Sprintf(format, a...))
	im.progress.counts(im.summary())
}

// row takes the row read on line: rec, or rerr if it is not one.
func (im *importer) row(ctx context.Context, line int, rec record, rerr error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped at line %d: %w", line, err)
	}
	if rerr != nil {
		im.badRow(line, "%v", rerr)
		return nil
	}
	inst, err := rec.instance(im.known)
	if err != nil {
		im.badRow(line, "%v", err)
		return nil
	}
	if prev, dup := im.seen[inst.ID]; dup {
		if prev.account != inst.Account {
			im.badRow(line, "instance %s is on line %d already, for another account (%s there, %s here): only the first row of an instance is taken",
				show(inst.ID), prev.line, show(prev.account), show(inst.Account))
		} else {
			im.badRow(line, "instance %s is on line %d already: only the first row of an instance is taken", show(inst.ID), prev.line)
		}
		return nil
	}
	account, ok := im.accounts[inst.Account]
	if !ok {
		account = inst.Account
		im.accounts[account] = account
	}
	im.seen[inst.ID] = seenRow{line: line, account: account}
	im.batch = append(im.batch, inst)
	im.pending = append(im.pending, pendingRow{line: line})
	if len(im.batch) >= im.batchSize {
		return im.flush(ctx)
	}
	return nil
}

// drop removes the instance i from the batch.
func (im *importer) drop(i int) {
	im.batch = append(im.batch[:i], im.batch[i+1:]...)
	im.pending = append(im.pending[:i], im.pending[i+1:]...)
}

// flush loads the queued instances. An instance the store refuses, or
// that would move to another account without --transfer, is reported as a
// bad row and the others are loaded: PutInstances checks them all before
// it writes anything.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.checkOwners(ctx); err != nil {
		return fmt.Errorf("after %d instances loaded: %w", im.loaded, err)
	}
	for len(im.batch) > 0 {
		err := im.store.PutInstances(ctx, im.batch)
		var pe *sqlstore.PutInstancesError
		if errors.As(err, &pe) && pe.Index >= 0 && pe.Index < len(im.batch) {
			im.badRow(im.pending[pe.Index].line, "%v", errors.Unwrap(pe))
			im.drop(pe.Index)
			continue
		}
		if err != nil {
			return fmt.Errorf("after %d instances loaded: %w", im.loaded, err)
		}
		im.loaded += len(im.batch)
		for i, p := range im.pending {
			if p.from != "" {
				im.moved++
				im.progress.message("icpverify import: line %d: instance %s moved from account %s to %s",
					p.line, show(im.batch[i].ID), show(p.from), show(im.batch[i].Account))
			}
		}
		break
	}
	im.batch, im.pending = im.batch[:0], im.pending[:0]
	im.progress.counts(im.summary())
	return nil
}

// checkOwners refuses the instances of the batch that the inventory holds
// under another account, unless the import may move them; those it may
// move are marked.
func (im *importer) checkOwners(ctx context.Context) error {
	ids := make([]string, len(im.batch))
	for i, inst := range im.batch {
		ids[i] = inst.ID
	}
	owner, err := owners(ctx, im.store, im.prefix, ids)
	if err != nil {
		return err
	}
	for i := 0; i < len(im.batch); {
		inst := im.batch[i]
		prev, ok := owner[inst.ID]
		switch {
		case !ok || prev == inst.Account:
		case !im.transfer:
			im.badRow(im.pending[i].line, "instance %s belongs to account %s in the inventory, not %s: an import moves an instance to another account only with --transfer",
				show(inst.ID), show(prev), show(inst.Account))
			im.drop(i)
			continue
		default:
			im.pending[i].from = prev
		}
		i++
	}
	return nil
}

// ownersChunk is the most IDs one query of owners asks for, within every
// dialect's limit of parameters.
const ownersChunk = 1000

// owners returns the accounts that own those of ids the store holds. It
// reads the instances table itself: the Store has no call that reads many
// instances by ID at once.
func owners(ctx context.Context, s *sqlstore.Store, prefix string, ids []string) (map[string]string, error) {
	owner := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += ownersChunk {
		chunk := ids[start:min(start+ownersChunk, len(ids))]
		var q strings.Builder
		q.WriteString("SELECT id, account FROM " + prefix + "instances WHERE id IN (") // the prefix is checked by sqlstore.New
		args := make([]any, len(chunk))
		for i, id := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			if s.Dialect() == sqlstore.Postgres {
				fmt.Fprintf(&q, "$%d", i+1)
			} else {
				q.WriteByte('?')
			}
			args[i] = id
		}
		q.WriteByte(')')
		if err := readOwners(ctx, s, q.String(), args, owner); err != nil {
			return nil, err
		}
	}
	return owner, nil
}

// readOwners runs the query of owners and adds its rows to owner.
func readOwners(ctx context.Context, s *sqlstore.Store, query string, args []any, owner map[string]string) error {
	rows, err := s.DB().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading the instances' accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, account string
		if err := rows.Scan(&id, &account); err != nil {
			return fmt.Errorf("reading the instances' accounts: %w", err)
		}
		owner[id] = account
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the instances' accounts: %w", err)
	}
	return nil
}

// rowFunc takes a row read on line: rec, or rerr saying why the row is
// not one. An error it returns stops the reading.
type rowFunc func(line int, rec record, rerr error) error

// errRowTooLong is the error of a row over maxRow bytes.
var errRowTooLong = fmt.Errorf("a row is over %d bytes", maxRow)

// readJSONL reads JSON Lines: one object per line; blank lines are
// skipped. A line over maxRow bytes is a bad row, skipped without being
// held in memory.
func readJSONL(r io.Reader, fn rowFunc) error {
	br := bufio.NewReaderSize(r, maxRow+1)
	for line := 1; ; line++ {
		text, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if ferr := fn(line, record{}, errRowTooLong); ferr != nil {
				return ferr
			}
		} else if !blank(text) {
			rec, perr := parseJSONLine(text)
			if ferr := fn(line, rec, perr); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading line %d: %w", line, err)
		}
	}
}

// blank reports whether b holds nothing but JSON's white space.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// readCSV reads CSV with a header row of the record's field names. Every
// row has as many fields as the header. A row over maxRow bytes stops the
// reading: where a quoted field ends is then unknown.
func readCSV(r io.Reader, fn rowFunc) error {
	lim := &rowLimit{r: r}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the header row: %w", err)
	}
	col, err := csvColumns(header)
	if err != nil {
		return err
	}
	last := 1 // the line of the last row read
	for {
		lim.start = cr.InputOffset()
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, errRowTooLong) {
			if ferr := fn(pe.StartLine, record{}, pe.Err); ferr != nil {
				return ferr
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the row after line %d: %w", last, err)
		}
		line, _ := cr.FieldPos(0)
		last = line
		rec, rerr := csvRecord(col, row)
		if ferr := fn(line, rec, rerr); ferr != nil {
			return ferr
		}
	}
}

// rowLimit fails a read once more than maxRow bytes, and a buffer's worth
// that the CSV reader reads ahead, have been read since start, the
// offset of the current row: a row without end does not fill the memory.
type rowLimit struct {
	r     io.Reader
	read  int64
	start int64
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.read-l.start > maxRow+4096 {
		return 0, errRowTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}
