package builtins

import (
	"sync"
	"time"
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
