package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

var importCmd = &command{
	name:     "import",
	synopsis: "[--format jsonl|csv] FILE|-",
	help: `Import loads instances into the inventory, adding them or replacing them
(a replaced instance keeps its count of issued codes), from FILE or, with
"-", the standard input: JSON Lines (one object per line) or CSV with a
header row. The fields are

  id, account, product, region, billing, term_months, public_ip, trial,
  status, expires_at (RFC 3339)

of which id is required. Rows are loaded in batches; a bad row is reported
with its line number on the standard error and skipped, and the rest are
loaded. A progress bar is drawn when the standard error is a terminal, else
one line sums up: "loaded N, bad M". The exit status is 1 if any row was bad.`,
	setup: func(fs *flag.FlagSet, db *dbFlags) func(context.Context, *env, []string) int {
		format := fs.String("format", "", "the input `format`, jsonl or csv (default: from the file's extension, else jsonl)")
		batch := fs.Int("batch", 1000, "instances per batch")
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
			in, size := e.stdin, int64(-1)
			if args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return failure(e, "import", err)
				}
				defer file.Close()
				in = file
				if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
					size = fi.Size()
				}
			}
			s, closeFn, status := openStore(ctx, e, "import", db)
			if s == nil {
				return status
			}
			defer closeFn()
			im := &importer{e: e, store: s, batchSize: *batch, progress: newProgress(e.stderr, size)}
			cr := &countingReader{r: in}
			im.progress.read = &cr.n
			var err error
			if f == "csv" {
				err = im.readCSV(ctx, cr)
			} else {
				err = im.readJSONL(ctx, cr)
			}
			if err == nil {
				err = im.flush(ctx)
			}
			im.progress.done(im.loaded, im.bad)
			if err != nil {
				return failure(e, "import", err)
			}
			if im.bad > 0 {
				return 1
			}
			return 0
		}
	},
}

// importer loads rows in batches.
type importer struct {
	e         *env
	store     *sqlstore.Store
	batchSize int
	progress  *progress
	batch     []icpverify.Instance
	lines     []int // the line of each instance of batch
	loaded    int
	bad       int
}

// badRow reports a bad row.
func (im *importer) badRow(line int, format string, a ...any) {
	im.bad++
	im.progress.clear()
	fmt.Fprintf(im.e.stderr, "icpverify import: line %d: %s\n", line, fmt.Sprintf(format, a...))
	im.progress.draw(im.loaded, im.bad)
}

// add queues an instance read on line, and loads the batch once full.
func (im *importer) add(ctx context.Context, line int, inst icpverify.Instance) error {
	im.batch = append(im.batch, inst)
	im.lines = append(im.lines, line)
	if len(im.batch) >= im.batchSize {
		return im.flush(ctx)
	}
	return nil
}

// flush loads the queued instances. An instance the store refuses is
// reported as a bad row and the others are loaded: PutInstances checks them
// all before it writes anything.
func (im *importer) flush(ctx context.Context) error {
	for len(im.batch) > 0 {
		err := im.store.PutInstances(ctx, im.batch)
		var pe *sqlstore.PutInstancesError
		if errors.As(err, &pe) && pe.Index >= 0 && pe.Index < len(im.batch) {
			im.badRow(im.lines[pe.Index], "%v", errors.Unwrap(pe))
			im.batch = append(im.batch[:pe.Index], im.batch[pe.Index+1:]...)
			im.lines = append(im.lines[:pe.Index], im.lines[pe.Index+1:]...)
			continue
		}
		if err != nil {
			return fmt.Errorf("after %d instances loaded: %w", im.loaded, err)
		}
		im.loaded += len(im.batch)
		break
	}
	im.batch, im.lines = im.batch[:0], im.lines[:0]
	im.progress.draw(im.loaded, im.bad)
	return nil
}

// record is an instance as a row gives it.
type record struct {
	ID         string `json:"id"`
	Account    string `json:"account"`
	Product    string `json:"product"`
	Region     string `json:"region"`
	Billing    string `json:"billing"`
	TermMonths int    `json:"term_months"`
	PublicIP   string `json:"public_ip"`
	Trial      bool   `json:"trial"`
	Status     string `json:"status"`
	ExpiresAt  string `json:"expires_at"`
}

// instance checks r and returns its instance.
func (r record) instance() (icpverify.Instance, error) {
	if r.ID == "" {
		return icpverify.Instance{}, errors.New("id is missing")
	}
	if r.TermMonths < 0 {
		return icpverify.Instance{}, fmt.Errorf("term_months %d is negative", r.TermMonths)
	}
	switch b := icpverify.Billing(r.Billing); b {
	case "", icpverify.Subscription, icpverify.PayAsYouGo:
	default:
		return icpverify.Instance{}, fmt.Errorf("billing %q: want %q or %q", r.Billing, icpverify.Subscription, icpverify.PayAsYouGo)
	}
	switch st := icpverify.Status(r.Status); st {
	case "", icpverify.Running, icpverify.Stopped, icpverify.Released:
	default:
		return icpverify.Instance{}, fmt.Errorf("status %q: want %q, %q or %q", r.Status, icpverify.Running, icpverify.Stopped, icpverify.Released)
	}
	inst := icpverify.Instance{
		ID: r.ID, Account: r.Account, Product: icpverify.ProductType(r.Product), Region: r.Region,
		Billing: icpverify.Billing(r.Billing), TermMonths: r.TermMonths, PublicIP: r.PublicIP,
		Trial: r.Trial, Status: icpverify.Status(r.Status),
	}
	if r.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, r.ExpiresAt)
		if err != nil {
			return icpverify.Instance{}, fmt.Errorf("expires_at %q is not an RFC 3339 time", r.ExpiresAt)
		}
		inst.ExpiresAt = t
	}
	return inst, nil
}

// readJSONL reads JSON Lines: one object per line; blank lines are skipped.
func (im *importer) readJSONL(ctx context.Context, r io.Reader) error {
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(text)) > 0 {
			var rec record
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&rec); derr != nil {
				im.badRow(line, "%v", derr)
			} else if dec.More() {
				im.badRow(line, "more than one JSON value")
			} else if inst, ierr := rec.instance(); ierr != nil {
				im.badRow(line, "%v", ierr)
			} else if aerr := im.add(ctx, line, inst); aerr != nil {
				return aerr
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

// readCSV reads CSV with a header row of the record's field names.
func (im *importer) readCSV(ctx context.Context, r io.Reader) error {
	cr := csv.NewReader(r)
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
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			im.badRow(pe.StartLine, "%v", pe.Err)
			continue
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		rec, msg := csvRecord(col, row)
		if msg != "" {
			im.badRow(line, "%s", msg)
			continue
		}
		inst, err := rec.instance()
		if err != nil {
			im.badRow(line, "%v", err)
			continue
		}
		if err := im.add(ctx, line, inst); err != nil {
			return err
		}
	}
}

// csvColumns maps the names of a CSV header row to their columns. Every
// name must be a field of record, once, and id must be there.
func csvColumns(header []string) (map[string]int, error) {
	col := map[string]int{}
	known := map[string]bool{"id": true, "account": true, "product": true, "region": true, "billing": true,
		"term_months": true, "public_ip": true, "trial": true, "status": true, "expires_at": true}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if !known[name] {
			return nil, fmt.Errorf("line 1: unknown column %q in the header row", name)
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("line 1: column %q twice in the header row", name)
		}
		col[name] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, errors.New("line 1: the header row has no id column")
	}
	return col, nil
}

// csvRecord reads a CSV row into a record, with the columns of col; msg
// says what is wrong with a row that is not one.
func csvRecord(col map[string]int, row []string) (rec record, msg string) {
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return row[i]
		}
		return ""
	}
	rec = record{ID: get("id"), Account: get("account"), Product: get("product"), Region: get("region"),
		Billing: get("billing"), PublicIP: get("public_ip"), Status: get("status"), ExpiresAt: get("expires_at")}
	if v := get("term_months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return rec, fmt.Sprintf("term_months %q is not a number", v)
		}
		rec.TermMonths = n
	}
	if v := get("trial"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return rec, fmt.Sprintf("trial %q is not true or false", v)
		}
		rec.Trial = b
	}
	return rec, ""
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress draws a progress bar on a terminal, or sums up at the end.
type progress struct {
	w     io.Writer
	tty   bool
	size  int64  // the input's size; -1 if unknown
	read  *int64 // bytes read so far
	drawn bool
}

func newProgress(w io.Writer, size int64) *progress {
	p := &progress{w: w, size: size}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// draw redraws the bar.
func (p *progress) draw(loaded, bad int) {
	if !p.tty {
		return
	}
	const width = 30
	if p.size > 0 && p.read != nil {
		frac := min(float64(*p.read)/float64(p.size), 1)
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r\033[K[%s%s] %3.0f%%  loaded %d, bad %d", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, loaded, bad)
	} else {
		fmt.Fprintf(p.w, "\r\033[Kloaded %d, bad %d", loaded, bad)
	}
	p.drawn = true
}

// clear erases the bar, before a message.
func (p *progress) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// done draws the bar a last time and ends its line, or prints the summary.
func (p *progress) done(loaded, bad int) {
	if p.tty {
		p.draw(loaded, bad)
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "loaded %d, bad %d\n", loaded, bad)
}
