package main

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"
)

// termWidth is the width of the prompt's terminal: the one source readline
// (its FuncGetWidth and FuncOnWidthChanged) and the tables
// (lang.Options.TermWidth) read, so that they agree. A SIGWINCH reads it
// again and then tells readline, whose own listener is not installed. The
// prompt also reads it again as an input starts and after an answer typed
// at a question, where a resize is to be seen even before its signal has
// been handled.
type termWidth struct {
	f *os.File
	w atomic.Int64

	mu       sync.Mutex
	onChange func() // readline's, called after each SIGWINCH
}

// newTermWidth returns the width of the terminal f, read now.
func newTermWidth(f *os.File) *termWidth {
	t := &termWidth{f: f}
	t.refresh()
	return t
}

// refresh reads the width from the terminal; a failed read keeps the last.
func (t *termWidth) refresh() {
	if w, _, err := term.GetSize(int(t.f.Fd())); err == nil && w > 0 {
		t.w.Store(int64(w))
	}
}

// get returns the width last read.
func (t *termWidth) get() int { return int(t.w.Load()) }

// notify is readline's FuncOnWidthChanged: f is called after each resize.
func (t *termWidth) notify(f func()) {
	t.mu.Lock()
	t.onChange = f
	t.mu.Unlock()
}

// watch reads the width again on every SIGWINCH until stop is called.
func (t *termWidth) watch() (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range sigs {
			t.refresh()
			t.mu.Lock()
			f := t.onChange
			t.mu.Unlock()
			if f != nil {
				f()
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(sigs)
		<-done
	}
}
