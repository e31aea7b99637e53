package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Progress shows how far long work has got on standard error: imports,
// generated users, and mutations over many targets. It is shown only when
// standard error is a terminal, only once the work has run for
// progressDelay, and at most every progressEvery. The line is erased before
// anything else is written to the terminal (results, per-item errors,
// Confirm questions) and when the work ends, so it never runs into them.
const (
	progressDelay = 500 * time.Millisecond
	progressEvery = 100 * time.Millisecond
)

// progress counts the items the store has processed and changed, per
// action, during one piece of work (a script, or one prompt input). It
// counts even when it is not shown, so that an interrupted run can say how
// many changes were committed.
type progress struct {
	w   io.Writer // nil: progress is not shown
	now func() time.Time

	mu      sync.Mutex
	start   time.Time      // when the work began; zero between pieces of work
	counts  map[string]int // items processed per action
	changed map[string]int // items changed (and committed) per action
	last    time.Time      // when the line was last drawn
	shown   bool           // a line is on the screen

	held    bool        // a pager has the screen: see hold
	pending []heldWrite // what was written meanwhile, in order
	size    int         // bytes in pending
	dropped int         // bytes not kept, past maxHeld
	dropTo  io.Writer   // where the first of them went
}

// heldWrite is a write held while a pager has the screen.
type heldWrite struct {
	w io.Writer
	b []byte
}

// maxHeld bounds what is held while a pager runs (a bulk run's per-item
// errors); the rest is dropped and counted. last_errors() keeps the latest.
const maxHeld = 1 << 20

// hold gives the screen to a pager: the line is erased and not drawn, and
// what is written through the writers (results, per-item errors) is held
// until release. A nil progress ignores it.
func (p *progress) hold() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	p.held = true
}

// release takes the screen back from the pager: it writes what was held,
// in order, and says how much was dropped. A nil progress ignores it.
func (p *progress) release() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.pending {
		h.w.Write(h.b)
	}
	if p.dropped > 0 {
		fmt.Fprintf(p.dropTo, "pinsh: %s more bytes of messages, written while the pager ran, were dropped; last_errors() lists the latest errors\n", thousands(p.dropped))
	}
	p.held, p.pending, p.size, p.dropped, p.dropTo = false, nil, 0, 0, nil
}

// newProgress returns a progress that draws on w, or counts without
// drawing when w is nil.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, now: time.Now}
}

// begin marks the start of a piece of work: the delay before the line is
// shown counts from here. A nil progress ignores it.
func (p *progress) begin() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start, p.counts, p.changed, p.shown = p.now(), map[string]int{}, map[string]int{}, false
}

// add records n more items of action processed, changed of them changed
// and committed. A nil progress ignores it.
func (p *progress) add(action string, n, changed int) {
	if p == nil || n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started()
	p.counts[action] += n
	p.changed[action] += changed
	p.draw()
}

// set records that total items of action have been committed so far.
func (p *progress) set(action string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started()
	p.counts[action] = total
	p.changed[action] = total
	p.draw()
}

// started starts a piece of work if none is under way.
func (p *progress) started() {
	if p.start.IsZero() {
		p.start = p.now()
		p.counts = map[string]int{}
		p.changed = map[string]int{}
	}
}

// draw redraws the line when the work has run long enough and the line is
// due.
func (p *progress) draw() {
	if p.w == nil || p.held {
		return
	}
	t := p.now()
	if t.Sub(p.start) < progressDelay || p.shown && t.Sub(p.last) < progressEvery {
		return
	}
	parts := make([]string, 0, len(p.counts))
	for _, a := range sortedKeys(p.counts) {
		parts = append(parts, fmt.Sprintf("%s: %s done", a, thousands(p.counts[a])))
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s (%s)", strings.Join(parts, ", "), t.Sub(p.start).Round(time.Second))
	p.last, p.shown = t, true
}

// erase removes the line from the screen, if it is there. The caller holds
// p.mu.
func (p *progress) erase() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// clear erases the line, if it is shown, before something else is written
// to the terminal; it is drawn again on the next count that is due. A nil
// progress ignores it.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
}

// writer returns w with every write preceded by clear, so that what is
// written starts at the beginning of an empty line. A nil progress returns
// w.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &clearingWriter{p: p, w: w}
}

// clearingWriter is progress.writer.
type clearingWriter struct {
	p *progress
	w io.Writer
}

func (c *clearingWriter) Write(b []byte) (int, error) {
	// Under the lock, so that no line is drawn between the erase and the
	// write.
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.held {
		if c.p.size+len(b) > maxHeld {
			if c.p.dropped == 0 {
				c.p.dropTo = c.w
			}
			c.p.dropped += len(b)
		} else {
			c.p.pending = append(c.p.pending, heldWrite{c.w, bytes.Clone(b)})
			c.p.size += len(b)
		}
		return len(b), nil
	}
	c.p.erase()
	return c.w.Write(b)
}

// committed describes the changes counted in the current piece of work, as
// "lock_pin: 65,536", one action after another, or "" when none were
// counted. A nil progress returns "".
func (p *progress) committed() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, a := range sortedKeys(p.changed) {
		if n := p.changed[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", a, thousands(n)))
		}
	}
	return strings.Join(parts, ", ")
}

// done ends the piece of work and erases the line. A nil progress ignores
// it.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	p.start, p.counts, p.changed = time.Time{}, nil, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// thousands writes n with thousands separators: 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
