package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxWindowDays is the longest window expiring takes, in days: 100 years.
const maxWindowDays = 36500

// window is the value of expiring's --within: whole days ("30d") or a Go
// duration ("720h", "90m"), neither negative nor over maxWindowDays.
type window time.Duration

// errWindow says what a window may be.
var errWindow = fmt.Errorf("want whole days (30d) or a duration (720h, 90m), from 0 to %dd", maxWindowDays)

// Set implements flag.Value.
func (w *window) Set(s string) error {
	d, err := parseWindow(s)
	if err != nil {
		return err
	}
	*w = window(d)
	return nil
}

// String implements flag.Value: whole days as days.
func (w *window) String() string {
	d := time.Duration(*w)
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// parseWindow reads a window.
func parseWindow(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("a window must not be negative")
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, errWindow
		case err != nil || n > maxWindowDays:
			return 0, fmt.Errorf("%s is over %dd (100 years)", s, maxWindowDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, errWindow
	case d > maxWindowDays*24*time.Hour:
		return 0, fmt.Errorf("%s is over %dd (100 years)", s, maxWindowDays)
	}
	return d, nil
}
