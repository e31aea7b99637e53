package etcdcluster

import "syscall"

// memberProcAttr makes the kernel kill a member process (SIGKILL) when the
// thread that started it exits, so that no member outlives a test binary
// that crashed or timed out. Go threads end only with their process here:
// nothing locks a thread to the goroutine that starts members.
func memberProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
