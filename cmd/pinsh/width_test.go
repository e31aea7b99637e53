package main

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestTermWidthFollowsSIGWINCH: a resized terminal's new width is read on
// SIGWINCH, and readline is told after it.
func TestTermWidthFollowsSIGWINCH(t *testing.T) {
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminal:", err)
	}
	defer ptm.Close()
	defer tty.Close()
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	tw := newTermWidth(tty)
	if got := tw.get(); got != 100 {
		t.Fatalf("width %d, want 100", got)
	}
	told := make(chan int, 10)
	tw.notify(func() { told <- tw.get() })
	stop := tw.watch()
	defer stop()
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 24, Cols: 42}); err != nil {
		t.Fatal(err)
	}
	// The kernel signals the terminal's foreground process group, which
	// a test run need not be: signal the test itself.
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-told:
		if w != 42 {
			t.Errorf("readline was told of a resize with the width at %d, want 42", w)
		}
	case <-time.After(ptyExpect):
		t.Fatal("no SIGWINCH handled")
	}
}
