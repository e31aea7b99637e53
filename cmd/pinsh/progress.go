package main

import (
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
// progressDelay, and at most every progressEvery; the line is erased when
// the work ends, so it never mixes with results or errors.
const (
	progressDelay = 500 * time.Millisecond
	progressEvery = 100 * time.Millisecond
)

// progress counts the items the store has committed, per action, during one
// piece of work (a script, or one prompt input).
type progress struct {
	w   io.Writer // nil: progress is not shown
	now func() time.Time

	mu     sync.Mutex
	start  time.Time      // when the work began; zero between pieces of work
	counts map[string]int // items committed per action
	last   time.Time      // when the line was last drawn
	shown  bool           // a line is on the screen
}

// newProgress returns a progress that draws on w, or nil (nothing shown)
// when w is nil.
func newProgress(w io.Writer) *progress {
	if w == nil {
		return nil
	}
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
	p.start, p.counts, p.shown = p.now(), map[string]int{}, false
}

// add records n more items of action committed. A nil progress ignores it.
func (p *progress) add(action string, n int) {
	if p == nil || n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started()
	p.counts[action] += n
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
	p.draw()
}

// started starts a piece of work if none is under way.
func (p *progress) started() {
	if p.start.IsZero() {
		p.start = p.now()
		p.counts = map[string]int{}
	}
}

// draw redraws the line when the work has run long enough and the line is
// due.
func (p *progress) draw() {
	t := p.now()
	if t.Sub(p.start) < progressDelay || p.shown && t.Sub(p.last) < progressEvery {
		return
	}
	actions := make([]string, 0, len(p.counts))
	for a := range p.counts {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = fmt.Sprintf("%s: %s done", a, thousands(p.counts[a]))
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s (%s)", strings.Join(parts, ", "), t.Sub(p.start).Round(time.Second))
	p.last, p.shown = t, true
}

// done ends the piece of work and erases the line. A nil progress ignores
// it.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.start, p.counts, p.shown = time.Time{}, nil, false
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
