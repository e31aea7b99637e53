package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/pinsh/pinsh/builtins"
	"golang.org/x/term"
)

// defaultPager is the pager when PAGER is not set and less is installed:
// -F quits at once when the output fits one screen, -R passes colours on,
// -X leaves what was shown on the screen after it quits (as git runs it).
var defaultPager = []string{"less", "-FRX"}

// pagerCommand returns the command line of the pager the page sink writes
// to, or nil when page prints instead. PAGER set to a command runs it with
// sh -c, as git and man do, so that it may hold options ("less -S"). PAGER
// set empty, or to cat, means no pager. Unset, it is less -FRX when less is
// on the PATH, else more; else no pager.
func pagerCommand(lookupEnv func(string) (string, bool), lookPath func(string) (string, error)) []string {
	if p, set := lookupEnv("PAGER"); set {
		p = strings.TrimSpace(p)
		if p == "" || p == "cat" {
			return nil
		}
		return []string{"/bin/sh", "-c", p}
	}
	if _, err := lookPath("less"); err == nil {
		return defaultPager
	}
	if _, err := lookPath("more"); err == nil {
		return []string{"more"}
	}
	return nil
}

// openPager is builtins.Config.Pager at the prompt: it starts the pager on
// the terminal, with the prompt's terminal state saved, and returns its
// input; nil when there is no pager (see pagerCommand). While it runs, the
// screen is the pager's: the progress line is not drawn, messages are
// held until it exits (see progress.hold), a Confirm question or read_pin
// is refused, and Ctrl-C stops the input without ending pinsh.
func (r *repl) openPager() (io.WriteCloser, error) {
	argv := pagerCommand(r.a.lookupEnv, exec.LookPath)
	if argv == nil {
		return nil, nil
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = r.a.stdout, r.a.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start the pager: %w", err)
	}
	// The pager changes the terminal's modes; it must find them as the
	// prompt leaves them, and leave them so even when it is killed.
	state, err := term.GetState(int(r.a.stdout.Fd()))
	if err != nil {
		return nil, fmt.Errorf("start the pager: read the terminal's state: %w", err)
	}
	r.setPaging(true)
	if err := cmd.Start(); err != nil {
		r.setPaging(false)
		return nil, fmt.Errorf("start the pager %s: %w", strings.Join(argv, " "), err)
	}
	return &pagerProc{cmd: cmd, in: in, r: r, state: state}, nil
}

// pagerProc is a running pager: page writes to its standard input.
type pagerProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	r     *repl
	state *term.State

	mu   sync.Mutex
	quit bool // a write found the pager gone
}

// Write writes to the pager; once the pager has exited (the admin quit
// it), it fails with builtins.ErrPagerQuit.
func (p *pagerProc) Write(b []byte) (int, error) {
	n, err := p.in.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.mu.Lock()
		p.quit = true
		p.mu.Unlock()
		return n, builtins.ErrPagerQuit
	}
	return n, err
}

// Close ends the pager's input, waits for the admin to quit the pager, and
// restores the terminal and the prompt. It reports a pager that failed (a
// PAGER that is not a command); one ended by Ctrl-C is not a failure, the
// interrupted input is reported.
func (p *pagerProc) Close() error {
	p.in.Close()
	err := p.cmd.Wait()
	term.Restore(int(p.r.a.stdout.Fd()), p.state)
	p.r.setPaging(false)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
			return nil
		}
		return fmt.Errorf("%s ended with %v", pagerName(p.cmd), exit)
	}
	return err
}

// pagerName names the pager for a message: PAGER's value, or the command.
func pagerName(cmd *exec.Cmd) string {
	if len(cmd.Args) == 3 && cmd.Args[1] == "-c" {
		return "PAGER " + cmd.Args[2]
	}
	return strings.Join(cmd.Args, " ")
}

// setPaging marks the prompt as showing a pager (on) or no longer (off);
// see openPager. Turning it off writes the messages held meanwhile, and
// when Ctrl-C was pressed during the pager, stops catching SIGINT as an
// interrupted input does (see onSignal).
func (r *repl) setPaging(on bool) {
	r.mu.Lock()
	r.paging = on
	if !on && r.interrupted && r.sigs != nil && r.db.demo == nil {
		signal.Stop(r.sigs)
	}
	r.mu.Unlock()
	if on {
		r.db.conn.progress.hold()
	} else {
		r.db.conn.progress.release()
	}
}

// isPaging reports whether a pager has the screen.
func (r *repl) isPaging() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paging
}

// errPaging is the error of a question asked while a pager has the screen.
var errPaging = errors.New("cannot ask at the terminal while page shows the output in a pager: " +
	"run the pipeline without | page, or answer the questions first")
