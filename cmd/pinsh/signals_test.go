package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Signals sent to a pinsh process, without a terminal.

// startPinsh starts pinsh with args and returns it with its standard error
// and a channel that receives its exit.
func startPinsh(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	if testing.Short() {
		t.Skip("signal tests start processes; skipped with -short")
	}
	cmd := pinshCmd(t, env, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, &stderr, done
}

// waitExit waits for the process's exit and returns how it ended: its exit
// status, or the signal that killed it.
func waitExit(t *testing.T, done chan error, within time.Duration) (code int, sig syscall.Signal) {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				return -1, ws.Signal()
			}
			return ws.ExitStatus(), 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, 0
	case <-time.After(within):
		t.Fatalf("pinsh did not exit within %v", within)
	}
	return -1, 0
}

// TestSecondInterruptKills: the first Ctrl-C asks pinsh to stop; when it
// cannot (it waits for another pinsh's lock), the second ends it at once.
func TestSecondInterruptKills(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "held.db")
	if out, err := pinshCmd(t, pinshEnv(dir), "--db", path, "-c", "get_users() | count").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	held, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	cmd, stderr, done := startPinsh(t, pinshEnv(dir), "--db", path, "-c", "get_users() | count")
	time.Sleep(500 * time.Millisecond) // it now waits up to 2 s for the lock
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		t.Fatalf("the first Ctrl-C ended pinsh at once (%v); it should ask it to stop\n%s", err, stderr)
	case <-time.After(200 * time.Millisecond):
	}
	cmd.Process.Signal(os.Interrupt)
	if code, sig := waitExit(t, done, time.Second); sig != syscall.SIGINT {
		t.Errorf("after the second Ctrl-C: exit status %d, signal %v; want killed by SIGINT\n%s", code, sig, stderr)
	}
}

// TestGenerateInterrupted: Ctrl-C ends pinsh generate with status 130, and
// the batches committed before it stay.
func TestGenerateInterrupted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.db")
	cmd, stderr, done := startPinsh(t, pinshEnv(dir), "--db", path, "generate", "5000000")
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if code, sig := waitExit(t, done, 30*time.Second); code != exitInterrupted {
		t.Fatalf("exit status %d (signal %v), want %d\n%s", code, sig, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr.String(), "pinsh generate: interrupted; the users of the batches committed so far stay added") {
		t.Errorf("stderr:\n%s", stderr)
	}
	out, err := pinshCmd(t, pinshEnv(dir), "--db", path, "-c", "get_users() | count").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.TrimSpace(string(out)); n == "5000000" {
		t.Errorf("all %s users were added: the interrupt did not stop generate", n)
	}
}

// TestDemoRemovedOnSignal: the --demo directory goes away when pinsh is
// ended by SIGTERM or SIGHUP, or by a second Ctrl-C, and pinsh still ends
// by that signal.
func TestDemoRemovedOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			tmp := filepath.Join(dir, "tmp")
			if err := os.Mkdir(tmp, 0o700); err != nil {
				t.Fatal(err)
			}
			env := append(pinshEnv(dir), "TMPDIR="+tmp)
			// The Go loop ignores the run's context: only the signal's
			// default action can end it.
			cmd, stderr, done := startPinsh(t, env, "--demo", "-c", `get_users() | count; for {}`)
			demo := waitForDemoDir(t, tmp)
			if sig == syscall.SIGINT {
				cmd.Process.Signal(sig) // stops the script
				if code, _ := waitExit(t, done, 5*time.Second); code != exitInterrupted {
					t.Fatalf("exit status %d after Ctrl-C, want %d\n%s", code, exitInterrupted, stderr)
				}
			} else {
				cmd.Process.Signal(sig)
				if code, got := waitExit(t, done, 5*time.Second); got != sig {
					t.Errorf("exit status %d, signal %v; want killed by %v\n%s", code, got, sig, stderr)
				}
			}
			if _, err := os.Stat(demo); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the demo directory %s is left behind (%v)", demo, err)
			}
		})
	}
}

// waitForDemoDir waits until pinsh --demo has made its directory in tmp and
// returns it.
func waitForDemoDir(t *testing.T, tmp string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(tmp, "pinsh-demo-*", "pinsh.db")); len(m) == 1 {
			time.Sleep(200 * time.Millisecond) // let it seed and start the script
			return filepath.Dir(m[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no demo directory appeared")
	return ""
}

// TestInterruptibleCleanup: with a cleanup (the --demo directory), the
// first Ctrl-C cancels the run, and the second runs the cleanup and then
// ends the process as SIGINT does.
func TestInterruptibleCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process; skipped with -short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "cleaned")
	cmd := &exec.Cmd{Path: exe, Args: []string{"interruptible-helper", marker}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 2)
	go func() {
		buf := make([]byte, 256)
		var got []byte
		for {
			n, err := stdout.Read(buf)
			got = append(got, buf[:n]...)
			for {
				i := bytes.IndexByte(got, '\n')
				if i < 0 {
					break
				}
				lines <- string(got[:i])
				got = got[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	expectLine := func(want string) {
		t.Helper()
		select {
		case l := <-lines:
			if l != want {
				t.Fatalf("got %q, want %q", l, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	done := make(chan error, 1)
	expectLine("ready")
	cmd.Process.Signal(os.Interrupt)
	expectLine("cancelled: interrupted")
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the first Ctrl-C ran the cleanup")
	}
	go func() { done <- cmd.Wait() }()
	cmd.Process.Signal(os.Interrupt)
	if code, sig := waitExit(t, done, 5*time.Second); sig != syscall.SIGINT {
		t.Errorf("after the second Ctrl-C: exit status %d, signal %v; want killed by SIGINT", code, sig)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the cleanup did not run: %v", err)
	}
}
