//go:build !linux

package etcdcluster

import "syscall"

// memberProcAttr has nothing to add where there is no death signal: a
// member process still exits when its standard input, a pipe from its
// parent, ends (MemberMain).
func memberProcAttr() *syscall.SysProcAttr { return nil }
