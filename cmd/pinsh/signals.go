package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// errInterrupted is the cause of a run's context when Ctrl-C cancelled it.
var errInterrupted = errors.New("interrupted")

// interruptible returns a context that the first Ctrl-C (SIGINT) cancels,
// with the cause errInterrupted, and the function that stops listening.
//
// Only the first SIGINT is caught: when a run cannot stop at once (a wait
// for another pinsh's lock, say), a second Ctrl-C ends pinsh as SIGINT
// does by default. If cleanup is not nil (the --demo directory), the second
// SIGINT is caught just long enough to run cleanup first.
func interruptible(parent context.Context, cleanup func()) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			if cleanup == nil {
				signal.Stop(sigs)
			}
			cancel(errInterrupted)
		case <-done:
			return
		}
		if cleanup == nil {
			return
		}
		select {
		case sig := <-sigs:
			cleanup()
			die(sigs, sig)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel(nil)
		})
	}
}

// die stops relaying sig to sigs and sends it to pinsh again, so that pinsh
// ends the way the signal's default action ends it (the shell sees "killed
// by SIGINT"). It does not return.
func die(sigs chan os.Signal, sig os.Signal) {
	signal.Stop(sigs)
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), s)
		// The signal is delivered asynchronously; should another listener
		// catch it, end all the same with the status a shell would give.
		time.Sleep(time.Second)
		os.Exit(128 + int(s))
	}
	os.Exit(exitInterrupted)
}
