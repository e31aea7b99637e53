package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// demoDir is the temporary directory of a --demo run. A signal may end
// pinsh at any moment, from the first instruction on, so the directory is
// made, filled and removed under one lock: a handler that fires while it
// is being made and seeded waits for that to end (a fraction of a second),
// then removes it. Removing it in the middle would race with the seeding,
// which would make the directory and its files again.
type demoDir struct {
	mu    sync.Mutex
	path  string // "" before it is made and after it is removed
	dying bool   // a signal removed it and is about to end pinsh
}

// prepare makes the directory, calls fill with its path, and returns the
// path. If fill fails, the directory is removed and fill's error returned.
func (d *demoDir) prepare(fill func(dir string) error) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	path, err := os.MkdirTemp("", "pinsh-demo-")
	if err != nil {
		return "", fmt.Errorf("create a temporary directory: %w", err)
	}
	if err := fill(path); err != nil {
		os.RemoveAll(path)
		return "", err
	}
	d.path = path
	return path, nil
}

// remove removes the directory, if it was made. The database file may
// still be open: on Unix an open file can be removed, and pinsh is about to
// end. It is safe to call from any goroutine, and more than once.
func (d *demoDir) remove() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked()
}

func (d *demoDir) removeLocked() {
	if d.path != "" {
		os.RemoveAll(d.path)
		d.path = ""
	}
}

// errDemoGone is the error of using the --demo database after its
// directory was removed: pinsh is ending.
var errDemoGone = errors.New("the --demo directory has been removed: pinsh is ending")

// whileThere calls fn while the directory is there, holding the lock so
// that remove waits for fn to end; once the directory is removed it returns
// errDemoGone instead. When a signal removed it, whileThere never returns:
// pinsh is about to end by that signal, and an error now could end it
// first, with another status.
func (d *demoDir) whileThere(fn func() error) error {
	d.mu.Lock()
	if d.dying {
		d.mu.Unlock()
		select {}
	}
	defer d.mu.Unlock()
	if d.path == "" {
		return errDemoGone
	}
	return fn()
}

// removeForSignal removes the directory before a signal ends pinsh (see
// whileThere).
func (d *demoDir) removeForSignal() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked()
	d.dying = true
}

// removeOnSignal removes the directory when SIGTERM or SIGHUP would end
// pinsh (a closed terminal, kill), and then lets the signal end it as it
// would have; SIGINT is handled by interruptible and the prompt, and exit
// by remove. A signal that was ignored when pinsh started (nohup) stays
// ignored. Call it before prepare, so that no moment is left uncovered; it
// returns the function that stops watching.
func (d *demoDir) removeOnSignal() (stop func()) {
	var watch []os.Signal
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			watch = append(watch, sig)
		}
	}
	if len(watch) == 0 {
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, watch...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			d.removeForSignal()
			die(sigs, sig)
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}
