package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
)

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, exitOK},
		{"runtime", &lang.Error{Kind: lang.RuntimeError, Msg: "x"}, exitFailure},
		{"compile", &lang.Error{Kind: lang.CompileError, Msg: "x"}, exitUsage},
		{"interrupted", &lang.Error{Kind: lang.Interrupted, Msg: "interrupted"}, exitInterrupted},
		{"timed out", &lang.Error{Kind: lang.TimedOut, Msg: "timed out"}, exitFailure},
		{"exit()", &lang.Error{Kind: lang.RuntimeError, Err: fmt.Errorf("exit: %w", &exitRequest{code: 4})}, 4},
		{"exit(0)", &lang.Error{Kind: lang.RuntimeError, Err: &exitRequest{}}, exitOK},
		{"open failed", &lang.Error{Kind: lang.RuntimeError, Err: fmt.Errorf("get_users: %w", &openError{errors.New("busy")})}, exitDatabase},
		{"key file", &lang.Error{Kind: lang.RuntimeError, Err: fmt.Errorf("verify_pin: %w", store.ErrKey)}, exitDatabase},
		{"damaged", fmt.Errorf("read: %w", store.ErrDamaged), exitDatabase},
		{"disk full", &lang.Error{Kind: lang.RuntimeError, Err: fmt.Errorf("lock_pin: %w", store.ErrNoSpace)}, exitDatabase},
		{"open to others", fmt.Errorf("open: %w", store.ErrFileMode), exitDatabase},
		{"read-only", fmt.Errorf("open: %w", store.ErrReadOnly), exitDatabase},
		{"other", errors.New("x"), exitFailure},
	}
	for _, tt := range tests {
		if got := exitStatus(tt.err, nil); got != tt.want {
			t.Errorf("%s: exitStatus = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	runtime := func(line string, col int) *lang.Error {
		return &lang.Error{Kind: lang.RuntimeError, Pos: lang.Position{File: "-c", Line: 1, Col: col},
			Msg: "set_pin: PIN 48151 is too short", Line: line}
	}
	tests := []struct {
		name      string
		err       error
		style     errorStyle
		committed string
		want      string
	}{
		// Nothing committed: nothing to say about commits.
		{"interrupted", &lang.Error{Kind: lang.Interrupted, Msg: "interrupted"}, scriptErrors, "",
			"pinsh: interrupted\n"},
		{"interrupted with counts", &lang.Error{Kind: lang.Interrupted, Msg: "interrupted"}, scriptErrors, "lock_pin: 65,536",
			"pinsh: interrupted\npinsh: changes committed before the interrupt stay committed (lock_pin: 65,536); audit_log() lists them\n"},
		{"timed out", &lang.Error{Kind: lang.TimedOut, Msg: "timed out after 1s (--timeout)"}, scriptErrors, "",
			"pinsh: timed out after 1s (--timeout)\n"},
		{"timed out with counts", &lang.Error{Kind: lang.TimedOut, Msg: "timed out after 1s (--timeout)"}, scriptErrors, "new_pin_policy: 1, new_user: 2",
			"pinsh: timed out after 1s (--timeout)\npinsh: changes committed before the timeout stay committed (new_pin_policy: 1, new_user: 2); audit_log() lists them\n"},
		// A runtime error that ends the run (error_action "stop") after
		// changes: the note follows the caret.
		{"runtime with counts", &lang.Error{Kind: lang.RuntimeError, Pos: lang.Position{File: "a.tengo", Line: 2, Col: 3}, Msg: "boom", Line: "x := boom"},
			scriptErrors, "add_role_member: 1", "a.tengo:2:3: boom\n    x := boom\n      ^\npinsh: changes committed before the error stay committed (add_role_member: 1); audit_log() lists them\n"},
		{"runtime", &lang.Error{Kind: lang.RuntimeError, Pos: lang.Position{File: "a.tengo", Line: 2, Col: 3}, Msg: "boom", Line: "x := boom"},
			scriptErrors, "", "a.tengo:2:3: boom\n    x := boom\n      ^\n"},
		// PIN-like numbers in the source line are masked, the caret stays
		// in its column; the message line is left as it is.
		{"number PIN masked", runtime(`set_pin("sip:a@x.com", 48151)`, 24), scriptErrors, "",
			"-c:1:24: set_pin: PIN 48151 is too short\n    set_pin(\"sip:a@x.com\", *****)\n                           ^\n"},
		{"array PIN masked", runtime(`set_pin("sip:a@x.com", ["480518"])`, 24), scriptErrors, "",
			"-c:1:24: set_pin: PIN 48151 is too short\n    set_pin(\"sip:a@x.com\", [\"******\"])\n                           ^\n"},
		{"map PIN masked", runtime(`f({pin: "480519", n: 123, id: 1234567890123456789012345})`, 3), scriptErrors, "",
			"-c:1:3: set_pin: PIN 48151 is too short\n    f({pin: \"******\", n: 123, id: 1234567890123456789012345})\n      ^\n"},
		{"import", &lang.Error{Kind: lang.RuntimeError, Pos: lang.Position{File: "pinsh import", Line: 1, Col: 1},
			Msg: `import_users: operator "viewer" may not run import_users`, Line: `import_users("g.bin")`}, importErrors, "",
			"pinsh import: operator \"viewer\" may not run import_users\n"},
		{"import interrupted", &lang.Error{Kind: lang.Interrupted, Msg: "interrupted"}, importErrors, "import: 1,000",
			"pinsh import: interrupted\npinsh import: changes committed before the interrupt stay committed (import: 1,000); audit_log() lists them\n"},
		{"plain", errors.New("plain"), scriptErrors, "", "pinsh: plain\n"},
		{"plain with counts", errors.New("plain"), scriptErrors, "lock_pin: 3", "pinsh: plain\npinsh: changes committed before the error stay committed (lock_pin: 3); audit_log() lists them\n"},
		{"import error with counts", &lang.Error{Kind: lang.RuntimeError, Msg: "import_users: g.csv:7: bad row"}, importErrors, "import: 6",
			"pinsh import: g.csv:7: bad row\npinsh import: changes committed before the error stay committed (import: 6); audit_log() lists them\n"},
	}
	for _, tt := range tests {
		if got := errorText(tt.err, tt.style, tt.committed); got != tt.want {
			t.Errorf("%s: errorText =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestPromptCommand(t *testing.T) {
	tests := map[string]string{
		"help":                  "help()",
		"  help  ":              "help()",
		"help lock_pin":         `help("lock_pin")`,
		"help Lock-CsClientPin": `help("Lock-CsClientPin")`,
		"help Get-CsUser x":     "help Get-CsUser x",
		"help(\"count\")":       "help(\"count\")",
		"help lock_pin extra":   "help lock_pin extra",
		"helpme":                "helpme",
		"x := help":             "x := help",
		"exit":                  "exit()",
		" quit ":                "exit()",
		"exit(3)":               "exit(3)",
		"exit 3":                "exit 3",
	}
	for in, want := range tests {
		if got := promptCommand(in); got != want {
			t.Errorf("promptCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrompts(t *testing.T) {
	tests := []struct {
		cfg          config
		label        string
		prompt, cont string
	}{
		{config{as: "alice"}, "pinsh.db", "alice@pinsh.db> ", "           ...> "},
		{config{as: "alice", whatIf: true}, "demo", "alice@demo whatif> ", "              ...> "},
		{config{as: "a"}, "x", "a@x> ", "...> "},
		{config{as: "hd1", actedBy: "alice"}, "p.db", "alice as hd1@p.db> ", "              ...> "},
	}
	for _, tt := range tests {
		p := prompts(&tt.cfg, &database{label: tt.label})
		c := continuation(p, "get_users() | pin_info | count\nx :=")
		if p != tt.prompt || c != tt.cont {
			t.Errorf("prompts = %q, %q; want %q, %q", p, c, tt.prompt, tt.cont)
		}
		if len(p) != len(c) {
			t.Errorf("continuation %q is not as wide as %q", c, p)
		}
	}
}

func TestContinuation(t *testing.T) {
	const prompt = "alice@pinsh.db> "
	for _, tt := range []struct{ entry, want string }{
		{"get_users() | where(func(u) {", "         ({...> "},
		{"get_users() |", "          |...> "},
		{"x := [1,\n  {a: 2,", "         [{...> "},
		{"s := `two\nlines", "          `...> "},
		{"f := func() {\n  if x {\n    g(", "        {{(...> "},
		{"a(b(c(d(e(f(g(h(i(j(k(l(m(", "(((((((((((((...> "},
	} {
		got := continuation(prompt, tt.entry)
		if got != tt.want || len(got) < len(prompt) {
			t.Errorf("continuation(%q) = %q, want %q", tt.entry, got, tt.want)
		}
	}
}

func TestStripShebang(t *testing.T) {
	src := []byte("#!/usr/bin/env pinsh\nx := 1\n")
	got := stripShebang(src)
	if string(got) != "///usr/bin/env pinsh\nx := 1\n" {
		t.Errorf("got %q", got)
	}
	if src[0] != '#' {
		t.Error("stripShebang changed its input")
	}
	if got := stripShebang([]byte("x := 1")); string(got) != "x := 1" {
		t.Errorf("no shebang: got %q", got)
	}
}

func TestExitBuiltin(t *testing.T) {
	sess, err := lang.NewSession(lang.Options{Builtins: shellBuiltins()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src     string
		code    int
		wantErr string
	}{
		{"exit()", 0, ""},
		{"exit(3)", 3, ""},
		{`exit(2, "usage: x")`, 2, ""},
		{"exit(-1)", -1, "status must be a whole number from 0 to 125"},
		{`exit("1")`, -1, "status must be a whole number"},
		{"exit(1, 2)", -1, "message must be a string"},
		{`exit(1, "a", "b")`, -1, "wrong number of arguments"},
	}
	for _, tt := range tests {
		err := sess.Eval(context.Background(), "t", []byte(tt.src))
		var ex *exitRequest
		switch {
		case tt.code >= 0 && (!errors.As(err, &ex) || ex.code != tt.code):
			t.Errorf("%s: err %v, want exit status %d", tt.src, err, tt.code)
		case tt.code < 0 && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err %v, want %q", tt.src, err, tt.wantErr)
		}
	}
}

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	now := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.begin()
	p.add("lock_pin", 4096, 4096)
	if out.Len() != 0 {
		t.Errorf("progress shown before %v: %q", progressDelay, out.String())
	}
	now = now.Add(progressDelay)
	p.add("lock_pin", 4096, 4000)
	if got := out.String(); got != "\r\x1b[Klock_pin: 8,192 done (1s)" {
		t.Errorf("progress line %q", got)
	}
	out.Reset()
	now = now.Add(progressEvery / 2)
	p.set("import", 1000000)
	if out.Len() != 0 {
		t.Errorf("progress redrawn within %v: %q", progressEvery, out.String())
	}
	now = now.Add(progressEvery)
	p.set("import", 2000000)
	if got := out.String(); got != "\r\x1b[Kimport: 2,000,000 done, lock_pin: 8,192 done (1s)" {
		t.Errorf("progress line %q", got)
	}
	out.Reset()
	p.done()
	if got := out.String(); got != "\r\x1b[K" {
		t.Errorf("done wrote %q, want the line erased", got)
	}
	out.Reset()
	p.done()
	if out.Len() != 0 {
		t.Errorf("done with nothing shown wrote %q", out.String())
	}

	var none *progress
	none.begin()
	none.add("lock_pin", 1, 1)
	none.set("import", 1)
	none.clear()
	none.done()
	if none.committed() != "" || none.writer(&out) != &out {
		t.Error("a nil progress counts or wraps")
	}
}

// TestProgressCleared: whatever is written to the terminal while the line
// is shown starts on a cleared line, and the line comes back afterwards.
func TestProgressCleared(t *testing.T) {
	var term bytes.Buffer // standard error and output on one terminal
	p := newProgress(&term)
	now := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	out, errs := p.writer(&term), p.writer(&term)
	p.begin()
	now = now.Add(progressDelay)
	p.add("lock_pin", 100, 100)
	fmt.Fprint(out, "action: lock_pin  changed: 100\n")
	fmt.Fprint(errs, "lock_pin: sip:x@y.com: no such user\n")
	now = now.Add(progressEvery)
	p.add("lock_pin", 100, 90)
	fmt.Fprint(out, "done\n")
	want := "\r\x1b[Klock_pin: 100 done (1s)\r\x1b[Kaction: lock_pin  changed: 100\n" +
		"lock_pin: sip:x@y.com: no such user\n" +
		"\r\x1b[Klock_pin: 200 done (1s)\r\x1b[Kdone\n"
	if got := term.String(); got != want {
		t.Errorf("terminal:\n%q\nwant\n%q", got, want)
	}
	if got := p.committed(); got != "lock_pin: 190" {
		t.Errorf("committed = %q, want the changed items", got)
	}
	p.done()
	if got := p.committed(); got != "" {
		t.Errorf("committed after done = %q", got)
	}

	// Not shown (standard error is not a terminal): counted all the same.
	q := newProgress(nil)
	q.begin()
	q.add("unlock_pin", 5, 3)
	q.set("import", 1000)
	if got := q.committed(); got != "import: 1,000, unlock_pin: 3" {
		t.Errorf("committed = %q", got)
	}
	q.clear()
	q.done()
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4096: "-4,096"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestDBConn: the database is opened on first use, closed by Close, and
// opened again by the next use; open failures are *openError.
func TestDBConn(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pinsh.db")
	opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "admin"}
	c := newDBConn(path, opts)
	ctx := context.Background()
	if c.st != nil {
		t.Fatal("opened before first use")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the file exists before first use")
	}
	op := store.Op{Operator: "admin", Now: testEpoch}
	if _, err := c.CreateUser(ctx, op, store.User{SipAddress: "sip:a@x.com"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil || c.st != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Another process could use the file now; this one reopens it.
	other, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatalf("the file is still locked after Close: %v", err)
	}
	users, err := other.FindUsers(ctx, "a@x.com")
	other.Close()
	if err != nil || len(users) != 1 {
		t.Fatalf("FindUsers: %v %v", users, err)
	}
	if users, _, err := c.ScanUsers(ctx, store.UserQuery{}, 0, 10); err != nil || len(users) != 1 {
		t.Fatalf("reopened: %v %v", users, err)
	}
	c.Close()

	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("notes"), 0o600)
	bad := newDBConn(notDB, opts)
	_, err = bad.Roles(ctx)
	var oe *openError
	if !errors.As(err, &oe) || !errors.Is(err, store.ErrNotPinsh) {
		t.Errorf("a foreign file: err = %v, want an *openError wrapping ErrNotPinsh", err)
	}
}

// TestDBConnModes: reads open the file read-only (they write nothing, and
// work on a read-only file); the first write reopens it for writing; a
// file that does not exist is created by a read too, and said so.
func TestDBConnModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pinsh.db")
	opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "admin"}
	c := newDBConn(path, opts)
	var created []string
	c.created = func(p string) { created = append(created, p) }
	ctx := context.Background()
	if _, err := c.Roles(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.writable || len(created) != 1 || created[0] != path {
		t.Errorf("a read of a new file: writable %v, created %q; want the file created and said so", c.writable, created)
	}
	c.Close()
	if _, err := c.Roles(ctx); err != nil || c.writable {
		t.Errorf("a read of an existing file: %v, writable %v; want read-only", err, c.writable)
	}
	op := store.Op{Operator: "admin", Now: testEpoch}
	if _, err := c.CreateUser(ctx, op, store.User{SipAddress: "sip:a@x.com"}); err != nil || !c.writable {
		t.Fatalf("a write after a read: %v, writable %v", err, c.writable)
	}
	c.Close()
	if len(created) != 1 {
		t.Errorf("created said %d times", len(created))
	}
	os.Chmod(path, 0o400)
	before, _ := os.ReadFile(path)
	if us, _, err := c.ScanUsers(ctx, store.UserQuery{}, 0, 10); err != nil || len(us) != 1 {
		t.Errorf("a read of a 0400 file: %v %v", us, err)
	}
	c.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("reads changed the file")
	}
}

// TestDBConnMethods reaches every method of dbConn on a closed connection
// to a foreign file: each reports the open failure.
func TestDBConnMethods(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	os.WriteFile(path, []byte("notes"), 0o600)
	c := newDBConn(path, boltstore.Options{KeyFile: filepath.Join(dir, "k")})
	ctx := context.Background()
	op := store.Op{}
	calls := map[string]func() error{
		"CreateUser":   func() error { _, err := c.CreateUser(ctx, op, store.User{}); return err },
		"UpdateUser":   func() error { _, err := c.UpdateUser(ctx, op, store.User{}); return err },
		"RemoveUsers":  func() error { _, err := c.RemoveUsers(ctx, op, nil); return err },
		"Users":        func() error { _, err := c.Users(ctx, nil); return err },
		"FindUsers":    func() error { _, err := c.FindUsers(ctx, "x"); return err },
		"ScanUsers":    func() error { _, _, err := c.ScanUsers(ctx, store.UserQuery{}, 0, 1); return err },
		"ScanPinInfos": func() error { _, _, err := c.ScanPinInfos(ctx, store.UserQuery{}, 0, 1); return err },
		"ImportUsers":  func() error { _, err := c.ImportUsers(ctx, op, nil, nil); return err },
		"LoadUsers":    func() error { _, err := c.LoadUsers(ctx, op, nil, nil); return err },
		"PinInfos":     func() error { _, err := c.PinInfos(ctx, nil); return err },
		"SetPins":      func() error { _, err := c.SetPins(ctx, op, nil); return err },
		"LockPins":     func() error { _, err := c.LockPins(ctx, op, nil); return err },
		"UnlockPins":   func() error { _, err := c.UnlockPins(ctx, op, nil); return err },
		"VerifyPin":    func() error { _, err := c.VerifyPin(ctx, op, 1, "1"); return err },
		"Policies":     func() error { _, err := c.Policies(ctx); return err },
		"Policy":       func() error { _, err := c.Policy(ctx, "global"); return err },
		"NewPolicy":    func() error { _, err := c.NewPolicy(ctx, op, "tag:x", store.PolicyChanges{}); return err },
		"SetPolicy":    func() error { _, err := c.SetPolicy(ctx, op, "global", store.PolicyChanges{}); return err },
		"RemovePolicy": func() error { return c.RemovePolicy(ctx, op, "tag:x") },
		"GrantPolicy":  func() error { _, err := c.GrantPolicy(ctx, op, nil, "x"); return err },
		"Effective":    func() error { _, err := c.EffectivePolicy(ctx, 1); return err },
		"Roles":        func() error { _, err := c.Roles(ctx); return err },
		"NewRole":      func() error { _, err := c.NewRole(ctx, op, "r", "CsHelpDesk"); return err },
		"RemoveRole":   func() error { return c.RemoveRole(ctx, op, "r") },
		"AddMember":    func() error { return c.AddRoleMember(ctx, op, "r", "m") },
		"RemoveMember": func() error { return c.RemoveRoleMember(ctx, op, "r", "m") },
		"RolesOf":      func() error { _, err := c.RolesOf(ctx, "m"); return err },
		"Audit":        func() error { return c.Audit(ctx, op, store.AuditEntry{}) },
		"ScanAudit":    func() error { _, _, err := c.ScanAudit(ctx, store.AuditQuery{}, 0, 1); return err },
	}
	for name, call := range calls {
		var oe *openError
		if err := call(); !errors.As(err, &oe) {
			t.Errorf("%s: err = %v, want the open failure", name, err)
		}
	}
	if _, err := c.tryOpen(time.Millisecond); err == nil {
		t.Error("tryOpen of a foreign file: no error")
	}
}

func TestFailureLine(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&lang.Error{Pos: lang.Position{File: "a_test.tengo", Line: 3, Col: 1}, Msg: "assert: no"}, "a_test.tengo:3: assert: no"},
		{&lang.Error{Pos: lang.Position{File: "a_test.tengo", Line: 3, Col: 1}, Msg: "boom", Item: "sip:x"}, "a_test.tengo:3: boom (processing sip:x)"},
		{&lang.Error{Kind: lang.TimedOut, Msg: "timed out"}, "f: timed out"},
		{errors.New("open f: no such file"), "f: open f: no such file"},
	}
	for _, tt := range tests {
		if got := failureLine("f", tt.err); got != tt.want {
			t.Errorf("failureLine = %q, want %q", got, tt.want)
		}
	}
}

func TestIndent(t *testing.T) {
	if got := indent("", 3); got != "" {
		t.Errorf("empty: %q", got)
	}
	if got := indent("a\nb\n", 3); got != "    a\n    b\n" {
		t.Errorf("got %q", got)
	}
	if got := indent("1\n2\n3\n4\n5", 2); got != "    1\n    2\n    ... 3 more lines\n" {
		t.Errorf("got %q", got)
	}
}

func TestTestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b_test.tengo", "a_test.tengo", "helper.tengo", "sub/c_test.tengo", ".hidden/d_test.tengo"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	got, err := testFiles([]string{dir, filepath.Join(dir, "helper.tengo")})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range got {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, r)
	}
	if want := "a_test.tengo b_test.tengo sub/c_test.tengo helper.tengo"; strings.Join(rel, " ") != want {
		t.Errorf("testFiles = %q, want %q", rel, want)
	}
	if _, err := testFiles([]string{filepath.Join(dir, "nosuch")}); err == nil {
		t.Error("a missing path: no error")
	}
}

func TestClockFor(t *testing.T) {
	if c := clockFor(&config{now: testEpoch}); !c.Now().Equal(testEpoch) {
		t.Errorf("--now: clock at %v", c.Now())
	}
	if c := clockFor(&config{}); time.Since(c.Now()) > time.Minute {
		t.Errorf("wall clock at %v", c.Now())
	}
}
