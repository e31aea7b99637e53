package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	cmd, _, stderr, done := startPinshOut(t, env, args...)
	return cmd, stderr, done
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
	// Once pinsh has the file open it is waiting (up to 2 s) for the lock,
	// and catches Ctrl-C.
	waitForOpenFile(t, cmd.Process.Pid, path, done)
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		t.Fatalf("the first Ctrl-C ended pinsh at once (%v); it should ask it to stop\n%s", err, stderr)
	case <-time.After(200 * time.Millisecond):
	}
	cmd.Process.Signal(os.Interrupt)
	if code, sig := waitExit(t, done, time.Minute); sig != syscall.SIGINT {
		t.Errorf("after the second Ctrl-C: exit status %d, signal %v; want killed by SIGINT\n%s", code, sig, stderr)
	}
}

// TestGenerateInterrupted: Ctrl-C ends pinsh generate with status 130, and
// the batches committed before it stay.
func TestGenerateInterrupted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.db")
	cmd, stderr, done := startPinsh(t, pinshEnv(dir), "--db", path, "generate", "5000000")
	// A new database is a few pages; past 1 MiB generate has committed a
	// batch, so Ctrl-C lands while it runs, however slow the machine.
	waitForSize(t, path, 1<<20, done)
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
// ended by SIGTERM or SIGHUP, or interrupted by Ctrl-C, at any moment: while
// the sample is being seeded (the directory has just appeared) as well as
// while the script runs. pinsh still ends by SIGTERM or SIGHUP, and with
// status 130 after Ctrl-C. Each moment is reached by waiting for what shows
// it, never by sleeping, so a slow machine only makes the test slower.
func TestDemoRemovedOnSignal(t *testing.T) {
	for _, when := range []string{"seeding", "running"} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
			t.Run(when+"/"+sig.String(), func(t *testing.T) {
				dir := t.TempDir()
				tmp := filepath.Join(dir, "tmp")
				if err := os.Mkdir(tmp, 0o700); err != nil {
					t.Fatal(err)
				}
				env := append(pinshEnv(dir), "TMPDIR="+tmp)
				// The script prints the count, then loops; the Go loop
				// ignores the run's context, so only a signal's default
				// action or the interrupt can end it.
				cmd, stdout, stderr, done := startPinshOut(t, env, "--demo", "-c", `get_users() | count; for {}`)
				demo := waitForDemoDir(t, tmp)
				if when == "running" {
					waitForOutput(t, stdout, "7\n", done)
				}
				cmd.Process.Signal(sig)
				code, got := waitExit(t, done, time.Minute)
				switch {
				case sig == syscall.SIGINT && code != exitInterrupted:
					t.Fatalf("exit status %d (signal %v) after Ctrl-C, want %d\n%s", code, got, exitInterrupted, stderr)
				case sig != syscall.SIGINT && got != sig:
					t.Errorf("exit status %d, signal %v; want killed by %v\n%s", code, got, sig, stderr)
				}
				if _, err := os.Stat(demo); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the demo directory %s is left behind (%v)\n%s", demo, err, stderr)
				}
			})
		}
	}
}

// startPinshOut is startPinsh with standard output kept too.
func startPinshOut(t *testing.T, env []string, args ...string) (*exec.Cmd, *syncBuffer, *bytes.Buffer, chan error) {
	t.Helper()
	if testing.Short() {
		t.Skip("signal tests start processes; skipped with -short")
	}
	cmd := pinshCmd(t, env, args...)
	var stdout syncBuffer
	var stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, &stdout, &stderr, done
}

// syncBuffer is a bytes.Buffer that a process's output goroutine writes
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitForOpenFile waits until process pid has path open, failing if the
// process ends or a minute passes first.
func waitForOpenFile(t *testing.T, pid int, path string, done chan error) {
	t.Helper()
	fds := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	deadline := time.Now().Add(time.Minute)
	for {
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && target == path {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("pinsh ended (%v) before opening %s", err, path)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pinsh has not opened %s within a minute", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitForSize waits until the file at path is larger than size, failing if
// the process ends or a minute passes first.
func waitForSize(t *testing.T, path string, size int64, done chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > size {
			return
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("pinsh ended (%v) before %s grew past %d bytes", err, path, size)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has not grown past %d bytes within a minute", path, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForOutput waits until out holds want, failing if the process ends or
// a minute passes first.
func waitForOutput(t *testing.T, out *syncBuffer, want string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("pinsh ended (%v) before printing %q; it printed %q", err, want, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pinsh has not printed %q within a minute; it printed %q", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForDemoDir waits until pinsh --demo has made its directory in tmp and
// returns it.
func waitForDemoDir(t *testing.T, tmp string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(tmp, "pinsh-demo-*")); len(m) == 1 {
			return m[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no demo directory appeared within a minute")
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

// TestInterruptedSetPinShowsEveryPinItSet: Ctrl-C in the middle of a bulk
// set_pin. Every PIN it committed (the audit log's "generated" entries) was
// shown on standard output before pinsh ended, and it says how many.
func TestInterruptedSetPinShowsEveryPinItSet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "pins.db")
	env := pinshEnv(dir)
	if out, err := pinshCmd(t, env, "--db", db, "generate", "3000").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd := pinshCmd(t, env, "--db", db, "-c", `get_users() | pin_info | where({is_pin_set: false}) | set_pin`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The first batch is on standard output before the second is set:
	// interrupt then, in the middle of the run.
	var got []string
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("no output; stderr:\n%s", stderr.String())
		}
		got = append(got, l)
	case <-time.After(time.Minute):
		t.Fatal("no PIN within a minute")
	}
	cmd.Process.Signal(os.Interrupt)
	for l := range lines {
		got = append(got, l)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want status %d\n%s", err, exitInterrupted, stderr.String())
	}
	shown := map[string]bool{}
	for _, l := range got {
		var r struct{ Identity, Pin string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Pin == "" {
			t.Fatalf("output line %q: %v", l, err)
		}
		shown[r.Identity] = true
	}
	out, err := pinshCmd(t, env, "--db", db, "-c",
		`audit_log({action: "set_pin"}) | where({detail: "generated"}) | select("target")`).Output()
	if err != nil {
		t.Fatal(err)
	}
	set := strings.Count(string(out), "\n")
	if set == 0 || set != len(shown) || set >= 1500 {
		t.Fatalf("%d PINs set, %d shown (of 1500 users without a PIN)", set, len(shown))
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct{ Target string }
		json.Unmarshal([]byte(l), &r)
		if !shown[r.Target] {
			t.Errorf("%s's PIN was set and not shown", r.Target)
		}
	}
	if want := fmt.Sprintf("set_pin: interrupted: %d PINs set and shown above; the rest unchanged", set); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
