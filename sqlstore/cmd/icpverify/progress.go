package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how an import goes. On a terminal it draws a bar of the
// bytes read, with the rate and the time left, as wide as the terminal (a
// spinner when the input's size is unknown), and the counts of rows;
// messages are printed above it. Anywhere else (a file, a pipe,
// /dev/null) it draws nothing and messages are plain lines. Either way,
// done prints the summing-up line last.
//
// Everything is drawn from the calling goroutine, as the input is read:
// the bar has no goroutine of its own that could draw between a message's
// clearing of the bar and the message.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar // nil off a terminal
}

// newProgress returns the progress of an input of size bytes (-1 if
// unknown) shown on w.
func newProgress(w io.Writer, size int64) *progress {
	p := &progress{w: w}
	if !isTerminal(w) {
		return p
	}
	if size <= 0 {
		size = -1 // a spinner
	}
	p.bar = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("loaded 0, bad 0"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine: see progress
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
	return p
}

// isTerminal reports whether w is a terminal, as the terminal's own ioctl
// says: a character device that is not one (/dev/null) is not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reader returns r, counted by the bar.
func (p *progress) reader(r io.Reader) io.Reader {
	if p.bar == nil {
		return r
	}
	pr := progressbar.NewReader(r, p.bar)
	return &pr
}

// message prints a line, above the bar.
func (p *progress) message(format string, a ...any) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", a...)
}

// counts shows the counts of rows next to the bar.
func (p *progress) counts(text string) {
	if p.bar != nil {
		p.bar.Describe(text)
	}
}

// done removes the bar and prints the summing-up line.
func (p *progress) done(summary string) {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, summary)
}
