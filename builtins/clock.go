package builtins

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/lang"
)

// Clock is the shell's notion of "now". It reads the wall clock, unless it
// was frozen (--now, PINSH_NOW, every script test); either way Advance moves
// it forward, so lockout windows and expiry can be tested without waiting.
// A Clock is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	frozen bool
	at     time.Time     // the frozen time
	offset time.Duration // added to the wall clock when not frozen
}

// NewClock returns a clock that follows the wall clock.
func NewClock() *Clock { return &Clock{} }

// FrozenClock returns a clock stopped at t; only Advance moves it.
func FrozenClock(t time.Time) *Clock { return &Clock{frozen: true, at: t.UTC()} }

// Now returns the current time of the clock, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}

// whenForms lists what parseWhen accepts, for its error messages.
const whenForms = `"today", "yesterday", a date "2026-12-02", a time "2026-12-02T15:04:05Z", ` +
	`an offset from now "-7d" (as now() takes), or a time such as now("-7d")`

// parseWhen reads a point in time as an admin types it: a time value
// (now("-7d")); "now", "today" or "yesterday"; an offset from now as now()
// takes it ("-7d", "-12h"); a date ("2026-12-02"); or an RFC 3339 time
// ("2026-12-02T15:04:05Z", or without a zone, UTC). Days are UTC days, as
// pinsh prints times. A day (a date, today, yesterday) means its first
// instant, or with endOfDay the first instant of the next day, so that a
// range from day d until day d is all of d.
func parseWhen(v tengo.Object, now time.Time, endOfDay bool) (time.Time, error) {
	switch v := v.(type) {
	case *lang.Time:
		if t, ok := v.Time(); ok {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("must be a date or time, not never; write %s", whenForms)
	case *tengo.Time:
		return v.Value.UTC(), nil
	case *tengo.String:
		return parseWhenString(v.Value, now, endOfDay)
	}
	return time.Time{}, fmt.Errorf("must be a date or time, not %s; write %s", v.TypeName(), whenForms)
}

func parseWhenString(s string, now time.Time, endOfDay bool) (time.Time, error) {
	day := func(t time.Time) time.Time {
		y, m, d := t.UTC().Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "now":
		return now, nil
	case "today":
		return day(now), nil
	case "yesterday":
		return day(now.AddDate(0, 0, -1)), nil
	}
	if d, err := time.Parse(time.DateOnly, t); err == nil {
		return day(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if tm, err := time.Parse(layout, t); err == nil {
			return tm.UTC(), nil
		}
	}
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		if d, err := parseDuration(t); err == nil {
			return now.Add(d), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time; write %s", s, whenForms)
}
