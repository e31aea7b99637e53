package etcdcluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// memberEnv hands a member process its member (JSON): StartProcs sets it,
// MemberMain reads it.
const memberEnv = "PINSH_ETCDCLUSTER_MEMBER"

// readyLine is what a member process prints on standard output once it is
// ready (see Cluster.Start's notion of ready).
const readyLine = "etcd member ready"

// startAttempts bounds StartProcs' tries with new ports when a port it
// chose was taken before its member bound it (by another test, on a busy
// machine).
const startAttempts = 5

// pickLayout chooses the ports of a new cluster of processes; tests
// replace it to hand StartProcs a port already taken.
var pickLayout = freeLayout

// MemberMain runs this process as one member of a Procs cluster, and exits,
// when StartProcs started it; otherwise it returns at once. A program that
// StartProcs starts as its members (a test binary re-executing itself)
// calls it before anything else, in main or TestMain.
//
// The member prints readyLine when it is ready and serves until it is
// killed, its member fails (exit status 1), or its standard input, a pipe
// from the parent, reaches its end: the parent is gone, and the member
// must not outlive it.
func MemberMain() {
	spec, ok := os.LookupEnv(memberEnv)
	if !ok {
		return
	}
	os.Exit(serveMember(spec, os.Stdin, os.Stdout, os.Stderr))
}

func serveMember(spec string, stdin io.Reader, stdout, stderr io.Writer) int {
	var m member
	if err := json.Unmarshal([]byte(spec), &m); err != nil {
		fmt.Fprintf(stderr, "etcd member: %s: %v\n", memberEnv, err)
		return 2
	}
	e, err := embed.StartEtcd(m.config())
	if err != nil {
		fmt.Fprintf(stderr, "etcd member %s: %v\n", m.Name, err)
		return 1
	}
	parentGone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(parentGone)
	}()
	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintln(stdout, readyLine)
	case err := <-e.Err():
		fmt.Fprintf(stderr, "etcd member %s: %v\n", m.Name, err)
		return 1
	case <-parentGone:
		return 1
	}
	select {
	case err := <-e.Err():
		fmt.Fprintf(stderr, "etcd member %s: %v\n", m.Name, err)
		return 1
	case <-parentGone:
		// No Close: it takes seconds, and a test's data is thrown away.
		return 0
	}
}

// Procs is a local cluster whose members are processes of their own, so
// that a test can kill one with SIGKILL (Kill), as a machine's loss or an
// OOM kill would, and start it again (Restart). The members are the
// program given to StartProcs, which calls MemberMain. They never outlive
// the process that started them: Close kills them, and if that process
// dies first they see their standard input end (and, on Linux, receive
// SIGKILL as its death signal).
type Procs struct {
	// Endpoints are the members' client URLs ("http://127.0.0.1:PORT"), in
	// member order.
	Endpoints []string
	command   []string
	members   []member
	procs     []*proc // nil: not running
	cli       *clientv3.Client
}

// proc is a running member process.
type proc struct {
	cmd    *exec.Cmd
	stdin  *os.File // the parent's end of the member's standard input
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited and been reaped
}

// lockedBuffer is a bytes.Buffer safe to read while exec copies the
// member's standard error into it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.b.String())
}

// StartProcs starts a new cluster of member processes, with its data in dir
// (created if missing; it must hold no cluster), and returns once every
// member is ready: it has joined the cluster and the cluster has a leader.
// command is the program and arguments that run MemberMain: for a test
// binary, itself and "-test.run=^$" (should MemberMain not be called, the
// process then runs no test and exits, which StartProcs reports). ctx
// bounds the start. A port taken by another process between choosing and
// binding it makes StartProcs try again with new ports. On failure every
// member started is killed.
func StartProcs(ctx context.Context, dir string, opts Options, command ...string) (*Procs, error) {
	n, err := opts.members()
	if err != nil {
		return nil, err
	}
	if len(command) == 0 {
		return nil, errors.New("etcd cluster: no command to run the members")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd cluster: %w", err)
	}
	for attempt := 1; ; attempt++ {
		lay, err := pickLayout(n)
		if err != nil {
			return nil, err
		}
		p := &Procs{command: command, members: memberList(dir, lay, false, opts.NoFsync), procs: make([]*proc, n)}
		err = p.startAll(ctx)
		if err == nil {
			return p, nil
		}
		p.Close()
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == startAttempts {
			return nil, err
		}
		// A new cluster on new ports: the members' data names the old ones.
		for _, m := range p.members {
			if err := os.RemoveAll(m.Dir); err != nil {
				return nil, fmt.Errorf("etcd cluster: %w", err)
			}
		}
	}
}

// startAll starts every member and waits until all are ready.
func (p *Procs) startAll(ctx context.Context) error {
	ready := make([]<-chan error, len(p.members))
	for i := range p.members {
		r, err := p.spawn(i)
		if err != nil {
			return err
		}
		ready[i] = r
	}
	for i, r := range ready {
		if err := p.await(ctx, i, r); err != nil {
			return err
		}
	}
	for _, m := range p.members {
		p.Endpoints = append(p.Endpoints, loopURL(m.Client))
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: p.Endpoints, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd cluster: %w", err)
	}
	p.cli = cli
	return nil
}

// spawn starts member i's process. The channel it returns receives nil
// when the member is ready, or why it will never be.
func (p *Procs) spawn(i int) (<-chan error, error) {
	m := p.members[i]
	spec, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("etcd cluster: %w", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("etcd cluster: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("etcd cluster: %w", err)
	}
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Env = append(os.Environ(), memberEnv+"="+string(spec))
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = memberProcAttr()
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("etcd cluster: start member %s: %w", m.Name, err)
	}
	pr := &proc{cmd: cmd, stdin: inW, stderr: stderr, done: make(chan struct{})}
	p.procs[i] = pr
	go func() {
		cmd.Wait()
		close(pr.done)
	}()
	ready := make(chan error, 1)
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			if sc.Text() == readyLine {
				ready <- nil
				io.Copy(io.Discard, outR)
				return
			}
		}
		<-pr.done
		err := fmt.Errorf("etcd cluster: member %s exited before it was ready (%v; its log: %s): %s",
			m.Name, cmd.ProcessState, m.Log, stderr.String())
		if strings.Contains(stderr.String(), "address already in use") {
			err = fmt.Errorf("%w: %w", err, syscall.EADDRINUSE)
		}
		ready <- err
	}()
	return ready, nil
}

// await waits for member i's ready channel.
func (p *Procs) await(ctx context.Context, i int, ready <-chan error) error {
	select {
	case err := <-ready:
		return err
	case <-ctx.Done():
		return fmt.Errorf("etcd cluster: waiting for member %s to be ready (its log: %s): %w",
			p.members[i].Name, p.members[i].Log, ctx.Err())
	}
}

// Kill kills member i with SIGKILL and waits until it has exited. It is an
// error if the member had exited before, or exited otherwise.
func (p *Procs) Kill(i int) error {
	pr := p.procs[i]
	if pr == nil {
		return fmt.Errorf("etcd cluster: member %s is not running", p.members[i].Name)
	}
	select {
	case <-pr.done:
		return fmt.Errorf("etcd cluster: member %s had exited before it was killed (%v): %s",
			p.members[i].Name, pr.cmd.ProcessState, pr.stderr.String())
	default:
	}
	err := pr.cmd.Process.Signal(syscall.SIGKILL)
	<-pr.done
	pr.stdin.Close()
	p.procs[i] = nil
	if err != nil {
		return fmt.Errorf("etcd cluster: kill member %s: %w", p.members[i].Name, err)
	}
	if ws, ok := pr.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("etcd cluster: member %s ended with %v, not by SIGKILL: %s", p.members[i].Name, pr.cmd.ProcessState, pr.stderr.String())
	}
	return nil
}

// Restart starts killed member i again on its data and ports, and waits
// until it is ready: it has rejoined the cluster.
func (p *Procs) Restart(ctx context.Context, i int) error {
	if p.procs[i] != nil {
		return fmt.Errorf("etcd cluster: member %s is running", p.members[i].Name)
	}
	p.members[i].Existing = true
	ready, err := p.spawn(i)
	if err != nil {
		return err
	}
	return p.await(ctx, i, ready)
}

// Leader returns the index of the member that leads, as the running
// members report it.
func (p *Procs) Leader(ctx context.Context) (int, error) {
	var errs []error
	for i, pr := range p.procs {
		if pr == nil {
			continue
		}
		st, err := p.cli.Status(ctx, p.Endpoints[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Leader != 0 && st.Leader == st.Header.MemberId {
			return i, nil
		}
	}
	return -1, fmt.Errorf("etcd cluster: no running member leads: %w", errors.Join(errs...))
}

// Running reports whether member i's process runs.
func (p *Procs) Running(i int) bool { return p.procs[i] != nil }

// Close kills every member (SIGKILL: a test's cluster keeps no data worth
// a clean stop) and waits until they have exited. The data stays in the
// directory.
func (p *Procs) Close() {
	if p.cli != nil {
		p.cli.Close()
		p.cli = nil
	}
	for i, pr := range p.procs {
		if pr == nil {
			continue
		}
		pr.cmd.Process.Signal(syscall.SIGKILL)
		<-pr.done
		pr.stdin.Close()
		p.procs[i] = nil
	}
}
