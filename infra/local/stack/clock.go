package stack

import (
	"sync"
	"time"
)

// Clock is the local AWS's sense of time: the wall clock plus an offset
// that tests move forward (Advance) to see what AWS does later: lifecycle
// expiry, TTL deletion. Functions keep the wall clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Since is Now minus t (gofakes3's TimeSource).
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
