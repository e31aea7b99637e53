package pslang

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

// testNow is the frozen time of the tests: the date of the Lync pages'
// Example 3 (September 2, 2010).
var testNow = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

const testAdmin = "admin"

// shell is a session on a fresh sample directory, as pinsh test gives
// every script, that runs PowerShell or Tengo.
type shell struct {
	t        testing.TB
	st       store.Store
	sh       *builtins.Shell
	sess     *lang.Session
	list     []*lang.Builtin
	args     []string
	tr       *Translator
	out, err bytes.Buffer
}

func newShell(t testing.TB, args ...string) *shell {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "pinsh.db"), boltstore.Options{
		KeyFile: filepath.Join(dir, "pin.key"), Creator: testAdmin,
		Now: func() time.Time { return testNow }, HashParams: pinhash.TestParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := sample.Seed(context.Background(), st, store.Op{Operator: testAdmin, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	s := &shell{t: t, st: st, sh: builtins.New(builtins.Config{Store: st, Clock: builtins.FrozenClock(testNow), Operator: testAdmin})}
	list := append(s.sh.Builtins(), s.sh.TestBuiltins()...)
	list = append(list, Builtins(list)...)
	s.tr, s.list, s.args = NewTranslator(list), list, args
	s.sess, err = lang.NewSession(lang.Options{
		Stdout: &s.out, Stderr: &s.err, Format: lang.Table, Interactive: true, Args: args,
		Builtins: list, Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ps runs PowerShell and returns what it printed.
func (s *shell) ps(src string) (stdout, stderr string, err error) {
	s.out.Reset()
	s.err.Reset()
	err = s.tr.Eval(context.Background(), s.sess, "test.ps1", []byte(src))
	return s.out.String(), s.err.String(), err
}

// tengo runs Tengo and returns what it printed.
func (s *shell) tengo(src string) (stdout, stderr string, err error) {
	s.out.Reset()
	s.err.Reset()
	err = s.sess.Eval(context.Background(), "test.tengo", []byte(src))
	return s.out.String(), s.err.String(), err
}

// script runs Tengo as pinsh runs a script file (not the prompt: only
// streams and views print) and returns what it printed.
func (s *shell) script(src string) (stdout, stderr string, err error) {
	s.t.Helper()
	var out, errOut bytes.Buffer
	sess, err := lang.NewSession(lang.Options{
		Stdout: &out, Stderr: &errOut, Format: lang.Table, Args: s.args,
		Builtins: s.list, Now: func() time.Time { return testNow },
	})
	if err != nil {
		s.t.Fatal(err)
	}
	err = sess.Eval(context.Background(), "test.tengo", []byte(src))
	return out.String(), errOut.String(), err
}

// state describes everything a change can touch: users, PIN states,
// policies, roles and the audit entries (without their times and details,
// which name generated PINs' outcome only).
func (s *shell) state() string {
	s.t.Helper()
	var b strings.Builder
	fresh, err := lang.NewSession(lang.Options{Stdout: &b, Format: lang.JSON, Builtins: s.sh.Builtins(), Now: func() time.Time { return testNow }})
	if err != nil {
		s.t.Fatal(err)
	}
	err = fresh.Eval(context.Background(), "state", []byte(`
get_users()
get_users() | pin_info | select("identity", "is_pin_set", "is_locked_out", "locked_by", "pin_expiration_time", "failed_attempts")
get_pin_policy()
admin_roles()
audit_log() | where(func(e) { return e.action != "create_database" }) | select("operator", "action", "target", "outcome")
`))
	if err != nil {
		s.t.Fatalf("state: %v", err)
	}
	return b.String()
}

// diff describes the first line where a and b differ.
func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, x, y)
		}
	}
	return "equal"
}
