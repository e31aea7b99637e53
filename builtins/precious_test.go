package builtins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// A generated PIN reaches the admin or the script before anything can drop
// it (issue 8 §2).

var pinRow = regexp.MustCompile(`(?m)^(sip:\S+)\s.*\s([0-9]{5,})$`)

// shownPins returns identity -> PIN of the table rows in out.
func shownPins(out string) map[string]string {
	m := map[string]string{}
	for _, sub := range pinRow.FindAllStringSubmatch(out, -1) {
		m[sub[1]] = sub[2]
	}
	return m
}

// pinsSet returns the identities whose PIN is set.
func (ts *testShell) pinsSet() map[string]bool {
	ts.t.Helper()
	users, err := ts.st.FindUsers(context.Background(), "*")
	if err != nil {
		ts.t.Fatal(err)
	}
	set := map[string]bool{}
	for _, u := range users {
		if ts.pinInfo(u.Identity()).IsSet {
			set[u.Identity()] = true
		}
	}
	return set
}

// newPins returns the identities whose PIN is set now and was not in before.
func newPins(before, now map[string]bool) map[string]bool {
	out := map[string]bool{}
	for id := range now {
		if !before[id] {
			out[id] = true
		}
	}
	return out
}

func TestSetPinRefusesConsumersThatDrop(t *testing.T) {
	ts := newTestShell(t)
	before := ts.pinsSet()
	for _, code := range []string{
		`get_users() | set_pin | count`,
		`get_users() | set_pin | first(1)`,
		`get_users() | set_pin | where({identity: "x"})`,
		`get_users() | set_pin | each(func(r) {})`,
		`get_users() | set_pin | select("identity")`,
		`get_users() | set_pin | sort_by("identity")`,
		`count(get_users() | set_pin)`,
		`s := get_users() | set_pin; s | count`,
		`f := set_pin | count; get_users() | f`,
	} {
		_, stderr, err := ts.run(code)
		if err == nil || !strings.Contains(err.Error(), "would drop them") ||
			!strings.Contains(err.Error(), "export_csv(path)") || !strings.Contains(err.Error(), "Nothing was changed") {
			t.Errorf("%s: err = %v", code, err)
		}
		if strings.Contains(stderr, "never read") {
			t.Errorf("%s: a refused stream is noted as unread: %s", code, stderr)
		}
	}
	if got := newPins(before, ts.pinsSet()); len(got) != 0 {
		t.Errorf("refused pipelines set PINs of %v", got)
	}
	// A PIN the admin gives is no secret of set_pin's: count may read it.
	if got := ts.value(`set_pin("aidan@litwareinc.com", "583920") | count`); got != "1" {
		t.Errorf("set_pin with a PIN | count = %s", got)
	}
}

func TestSetPinUnreadStreamSetsNothing(t *testing.T) {
	ts := newTestShell(t)
	_, stderr, err := ts.run(`s := ["aidan@litwareinc.com"] | set_pin`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "no PIN was set: its records were never read") {
		t.Errorf("stderr %q", stderr)
	}
	if ts.pinInfo("aidan@litwareinc.com").IsSet {
		t.Error("an unread set_pin set a PIN")
	}
	// Read later, at the prompt, it sets and shows the PIN.
	out := ts.must(`s`)
	if pins := shownPins(out); pins["sip:aidan@litwareinc.com"] == "" || !ts.pinInfo("aidan@litwareinc.com").IsSet {
		t.Errorf("reading it later: %q", out)
	}
}

// askAndLook is a Prompter that answers from a script and records what the
// session had printed when it was asked.
type askAndLook struct {
	ts      *testShell
	answers []Answer
	seen    []string
}

func (a *askAndLook) Confirm(op, target string) (Answer, error) {
	a.seen = append(a.seen, a.ts.out.String())
	if len(a.answers) == 0 {
		return No, errors.New("confirm: interrupted")
	}
	ans := a.answers[0]
	a.answers = a.answers[1:]
	return ans, nil
}

func TestSetPinConfirmShowsEachPinBeforeTheNextPrompt(t *testing.T) {
	targets := `["aidan@litwareinc.com", "kenmyer@litwareinc.com", "pilar@litwareinc.com"]`
	t.Run("no to all", func(t *testing.T) {
		p := &askAndLook{answers: []Answer{Yes, NoToAll}}
		ts := newTestShell(t, withPrompter(p))
		p.ts = ts
		out, stderr, err := ts.run(`set_pin(` + targets + `, {confirm: true})`)
		if err != nil {
			t.Fatal(err, stderr)
		}
		pins := shownPins(out)
		if len(pins) != 1 || pins["sip:aidan@litwareinc.com"] == "" {
			t.Fatalf("output %q", out)
		}
		if !strings.Contains(p.seen[1], pins["sip:aidan@litwareinc.com"]) {
			t.Errorf("Aidan's PIN was not shown before the second prompt: %q", p.seen[1])
		}
		if got := ts.value(`audit_log({action: "set_pin"}) | count`); got != "1" {
			t.Errorf("%s set_pin audit entries after Yes, No to All; want 1", got)
		}
		if strings.Contains(stderr, "the rest unchanged") {
			t.Errorf("No to All ends the run normally: %q", stderr)
		}
	})
	t.Run("ctrl-c at the prompt", func(t *testing.T) {
		p := &askAndLook{answers: []Answer{Yes}}
		ts := newTestShell(t, withPrompter(p))
		p.ts = ts
		out, stderr, err := ts.run(`set_pin(` + targets + `, {confirm: true})`)
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("err = %v", err)
		}
		pins := shownPins(out)
		if len(pins) != 1 || pins["sip:aidan@litwareinc.com"] == "" || !strings.Contains(p.seen[1], pins["sip:aidan@litwareinc.com"]) {
			t.Errorf("output %q, at the second prompt %q", out, p.seen[1])
		}
		if !strings.Contains(stderr, "set_pin: stopped by an error: 1 PIN set and shown above; the rest unchanged") {
			t.Errorf("stderr %q", stderr)
		}
	})
}

func TestSetPinStopDeliversWhatItSet(t *testing.T) {
	ts := newTestShell(t)
	before := ts.pinsSet()
	// Tony's PIN is locked: stop ends the run at him, after Aidan's PIN.
	out, stderr, err := ts.run(`set_pin(["aidan@litwareinc.com", "tonysmith@litwareinc.com", "davidlongmuir@litwareinc.com"], {error_action: "stop"}) | collect`)
	if err == nil || !strings.Contains(err.Error(), "unlock") {
		t.Fatalf("err = %v", err)
	}
	pins := shownPins(out)
	if len(pins) != 1 || pins["sip:aidan@litwareinc.com"] == "" {
		t.Errorf("output %q", out)
	}
	if !strings.Contains(stderr, "so that none is lost") ||
		!strings.Contains(stderr, "set_pin: stopped by an error: 1 PIN set and shown above; the rest unchanged") {
		t.Errorf("stderr %q", stderr)
	}
	if got := newPins(before, ts.pinsSet()); len(got) != 1 || !got["sip:aidan@litwareinc.com"] {
		t.Errorf("set: %v", got)
	}
}

// watchedStore calls before ahead of each SetPins.
type watchedStore struct {
	store.Store
	before func(ctx context.Context, n int) context.Context
	calls  int
}

func (w *watchedStore) SetPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest) ([]store.SetPinResult, error) {
	w.calls++
	return w.Store.SetPins(w.before(ctx, len(reqs)), op, reqs)
}

// addUsers adds n users without a PIN.
func (ts *testShell) addUsers(n int) {
	ts.t.Helper()
	ts.must(fmt.Sprintf(`for i := 0; i < %d; i++ { new_user({sip_address: "sip:u" + i + "@example.com", display_name: "User " + i}) }`, n))
}

// interruptedAtSecondCommit returns a shell with users more users (without
// a PIN) and a context that is interrupted when set_pin commits its
// second batch, before that batch is written.
func interruptedAtSecondCommit(t *testing.T, users int) (context.Context, *testShell) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ts := newTestShell(t, func(c *Config) {
		calls := 0
		c.Store = &watchedStore{Store: c.Store, before: func(c context.Context, n int) context.Context {
			if calls++; calls == 2 {
				cancel(errors.New("interrupted"))
			}
			return c
		}}
	})
	ts.addUsers(users)
	ts.out.Reset()
	ts.err.Reset()
	return ctx, ts
}

func TestSetPinDeliversEachBatchBeforeTheNext(t *testing.T) {
	const users = 2*setPinBatch + 10
	var ws *watchedStore
	var ts *testShell
	var seen []string // output at each SetPins call
	ts = newTestShell(t, func(c *Config) {
		ws = &watchedStore{Store: c.Store, before: func(ctx context.Context, n int) context.Context {
			seen = append(seen, ts.out.String())
			return ctx
		}}
		c.Store = ws
	})
	ts.addUsers(users)
	out := ts.must(`get_users("User *") | set_pin`)
	if ws.calls != 3 {
		t.Fatalf("%d SetPins calls, want 3", ws.calls)
	}
	for i, s := range seen {
		if n := len(shownPins(s)); n != i*setPinBatch {
			t.Errorf("at commit %d, %d PINs shown, want %d", i+1, n, i*setPinBatch)
		}
	}
	if n := len(shownPins(out)); n != users {
		t.Errorf("%d PINs shown, want %d", n, users)
	}
}

func TestSetPinInterruptedShowsEveryPinItSet(t *testing.T) {
	for _, tt := range []struct{ name, sink, where string }{
		{"printer", ``, " and shown above"},
		{"collect", ` | collect`, " and shown above"},
		{"for loop", `; n := 0; for r in s { if n++; n == 8 { break } }`, ": 8 handed to the script, 248 shown above"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, ts := interruptedAtSecondCommit(t, setPinBatch+5)
			before := ts.pinsSet()
			code := `get_users("User *") | set_pin` + tt.sink
			if tt.name == "for loop" {
				code = `s := get_users("User *") | set_pin` + tt.sink
			}
			err := ts.sess.Eval(ctx, "test", []byte(code))
			var le *lang.Error
			if tt.name != "for loop" && (!errors.As(err, &le) || le.Kind != lang.Interrupted) {
				t.Fatalf("err = %v", err)
			}
			set := newPins(before, ts.pinsSet())
			shown := shownPins(ts.out.String())
			if tt.name == "for loop" {
				// The loop read 8 records, the rest of the batch is
				// shown; the 8 were never read (r.pin), so they are
				// shown after them.
				if len(set) != setPinBatch || len(shown) != setPinBatch {
					t.Errorf("%d set, %d shown", len(set), len(shown))
				}
				if !strings.Contains(ts.err.String(), "not read to its end: 256 PINs set"+tt.where) ||
					!strings.Contains(ts.err.String(), "set_pin: 8 generated PINs were set but never shown") {
					t.Errorf("stderr %q", ts.err.String())
				}
				return
			}
			if len(set) != setPinBatch || len(shown) != len(set) {
				t.Fatalf("%d PINs set, %d shown", len(set), len(shown))
			}
			for id := range set {
				if shown[id] == "" {
					t.Errorf("%s's PIN was set and not shown", id)
				}
			}
			want := fmt.Sprintf("set_pin: interrupted: %d PINs set%s; the rest unchanged", setPinBatch, tt.where)
			if !strings.Contains(ts.err.String(), want) {
				t.Errorf("stderr %q, want %q", ts.err.String(), want)
			}
		})
	}
}

func TestSetPinForLoopErrorShowsTheRest(t *testing.T) {
	ts := newTestShell(t)
	out, stderr, err := ts.run(`n := 0; for r in get_users() | set_pin { n++; if n == 2 { x := n / (n - 2) } }`)
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("err = %v", err)
	}
	set := ts.value(`audit_log({action: "set_pin"}) | where({detail: "generated"}) | count`)
	shown := shownPins(out)
	// 3 the loop did not get, and then the 2 it got but did not read.
	if set != "5" || len(shown) != 5 || !strings.Contains(stderr, "set_pin: 2 generated PINs were set but never shown") {
		t.Errorf("%s set, %d shown after the loop's error: %q", set, len(shown), out)
	}
	if !strings.Contains(stderr, "set_pin: stopped by an error: 5 PINs set: 2 handed to the script, 3 shown above; the rest unchanged") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestSetPinBareStatementInAScript(t *testing.T) {
	ts := newTestShell(t)
	var out strings.Builder
	sess, err := lang.NewSession(lang.Options{Stdout: &out, Format: lang.JSONL, Builtins: ts.sh.Builtins()})
	if err != nil {
		t.Fatal(err)
	}
	src := `f := func() { set_pin("aidan@litwareinc.com") }; f(); set_pin("pilar@litwareinc.com", "5839201"); x := 1`
	if err := sess.Eval(context.Background(), "s.tengo", []byte(src)); err == nil || !strings.Contains(err.Error(), "locked") {
		// Pilar's PIN is locked: a given PIN prints nothing, and fails.
		t.Logf("err = %v", err)
	}
	if !regexp.MustCompile(`^\{"identity":"sip:aidan@litwareinc.com","display_name":"Aidan Delaney","pin":"[0-9]{5,}"\}\n$`).MatchString(out.String()) {
		t.Errorf("script printed %q", out.String())
	}
}

func TestExportFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	ts := newTestShell(t)
	out := ts.must(`["aidan@litwareinc.com", "davidlongmuir@litwareinc.com"] | set_pin | export_csv("pins.csv")`)
	if strings.TrimSpace(out) != "path: pins.csv  rows: 2" {
		t.Errorf("summary %q", out)
	}
	b, err := os.ReadFile("pins.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^identity,display_name,pin\nsip:aidan@litwareinc.com,Aidan Delaney,[0-9]{5,}\nsip:davidlongmuir@litwareinc.com,David Longmuir,[0-9]{5,}\n$`).Match(b) {
		t.Errorf("pins.csv:\n%s", b)
	}
	if pin := strings.Split(strings.Split(string(b), "\n")[1], ",")[2]; ts.value(`verify_pin("aidan@litwareinc.com", "`+pin+`").ok`) != "true" {
		t.Error("the exported PIN does not work")
	}
	ts.must(`get_users("* Smith") | export_jsonl("smiths.jsonl")`)
	b, _ = os.ReadFile("smiths.jsonl")
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], `{"identity":"sip:`) {
		t.Errorf("smiths.jsonl:\n%s", b)
	}
	for _, f := range []string{"pins.csv", "smiths.jsonl"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", f, fi.Mode(), err)
		}
	}

	// An existing file is refused, and left as it was; overwrite replaces
	// it, private again.
	os.WriteFile("old.csv", []byte("keep me\n"), 0o644)
	if _, _, err := ts.run(`export_csv([1], "old.csv")`); err == nil || !strings.Contains(err.Error(), "old.csv already exists; pass {overwrite: true}") {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile("old.csv"); string(b) != "keep me\n" {
		t.Errorf("old.csv changed: %q", b)
	}
	ts.must(`export_csv([1, 2], "old.csv", {overwrite: true})`)
	if b, _ := os.ReadFile("old.csv"); string(b) != "value\n1\n2\n" {
		t.Errorf("old.csv: %q", b)
	}
	if fi, _ := os.Stat("old.csv"); fi.Mode().Perm() != 0o600 {
		t.Errorf("overwritten old.csv has mode %v", fi.Mode())
	}

	// A symbolic link is never followed, dangling or not, overwrite or not.
	os.WriteFile("target", []byte("secret\n"), 0o644)
	os.Symlink("target", "link.csv")
	os.Symlink("nowhere", "dangling.csv")
	for _, code := range []string{`export_csv([1], "link.csv")`, `export_csv([1], "link.csv", {overwrite: true})`,
		`export_jsonl([1], "dangling.csv")`} {
		if _, _, err := ts.run(code); err == nil || !strings.Contains(err.Error(), ".csv is a symbolic link; pinsh never writes through one") {
			t.Errorf("%s: err = %v", code, err)
		}
	}
	if b, _ := os.ReadFile("target"); string(b) != "secret\n" {
		t.Errorf("target changed: %q", b)
	}
	if _, err := os.Lstat("nowhere"); err == nil {
		t.Error("the dangling link's target was created")
	}

	for _, tt := range []struct{ code, want string }{
		{`export_csv([1], ".")`, ". is a directory"},
		{`export_csv([1], "no/such/dir.csv")`, "create no/such/dir.csv: the directory no/such does not exist; create it first (mkdir -p no/such)"},
		{`export_csv([{a: 1}, {b: 2}], "mixed.csv")`, "mixed.csv: row 2: its fields ([b]) are not those of the first row ([a])"},
		{`export_csv([1], 5)`, "the path must be a non-empty string"},
		{`export_csv([1], "x.csv", {force: true})`, `unknown option "force"; options are overwrite`},
		{`[1] | export_csv()`, "want export_csv(path"},
	} {
		if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
}

func TestExportSyncsEachBatchBeforeTheNext(t *testing.T) {
	t.Chdir(t.TempDir())
	var seen []int // lines on disk at each SetPins call
	ts := newTestShell(t, func(c *Config) {
		c.Store = &watchedStore{Store: c.Store, before: func(ctx context.Context, n int) context.Context {
			b, _ := os.ReadFile("pins.jsonl")
			seen = append(seen, strings.Count(string(b), "\n"))
			return ctx
		}}
	})
	ts.addUsers(2*setPinBatch + 1)
	out := ts.must(`get_users("User *") | set_pin | export_jsonl("pins.jsonl")`)
	if strings.TrimSpace(out) != fmt.Sprintf("path: pins.jsonl  rows: %d", 2*setPinBatch+1) {
		t.Errorf("summary %q", out)
	}
	if fmt.Sprint(seen) != fmt.Sprintf("[0 %d %d]", setPinBatch, 2*setPinBatch) {
		t.Errorf("lines on disk at each commit: %v", seen)
	}
}

func TestExportInterruptedKeepsWhatItSet(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, ts := interruptedAtSecondCommit(t, setPinBatch+1)
	err := ts.sess.Eval(ctx, "test", []byte(`get_users("User *") | set_pin | export_csv("pins.csv")`))
	if err == nil {
		t.Fatal("not interrupted")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pins.csv"))
	if n := strings.Count(string(b), "\n"); n != setPinBatch+1 {
		t.Errorf("pins.csv has %d lines, want a header and %d PINs", n, setPinBatch)
	}
	if want := fmt.Sprintf("set_pin: interrupted: %d PINs set and written by export_csv; the rest unchanged", setPinBatch); !strings.Contains(ts.err.String(), want) {
		t.Errorf("stderr %q", ts.err.String())
	}
	if ts.out.Len() != 0 {
		t.Errorf("PINs printed although they are in the file: %q", ts.out.String())
	}
}

func TestSetPinRecordPipedOnIsShown(t *testing.T) {
	ts := newTestShell(t)
	out, stderr, err := ts.run(`n := set_pin("aidan@litwareinc.com") | count`)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^pin +: [0-9]{5,}$`).MatchString(out) || !strings.Contains(stderr, "count does not keep what it reads") {
		t.Errorf("stdout %q, stderr %q", out, stderr)
	}
	// A collected array whose PINs the script never read: shown at the
	// end of the input.
	out, stderr, err = ts.run(`a := ["davidlongmuir@litwareinc.com"] | set_pin | collect; n = a | count`)
	if err != nil || len(shownPins(out)) != 1 || !strings.Contains(stderr, "set_pin: 1 generated PIN was set but never shown") {
		t.Errorf("counting a collected array: stdout %q, stderr %q, err %v", out, stderr, err)
	}
	// Read by the script: its own, shown nothing.
	if out := ts.must(`a := ["davidlongmuir@litwareinc.com"] | set_pin | collect; p := a[0].pin; n = a | count`); out != "" {
		t.Errorf("counting a collected array whose PINs were read printed %q", out)
	}
}

func TestExportWhatIf(t *testing.T) {
	t.Chdir(t.TempDir())
	ts := newTestShell(t, withWhatIf())
	out := ts.must(`get_users("aidan@litwareinc.com") | set_pin | export_csv("pins.csv")`)
	for _, want := range []string{`What if: Performing the operation "set_pin" on target "sip:aidan@litwareinc.com".`,
		`What if: Performing the operation "export_csv" on target "pins.csv".`, "path: pins.csv  rows: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Lstat("pins.csv"); err == nil {
		t.Error("--whatif created the file")
	}
	os.WriteFile("old.csv", nil, 0o600)
	if _, _, err := ts.run(`[1] | export_csv("old.csv")`); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("--whatif does not say the file would be refused: %v", err)
	}
}

// A generated PIN that was never printed, exported or read by the script is
// printed when the input ends, once, however it ends; a given PIN is not a
// secret pinsh made, and is not.
func TestSetPinUndeliveredShownAtTheEnd(t *testing.T) {
	pinLine := regexp.MustCompile(`(?m)^sip:\S+\s.*\s[0-9]{5,}$|^pin +: [0-9]{5,}$`) // a table row, a record
	tests := []struct {
		name, src string
		shown     int    // PIN rows printed
		header    string // on stderr; "" none
		errMsg    string
	}{
		{name: "index of a collected array", src: `x := (get_users() | set_pin | collect)[0].identity`, shown: 5,
			header: "set_pin: 5 generated PINs were set but never shown, written or read; here they are, so that none is lost:"},
		{name: "len of a collected array", src: `n := len(get_users() | pin_info | where({is_pin_set: false}) | set_pin | collect)`, shown: 1,
			header: "set_pin: 1 generated PIN was set but never shown, written or read; here it is, so that none is lost:"},
		{name: "another field", src: `x := set_pin("aidan@litwareinc.com").identity`, shown: 1, header: "1 generated PIN was set"},
		{name: "variable in a loop", src: `for u in ["Aidan Delaney"] { r := set_pin(u) }`, shown: 1, header: "1 generated PIN was set"},
		{name: "condition", src: `if set_pin("aidan@litwareinc.com") {}`, shown: 1, header: "1 generated PIN was set"},
		{name: "assigned", src: `x := set_pin("aidan@litwareinc.com")`, shown: 1, header: "1 generated PIN was set"},
		{name: "then an error", src: `x := set_pin("aidan@litwareinc.com"); y := 1 / 0`, shown: 1, header: "1 generated PIN was set", errMsg: "division by zero"},
		{name: "r.pin read", src: `r := set_pin("aidan@litwareinc.com"); p := r.pin`},
		{name: "pin read by index", src: `r := set_pin("aidan@litwareinc.com"); p := r["pin"]`},
		{name: "to_map", src: `m := to_map(set_pin("aidan@litwareinc.com"))`},
		{name: "read in a for loop", src: `pins := {}; for r in get_users() | pin_info | where({is_locked_out: false}) | set_pin { pins[r.identity] = r.pin }`},
		{name: "exported", src: `a := get_users() | pin_info | where({is_locked_out: false}) | set_pin | collect; s := a | export_jsonl("pins.jsonl")`},
		{name: "printed", src: `a := get_users() | pin_info | where({is_locked_out: false}) | set_pin | collect; a`, shown: 5},
		{name: "printed in a for loop", src: `for r in get_users() | pin_info | where({is_locked_out: false}) | set_pin { r }`, shown: 5},
		{name: "given PIN", src: `x := set_pin("aidan@litwareinc.com", "583920")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			ts := newTestShell(t)
			out, stderr, err := ts.run(tt.src)
			if tt.errMsg == "" && err != nil || tt.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.errMsg)) {
				t.Fatalf("err = %v, want %q", err, tt.errMsg)
			}
			if n := len(pinLine.FindAllString(out, -1)); n != tt.shown {
				t.Errorf("%d PINs printed, want %d:\n%s", n, tt.shown, out)
			}
			if got := strings.Contains(stderr, "never shown"); got != (tt.header != "") || !strings.Contains(stderr, tt.header) {
				t.Errorf("stderr %q, want header %q", stderr, tt.header)
			}
		})
	}
}

// Ctrl-C while a for loop holds records it never read the PIN of: they are
// printed as the interrupted input ends, with the ones it did not get; the
// ones whose PIN it read are not.
func TestSetPinInterruptedLoopShowsUnreadPins(t *testing.T) {
	ctx, ts := interruptedAtSecondCommit(t, setPinBatch+5)
	before := ts.pinsSet()
	err := ts.sess.Eval(ctx, "test", []byte(`n := 0; for r in get_users("User *") | set_pin { if n++; n <= 10 { p := r.pin } }`))
	var le *lang.Error
	if !errors.As(err, &le) || le.Kind != lang.Interrupted {
		t.Fatalf("err = %v", err)
	}
	set := newPins(before, ts.pinsSet())
	shown := shownPins(ts.out.String())
	if len(set) != setPinBatch || len(shown)+10 != len(set) {
		t.Fatalf("%d PINs set, %d shown, want all but the 10 read", len(set), len(shown))
	}
	for id := range shown {
		if !set[id] {
			t.Errorf("%s shown, but its PIN was not set", id)
		}
	}
	if want := fmt.Sprintf("set_pin: %d generated PINs were set but never shown", setPinBatch-10); !strings.Contains(ts.err.String(), want) {
		t.Errorf("stderr %q, want %q", ts.err.String(), want)
	}
}

// A row export_csv could not write (here: other fields than the first row's)
// is not in the file, so a generated PIN it holds is shown at the end of the
// input, not taken for written.
func TestExportRowNotWrittenIsShown(t *testing.T) {
	t.Chdir(t.TempDir())
	ts := newTestShell(t)
	out, stderr, err := ts.run(`a := ["aidan@litwareinc.com"] | set_pin | collect; s := export_csv([1, a[0]], "pins.csv")`)
	if err == nil || !strings.Contains(err.Error(), "pins.csv: row 2") {
		t.Fatalf("err = %v, want the row refused", err)
	}
	if len(shownPins(out)) != 1 || !strings.Contains(stderr, "1 generated PIN was set but never shown") {
		t.Errorf("the PIN of the row not written was not shown: stdout %q, stderr %q", out, stderr)
	}
}
