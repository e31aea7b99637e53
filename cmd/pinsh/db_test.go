package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
)

// TestReadOnlyFile runs pinsh on a database file it may not write (mode
// 0400): reads work and change nothing, a change exits 3 and says why.
// File modes do not stop root, so as root (CI) pinsh runs as the account
// nobody, on a copy of the test binary it may run.
func TestReadOnlyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	dir := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid()
	var cred *syscall.Credential
	if uid == 0 {
		uid, gid = 65534, 65534 // nobody
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pinsh := filepath.Join(dir, "pinsh")
	copyExe(t, exe, pinsh)

	path := filepath.Join(dir, "ro.db")
	st, err := boltstore.Open(path, boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: boltstore.Operator()})
	if err != nil {
		t.Fatal(err)
	}
	op := store.Op{Operator: boltstore.Operator(), Now: testEpoch}
	if _, err := st.CreateUser(t.Context(), op, store.User{SipAddress: "sip:kim@fabrikam.com"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if cred != nil {
		// The account running pinsh owns the file and is its
		// CsAdministrator: the mode alone stops the change.
		name := fmt.Sprintf("uid%d", uid) // as boltstore.Operator names it
		if u, err := user.LookupId(fmt.Sprint(uid)); err == nil && u.Username != "" {
			name = u.Username
		}
		editRoles(t, path, name)
		if err := os.Chown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	run := func(code string) (string, int) {
		cmd := exec.Command(pinsh, "--db", path, "--key", filepath.Join(dir, "pin.key"), "-c", code)
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := run(`get_users() | count`); code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("a read of a 0400 file: status %d, output %q; want 1 user", code, out)
	}
	out, code := run(`lock_pin("kim@fabrikam.com")`)
	if code != exitDatabase || !strings.Contains(out, "database is read-only") || !strings.Contains(out, "reads still work") {
		t.Errorf("a change to a 0400 file: status %d, output %q; want 3 and why", code, out)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the read-only file changed")
	}
}

// copyExe copies the executable from to an executable file to.
func copyExe(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// editRoles makes member a CsAdministrator of the closed database at path.
func editRoles(t *testing.T, path, member string) {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{KeyFile: filepath.Join(filepath.Dir(path), "pin.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	op := store.Op{Operator: boltstore.Operator(), Now: testEpoch}
	if err := st.AddRoleMember(t.Context(), op, store.CsAdministrator, member); err != nil {
		t.Fatal(err)
	}
}
