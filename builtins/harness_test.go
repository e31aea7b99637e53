package builtins

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

// testNow is the frozen time of script tests: the date of the seed's Example 3.
var testNow = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

const testAdmin = "admin"

// testShell is a session on a fresh sample directory, as pinsh test gives
// every script.
type testShell struct {
	t        testing.TB
	st       store.Store
	sh       *Shell
	sess     *lang.Session
	now      func() time.Time
	out, err bytes.Buffer
}

type shellOption func(*Config)

func asOperator(name string) shellOption  { return func(c *Config) { c.Operator = name } }
func withPrompter(p Prompter) shellOption { return func(c *Config) { c.Prompter = p } }
func withWhatIf() shellOption             { return func(c *Config) { c.WhatIf = true } }

func newTestShell(t testing.TB, opts ...shellOption) *testShell {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "pinsh.db"), boltstore.Options{
		KeyFile:    filepath.Join(dir, "pin.key"),
		Creator:    testAdmin,
		Now:        func() time.Time { return testNow },
		HashParams: pinhash.TestParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := sample.Seed(context.Background(), st, store.Op{Operator: testAdmin, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Clock: FrozenClock(testNow), Operator: testAdmin}
	for _, o := range opts {
		o(&cfg)
	}
	ts := &testShell{t: t, st: st, sh: New(cfg), now: cfg.Clock.Now}
	ts.newSession()
	return ts
}

// newSession starts a fresh language session on the same shell and store.
func (ts *testShell) newSession() {
	ts.t.Helper()
	var err error
	ts.sess, err = lang.NewSession(lang.Options{
		Stdout:      &ts.out,
		Stderr:      &ts.err,
		Format:      lang.Table,
		Interactive: true,
		Builtins:    append(ts.sh.Builtins(), ts.sh.TestBuiltins()...),
		Now:         ts.now,
	})
	if err != nil {
		ts.t.Fatal(err)
	}
}

// run evaluates code as one REPL input and returns what it printed on
// standard output and standard error.
func (ts *testShell) run(code string) (stdout, stderr string, err error) {
	ts.out.Reset()
	ts.err.Reset()
	err = ts.sess.Eval(context.Background(), "test", []byte(code))
	return ts.out.String(), ts.err.String(), err
}

// must evaluates code and fails the test on an error.
func (ts *testShell) must(code string) string {
	ts.t.Helper()
	out, _, err := ts.run(code)
	if err != nil {
		ts.t.Fatalf("%s: %v", code, err)
	}
	return out
}

// value evaluates an expression and returns it printed as JSON.
func (ts *testShell) value(expr string) string {
	ts.t.Helper()
	out := ts.must("json := import(\"json\"); string(json.encode(" + expr + "))")
	return strings.TrimSpace(out)
}

// pinInfo returns the PIN state of one user.
func (ts *testShell) pinInfo(identity string) store.PinInfo {
	ts.t.Helper()
	users, err := ts.st.FindUsers(context.Background(), identity)
	if err != nil || len(users) != 1 {
		ts.t.Fatalf("find %s: %v %v", identity, users, err)
	}
	infos, err := ts.st.PinInfos(context.Background(), []store.UserID{users[0].ID})
	if err != nil {
		ts.t.Fatal(err)
	}
	return infos[0]
}
