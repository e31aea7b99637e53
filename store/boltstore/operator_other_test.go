//go:build !darwin

package boltstore

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fakeGetent writes a getent(1) stand-in that prints out for
// `passwd 1234` and exits 2 (no such entry) for anything else, as glibc's
// getent does, and records each call in a file beside it.
func fakeGetent(t *testing.T, out string) (path, calls string) {
	t.Helper()
	dir := t.TempDir()
	path, calls = filepath.Join(dir, "getent"), filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> " + calls + "\n" +
		"if [ \"$1 $2\" = \"passwd 1234\" ] && [ -n '" + out + "' ]; then printf '%s\\n' '" + out + "'; exit 0; fi\nexit 2\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path, calls
}

func TestOperatorOf(t *testing.T) {
	const passwd = "# a comment\n" +
		"root:x:0:0:root:/root:/bin/bash\n" +
		"+nisuser::::::\n" +
		"-:x:1234:0::/:/bin/sh\n" +
		"\n" +
		"alice:x:1000:1000:Alice:/home/alice:/bin/bash\n" +
		"alice2:x:1000:1000:second entry of 1000:/home/alice2:/bin/bash\n" +
		"bob:x:1001:1001::/home/bob:/bin/sh" // no final newline
	dir := t.TempDir()
	file := filepath.Join(dir, "passwd")
	if err := os.WriteFile(file, []byte(passwd), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		uid      int
		passwd   string // "" a file that does not exist
		getent   string // what the fake getent prints for uid 1234; "" it finds nothing
		noGetent bool   // no getent installed
		want     string
		asked    bool // getent was run
	}{
		{name: "in the passwd file", uid: 1000, passwd: file, getent: "ldapalice:*:1234:1::/:/bin/sh", want: "alice"},
		{name: "root", uid: 0, passwd: file, want: "root"},
		{name: "last line without newline", uid: 1001, passwd: file, want: "bob"},
		{name: "only in LDAP", uid: 1234, passwd: file, getent: "carol:*:1234:1234:Carol:/home/carol:/bin/bash", want: "carol", asked: true},
		{name: "no passwd file", uid: 1234, getent: "carol:*:1234:1234::/:/bin/sh", want: "carol", asked: true},
		{name: "nowhere", uid: 1234, passwd: file, want: "uid1234", asked: true},
		{name: "getent answers for another uid", uid: 1234, passwd: file, getent: "dave:*:4321:1::/:/bin/sh", want: "uid1234", asked: true},
		{name: "getent answers garbage", uid: 1234, passwd: file, getent: "no colons here", want: "uid1234", asked: true},
		{name: "no getent", uid: 1234, passwd: file, noGetent: true, want: "uid1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getent, calls := fakeGetent(t, tc.getent)
			getents := []string{filepath.Join(t.TempDir(), "missing"), getent}
			if tc.noGetent {
				getents = getents[:1]
			}
			pw := tc.passwd
			if pw == "" {
				pw = filepath.Join(dir, "missing")
			}
			if got := operatorOf(tc.uid, pw, getents); got != tc.want {
				t.Errorf("operatorOf(%d) = %q, want %q", tc.uid, got, tc.want)
			}
			log, _ := os.ReadFile(calls)
			if asked := len(log) > 0; asked != tc.asked {
				t.Errorf("getent run: %v (%q), want %v", asked, log, tc.asked)
			}
			if tc.asked && string(log) != "passwd "+strconv.Itoa(tc.uid)+"\n" {
				t.Errorf("getent called with %q, want passwd %d", log, tc.uid)
			}
		})
	}
}
