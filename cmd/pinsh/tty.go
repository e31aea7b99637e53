package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ctxReader reads the controlling terminal of a script run for Confirm
// answers; a read ends when ctx ends (Ctrl-C, --timeout) even though
// nothing was typed.
type ctxReader struct {
	ctx context.Context
	tty *os.File
}

func (r ctxReader) Read(b []byte) (int, error) {
	return readCtx(r.ctx, r.tty, b)
}

// readCtx reads f into b until something is read or ctx ends; then it
// returns the context's cause. The read is woken by a deadline in the past,
// which leaves f usable for the next read; so f must be pollable, as a
// terminal opened with os.OpenFile is on Linux and the BSDs. Reads of a
// file that is not pollable cannot be woken (not even by Close) and end
// only with input.
func readCtx(ctx context.Context, f *os.File, b []byte) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		f.SetReadDeadline(time.Unix(1, 0))
	})
	n, err := f.Read(b)
	if !stop() {
		<-woken
		f.SetReadDeadline(time.Time{})
		if n == 0 {
			return 0, context.Cause(ctx)
		}
	}
	return n, err
}

// readPinFrom shows prompt on the terminal tty and reads a line there with
// echo off, so that the PIN is not shown. Ctrl-C and --timeout end the read
// through ctx; echo is switched back on in every case.
func readPinFrom(ctx context.Context, tty *os.File, prompt string) (string, error) {
	// Echo goes off before the prompt shows: a PIN typed as soon as the
	// prompt appears (or ahead of it) must not echo.
	restore, err := echoOff(tty)
	if err != nil {
		return "", fmt.Errorf("read PIN: switch echo off on the terminal: %w", err)
	}
	if _, err := io.WriteString(tty, prompt); err != nil {
		restore()
		return "", fmt.Errorf("read PIN: %w", err)
	}
	line, err := readLine(ctx, tty)
	restore()
	io.WriteString(tty, "\n") // the Enter that was not echoed
	if err != nil {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// readLine reads up to a newline (not included) or the end of input. It
// reads a byte at a time, so that nothing typed after the newline is taken
// from the next reader of the terminal.
func readLine(ctx context.Context, f *os.File) (string, error) {
	var line []byte
	var c [1]byte
	for {
		n, err := readCtx(ctx, f, c[:])
		if n == 1 {
			if c[0] == '\n' {
				return string(line), nil
			}
			line = append(line, c[0])
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return string(line), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// echoOff switches echo off on the terminal f, leaving line editing and
// Ctrl-C as they are, and returns the function that restores the previous
// settings. It goes through f's raw connection rather than f.Fd, which
// would put f in blocking mode and make reads uninterruptible.
func echoOff(f *os.File) (restore func(), err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var old *unix.Termios
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		old, ioErr = unix.IoctlGetTermios(int(fd), ioctlGetTermios)
		if ioErr != nil {
			return
		}
		t := *old
		t.Lflag &^= unix.ECHO
		t.Lflag |= unix.ICANON | unix.ISIG
		t.Iflag |= unix.ICRNL
		ioErr = unix.IoctlSetTermios(int(fd), ioctlSetTermios, &t)
	})
	if err == nil {
		err = ioErr
	}
	if err != nil {
		return nil, err
	}
	return func() {
		rc.Control(func(fd uintptr) {
			unix.IoctlSetTermios(int(fd), ioctlSetTermios, old)
		})
	}, nil
}
