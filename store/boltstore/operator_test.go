package boltstore

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

// TestOperatorMatchesOSUser checks Operator against the standard library's
// lookup (the C library's, in a cgo build of this test) on this machine.
func TestOperatorMatchesOSUser(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	want := "uid" + uid
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		want = u.Username
	}
	if got := Operator(); got != want {
		t.Errorf("Operator() = %q, os/user says %q", got, want)
	}
}
