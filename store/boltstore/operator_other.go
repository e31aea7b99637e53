//go:build !darwin

package boltstore

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
)

func accountName(uid int) string { return operatorOf(uid, passwdFile, getentPaths) }

// The system's user database, read without cgo (see operatorOf).
const passwdFile = "/etc/passwd"

// getentPaths are where getent(1) is installed (glibc, musl, the BSDs).
// They are fixed, not looked up on PATH: PATH is the environment's, and
// the operator's name must not be something the environment chooses.
var getentPaths = []string{"/usr/bin/getent", "/bin/getent"}

// operatorOf names uid from the system's user database: the passwd file
// first, as the C library's "files" source does, then, for an account the
// file lacks (LDAP, sssd, NIS), the C library itself through the first of
// getents that exists (`getent passwd UID` asks every source
// nsswitch.conf lists). It falls back to "uidUID".
//
// Why not os/user: with cgo it asks the C library in-process, which makes
// pinsh a dynamically linked program that pays the dynamic loader and the
// C library's set-up on every start; without cgo it reads only the passwd
// file, and an LDAP operator would become "uid1234". This way pinsh needs
// no cgo for the operator, finds every account the C library finds, and
// starts a process only for an account the passwd file lacks.
func operatorOf(uid int, passwd string, getents []string) string {
	if data, err := os.ReadFile(passwd); err == nil {
		if name, ok := passwdName(data, uid); ok {
			return name
		}
	}
	for _, getent := range getents {
		if _, err := os.Stat(getent); err != nil {
			continue
		}
		// Exit status 2 means no such entry; any failure leaves the
		// fallback below.
		out, err := exec.Command(getent, "passwd", strconv.Itoa(uid)).Output()
		if err == nil {
			if name, ok := passwdName(out, uid); ok {
				return name
			}
		}
		break
	}
	return "uid" + strconv.Itoa(uid)
}

// passwdName finds the first entry of uid in passwd(5) lines
// (name:password:uid:gid:gecos:home:shell) and returns its name. Comments
// and NIS compat entries ("+name", "-name", "+") are skipped: the C
// library resolves those, through getent.
func passwdName(data []byte, uid int) (string, bool) {
	want := strconv.Itoa(uid)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := bytes.SplitN(line, []byte{':'}, 4)
		if len(f) == 4 && len(f[0]) > 0 && string(f[2]) == want {
			return string(f[0]), true
		}
	}
	return "", false
}
