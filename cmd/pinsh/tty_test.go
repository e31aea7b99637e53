package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// pipe returns the two ends of a pipe; the read end is pollable, as a
// terminal opened with os.OpenFile is.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func TestReadCtx(t *testing.T) {
	r, w := pipe(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := readCtx(ctx, r, make([]byte, 10))
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the read block
	cancel(errInterrupted)
	select {
	case err := <-got:
		if !errors.Is(err, errInterrupted) {
			t.Errorf("cancelled read: err %v, want %v", err, errInterrupted)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the context did not end the read")
	}
	if _, err := readCtx(ctx, r, make([]byte, 10)); !errors.Is(err, errInterrupted) {
		t.Errorf("read after the end: err %v", err)
	}

	// The file stays usable: the deadline is gone.
	w.WriteString("y\n")
	b := make([]byte, 10)
	n, err := readCtx(context.Background(), r, b)
	if err != nil || string(b[:n]) != "y\n" {
		t.Errorf("read after a cancelled one: %q, %v", b[:n], err)
	}

	// Through the Confirm reader, and with a timeout.
	tctx, stop := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errors.New("timed out"))
	defer stop()
	if _, err := (ctxReader{ctx: tctx, tty: r}).Read(b); err == nil || err.Error() != "timed out" {
		t.Errorf("timed-out read: err %v", err)
	}
}

func TestReadLine(t *testing.T) {
	r, w := pipe(t)
	w.WriteString("4829")
	w.WriteString("16\nrest")
	if got, err := readLine(context.Background(), r); got != "482916" || err != nil {
		t.Errorf("readLine = %q, %v", got, err)
	}
	w.Close()
	if got, err := readLine(context.Background(), r); got != "rest" || err != nil { // what was typed ahead is kept
		t.Errorf("last line without newline: %q, %v", got, err)
	}
	if _, err := readLine(context.Background(), r); err == nil {
		t.Error("readLine at the end of input: no error")
	}
}

// TestReadPinNotATerminal: echo cannot be switched off on a pipe; read_pin
// says so rather than showing the PIN.
func TestReadPinNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "not-a-tty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = readPinFrom(context.Background(), f, "PIN: ")
	if err == nil || !strings.Contains(err.Error(), "read PIN: switch echo off on the terminal") {
		t.Errorf("err = %v", err)
	}
}
