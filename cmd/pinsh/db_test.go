package main

import (
	"context"
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
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
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

// TestDBConnCountsChanges: every change committed through dbConn is
// counted under its audit action, so that a run that ends early says
// exactly what it committed; a change that fails, a read, an audit-only
// entry and a PIN verification count nothing.
func TestDBConnCountsChanges(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "admin", HashParams: pinhash.TestParams()}
	op := store.Op{Operator: "admin", Now: testEpoch}
	path := filepath.Join(dir, "pinsh.db")
	if err := seedSample(ctx, path, opts, op); err != nil {
		t.Fatal(err)
	}
	c := newDBConn(path, opts)
	c.progress = newProgress(nil)
	defer c.Close()
	ids := func(identities ...string) []store.UserID { return userIDs(t, c, identities...) }
	user := func(identity string) store.User {
		us, err := c.Users(ctx, ids(identity))
		if err != nil {
			t.Fatal(err)
		}
		return us[0]
	}
	two := 2
	key, err := pinhash.NewKey(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	var cleared int
	tests := []struct {
		name string
		run  func() error
		want func() string
	}{
		{"new_user", func() error {
			_, err := c.CreateUser(ctx, op, store.User{SipAddress: "sip:zoe@litwareinc.com", Enabled: true})
			return err
		}, nil},
		{"new_user duplicate", func() error {
			_, err := c.CreateUser(ctx, op, store.User{SipAddress: "sip:zoe@litwareinc.com", Enabled: true})
			return err
		}, nil},
		{"update_user", func() error {
			u := user("zoe@litwareinc.com")
			u.DisplayName = "Zoe"
			_, err := c.UpdateUser(ctx, op, u)
			return err
		}, nil},
		{"new_pin_policy", func() error {
			_, err := c.NewPolicy(ctx, op, "tag:Night", store.PolicyChanges{})
			return err
		}, nil},
		{"set_pin_policy", func() error {
			_, err := c.SetPolicy(ctx, op, "tag:Night", store.PolicyChanges{PinHistoryCount: &two})
			return err
		}, nil},
		{"set_pin_policy out of range", func() error {
			bad := -1
			_, err := c.SetPolicy(ctx, op, "tag:Night", store.PolicyChanges{MinPasswordLength: &bad})
			return err
		}, nil},
		{"grant_pin_policy", func() error {
			_, err := c.GrantPolicy(ctx, op, ids("aidan@litwareinc.com", "pilar@litwareinc.com"), "Night")
			return err
		}, func() string { return "grant_pin_policy: 2" }},
		{"remove_pin_policy", func() error { return c.RemovePolicy(ctx, op, "tag:Night") }, nil},
		{"new_admin_role", func() error {
			_, err := c.NewRole(ctx, op, "HelpDeskEast", store.CsHelpDesk)
			return err
		}, nil},
		{"add_role_member", func() error { return c.AddRoleMember(ctx, op, "HelpDeskEast", "bob") }, nil},
		{"add_role_member duplicate", func() error { return c.AddRoleMember(ctx, op, "HelpDeskEast", "bob") }, nil},
		{"remove_role_member", func() error { return c.RemoveRoleMember(ctx, op, "HelpDeskEast", "bob") }, nil},
		{"remove_admin_role", func() error { return c.RemoveRole(ctx, op, "HelpDeskEast") }, nil},
		// Tony's PIN is locked already: one of the two changes.
		{"lock_pin", func() error {
			_, err := c.LockPins(ctx, op, ids("tonysmith@litwareinc.com", "pilar@litwareinc.com"))
			return err
		}, func() string { return "lock_pin: 1" }},
		{"unlock_pin", func() error {
			_, err := c.UnlockPins(ctx, op, ids("pilar@litwareinc.com"))
			return err
		}, func() string { return "unlock_pin: 1" }},
		{"set_pin", func() error {
			_, err := c.SetPins(ctx, op, []store.SetPinRequest{{ID: ids("aidan@litwareinc.com")[0]}})
			return err
		}, func() string { return "set_pin: 1" }},
		{"verify_pin", func() error {
			_, err := c.VerifyPin(ctx, op, ids("kenmyer@litwareinc.com")[0], "000000")
			return err
		}, func() string { return "" }},
		{"audit", func() error {
			return c.Audit(ctx, op, store.AuditEntry{Action: "denied", Target: "lock_pin", Outcome: "denied"})
		}, func() string { return "" }},
		{"reads", func() error {
			_, err := c.Policies(ctx)
			return err
		}, func() string { return "" }},
		{"remove_user", func() error {
			_, err := c.RemoveUsers(ctx, op, ids("zoe@litwareinc.com"))
			return err
		}, func() string { return "remove_user: 1" }},
		{"import", func() error {
			rows := func(yield func(store.ImportRow) bool) {
				for i, name := range []string{"ann", "ben", "cat"} {
					if !yield(store.ImportRow{Line: i + 2, User: store.User{SipAddress: "sip:" + name + "@litwareinc.com", Enabled: true}}) {
						return
					}
				}
			}
			_, err := c.ImportUsers(ctx, op, rows, nil)
			return err
		}, func() string { return "import: 3" }},
		{"generate", func() error { return sample.Generate(ctx, c, op, 5, nil) }, func() string { return "generate: 5" }},
		{"reset_key", func() error {
			var err error
			cleared, err = c.ResetKey(ctx, op, key)
			return err
		}, func() string { return fmt.Sprintf("reset_key: %d", cleared+1) }},
	}
	for _, tt := range tests {
		c.progress.begin()
		err := tt.run()
		got := c.progress.committed()
		c.progress.done()
		var want string
		switch {
		case tt.want != nil:
			want = tt.want()
		case err == nil:
			want = tt.name + ": 1"
		}
		wantErr := strings.HasSuffix(tt.name, " duplicate") || strings.HasSuffix(tt.name, " out of range")
		if (err != nil) != wantErr {
			t.Errorf("%s: error %v, want error %v", tt.name, err, wantErr)
		}
		if got != want {
			t.Errorf("%s: committed %q, want %q", tt.name, got, want)
		}
	}
}

// fullOnlyRemote is a remoteDB whose store has only the Store methods, as
// a backend without store.LeanChanger.
type fullOnlyRemote struct {
	remoteDB
	st store.Store
}

func (r fullOnlyRemote) Open(context.Context, boltstore.Options) (store.Store, bool, error) {
	return struct{ store.Store }{r.st}, false, nil
}

// TestDBConnLean: dbConn's lean bulk changes (the path builtins take for
// lock_pin, unlock_pin and grant_pin_policy) report and count what the full
// methods do, on a store with lean methods and on one without them.
func TestDBConnLean(t *testing.T) {
	ctx := t.Context()
	op := store.Op{Operator: "admin", Now: testEpoch}
	for _, backend := range []string{"lean", "full only"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "admin", HashParams: pinhash.TestParams()}
			path := filepath.Join(dir, "pinsh.db")
			if err := seedSample(ctx, path, opts, op); err != nil {
				t.Fatal(err)
			}
			c := newDBConn(path, opts)
			if backend == "full only" {
				bs, err := boltstore.Open(path, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer bs.Close()
				c.remote = fullOnlyRemote{st: bs}
			}
			c.progress = newProgress(nil)
			defer c.Close()
			ids := func(identities ...string) []store.UserID { return userIDs(t, c, identities...) }
			if _, err := c.NewPolicy(ctx, op, "tag:Night", store.PolicyChanges{}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name    string
				run     func() (store.Changes, error)
				changed int
				others  []store.Outcome
				want    string
			}{
				// Tony's PIN is locked already.
				{"lock_pin", func() (store.Changes, error) {
					return c.LockPinsLean(ctx, op, ids("tonysmith@litwareinc.com", "pilar@litwareinc.com"))
				}, 1, []store.Outcome{store.Skipped}, "lock_pin: 1"},
				{"unlock_pin", func() (store.Changes, error) {
					return c.UnlockPinsLean(ctx, op, ids("pilar@litwareinc.com", "tonysmith@litwareinc.com"))
				}, 2, nil, "unlock_pin: 2"},
				{"grant_pin_policy", func() (store.Changes, error) {
					return c.GrantPolicyLean(ctx, op, ids("aidan@litwareinc.com"), "Night")
				}, 1, nil, "grant_pin_policy: 1"},
				{"lock_pin of nobody", func() (store.Changes, error) {
					return c.LockPinsLean(ctx, op, []store.UserID{1 << 40})
				}, 0, []store.Outcome{store.Failed}, ""},
			}
			for _, tt := range tests {
				c.progress.begin()
				ch, err := tt.run()
				got := c.progress.committed()
				c.progress.done()
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				var others []store.Outcome
				for _, r := range ch.Others {
					others = append(others, r.Outcome)
				}
				if ch.Changed != tt.changed || fmt.Sprint(others) != fmt.Sprint(tt.others) || got != tt.want {
					t.Errorf("%s: changed %d, others %v, committed %q; want %d, %v, %q", tt.name, ch.Changed, others, got, tt.changed, tt.others, tt.want)
				}
			}
		})
	}
}

// userIDs finds each identity's one user through c, failing the test when
// an identity names no user or several.
func userIDs(t *testing.T, c *dbConn, identities ...string) []store.UserID {
	t.Helper()
	var out []store.UserID
	for _, id := range identities {
		us, err := c.FindUsers(context.Background(), id)
		if err != nil || len(us) != 1 {
			t.Fatalf("FindUsers(%q) = %v, %v", id, us, err)
		}
		out = append(out, us[0].ID)
	}
	return out
}
