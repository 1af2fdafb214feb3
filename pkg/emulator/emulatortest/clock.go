package emulatortest

import (
	"sync"
	"time"
)

// Clock is a clock for the emulator that tests move by hand (Advance), so that time-driven
// behaviour such as cluster tasks is tested without sleeping. It starts at the real time so that
// request timestamps signed by real clients stay within the emulator's accepted window.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at the current time.
func NewClock() *Clock { return &Clock{now: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WithManualClock makes the emulator read its time from c.
func WithManualClock(c *Clock) Option { return WithClock(c.Now) }
