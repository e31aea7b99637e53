package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store/boltstore"
	bolt "go.etcd.io/bbolt"
)

// testREPL returns the prompt's state on a --demo database, without a
// terminal: for completion and evaluation tests.
func testREPL(t *testing.T) *repl {
	t.Helper()
	return testREPLFor(t, &config{demo: true, as: "admin"})
}

// testREPLFor is testREPL with cfg, which must have demo set.
func testREPLFor(t *testing.T, cfg *config) *repl {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	a := &app{stdout: out, stderr: out, getenv: env("HOME", dir, "TMPDIR", dir)}
	clock := builtins.FrozenClock(testEpoch)
	db, err := a.openDatabase(context.Background(), cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.close)
	r, err := newREPL(a, cfg, db, clock)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *repl) mustEval(t *testing.T, src string) {
	t.Helper()
	if err := r.sess.Eval(context.Background(), promptFile, []byte(src)); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	r.db.conn.Close()
}

func TestComplete(t *testing.T) {
	r := testREPL(t)
	r.mustEval(t, `k := pin_info("kenmyer@litwareinc.com")`)
	r.mustEval(t, `fmt := import("fmt")`)
	r.mustEval(t, `arr := get_users() | first(2) | collect`)
	r.mustEval(t, `users := get_users()`)
	c := &completer{r: r}
	tests := []struct {
		text string
		want []string
		n    int
	}{
		// Names of builtins, globals and keywords.
		{"get_u", []string{"sers"}, 5},
		{"x := lock_p", []string{"in"}, 6},
		{"fu", []string{"nc"}, 2},
		{"ar", []string{"gs", "r"}, 2},
		{"get_users() | pin_", []string{"info"}, 4},
		// Fields of a global holding a record, a module, an array's records.
		{"k.is_lo", []string{"cked_out"}, 5},
		{"k.is_pin_", []string{"expired", "set"}, 7},
		{"fmt.print", []string{"f", "ln"}, 5},
		{"arr[0].x + k.display", []string{"_name"}, 7},
		{"users.", nil, 0},  // a stream: reading it would eat a record
		{"nosuch.", nil, 0}, // an unknown name
		{"k.a.b", nil, 0},   // a field of a field: unknown
		// Fields of the records flowing into a function of a pipeline.
		{`get_users() | pin_info | where(func(p) { return p.locked_`, []string{"by"}, 7},
		{`get_users() | where(func(u) { return u.disp`, []string{"lay_name"}, 4},
		{`where(get_users(), func(u) { return u.sip_`, []string{"address"}, 4},
		{`get_users() | pin_info | where({is_pin_set: true}) | first(3) | each(func(x) { x.pin_exp`, []string{"iration_time"}, 7},
		{`get_users() | select("identity", "display_name") | where(func(r) { return r.`, []string{"display_name", "identity"}, 0},
		{"get_users() |\n  pin_info |\n  where(func(p) {\n    return p.is_l", []string{"ocked_out"}, 4},
		{`admin_roles() | where(func(r) { return contains(r.bu`, []string{"iltins"}, 2},
		{`audit_log() | where(func(e) { return e.out`, []string{"come"}, 3},
		{`get_pin_policy() | where(func(p) { return p.min_`, []string{"password_length"}, 4},
		{`func(p) { return p.is_`, nil, 0}, // not an argument of a call
		// Field names as string arguments.
		{`get_users() | pin_info | select("identity", "is_pin_`, []string{`expired"`, `set"`}, 7},
		{`get_users() | sort_by("display`, []string{`_name"`}, 7},
		// Identities inside the string argument of the PIN builtins.
		{`lock_pin("kenm`, []string{`yer@litwareinc.com"`}, 4},
		{`unlock_pin("Pil`, []string{`ar Ackerman"`}, 3}, // the forms that start as typed, case and all
		{`unlock_pin("pil`, []string{`ar@litwareinc.com"`}, 3},
		{`unlock_pin("PIL`, []string{`ar Ackerman"`, `ar@litwareinc.com"`}, 3}, // none does: ignoring case, keeping what was typed
		{`pin_info("litwareinc\\ton`, []string{`ysmith"`}, 15},
		{`set_pin("sip:lisa`, []string{`smith@litwareinc.com"`}, 8},
		{`get_users("* Sm`, nil, 0},
		{`get_users("tony`, []string{`smith@litwareinc.com"`}, 4}, // not Tonysmith@...: the case as stored
		{`get_users("Tony`, []string{` Smith"`}, 4},
		{`lock_pin("kenmyer@litwareinc.com", "ken`, nil, 0}, // not the identity argument
		{`help("lock_`, []string{`pin"`}, 5},
		{`help("Lock-Cs`, []string{`ClientPin"`}, 7},
		// After |, the stages and sinks only.
		{`get_users() | `, stageNames(r), 0},
		{`get_users() | pin_info | lo`, []string{"ck_pin"}, 2},
		{`get_users() | pin_info | where({is_pin_set: true}) | c`, []string{"ollect", "ount"}, 1},
		// where's field map: the fields of the records flowing there.
		{`get_users() | pin_info | where({is_l`, []string{"ocked_out: "}, 4},
		{`get_users() | pin_info | where({is_pin_set: true, lock`, []string{"ed_by: "}, 4},
		{`where(get_users(), {disp`, []string{"lay_name: "}, 4},
		{`get_users() | where(func(u) { return true }, {ca`, []string{"se_sensitive: "}, 2},
		// select, sort_by: fields after any stage that keeps records.
		{`get_users() | pin_info | sort_by("is_pin_`, []string{`expired"`, `set"`}, 7},
		{`get_users() | where({enabled: true}) | select("sam_`, []string{`account_name"`}, 4},
		{`get_users() | pin_info | format_table("identity", "is_pin_`, []string{`expired"`, `set"`}, 7},
		{`get_users() | first(3) | format_list("display_name", "giv`, []string{`en_name"`}, 3},
		{`get_users() | select("site", "title") | format_table("t`, []string{`itle"`}, 1},
		// The options map of a mutating builtin, and error_action's values.
		{`lock_pin("ken", {wh`, []string{"atif: "}, 2},
		{`get_users() | lock_pin({`, []string{"confirm: ", "error_action: ", "force: ", "whatif: "}, 0},
		{`get_users() | unlock_pin({whatif: true, error_action: "s`, []string{`ilently_continue"`, `top"`}, 1},
		{`get_users({res`, []string{"ult_size: "}, 3},
		{`audit_log({ac`, []string{"tion: "}, 2},
		{`set_pin_policy("global", {min_`, []string{"password_length: "}, 4},
		// Policies and roles.
		{`get_pin_policy("`, []string{`global"`, `site:Redmond"`, `tag:Expire30"`}, 0},
		{`get_users() | grant_pin_policy("`, []string{`tag:Expire30"`}, 0},
		{`grant_pin_policy("ken", "t`, []string{`ag:Expire30"`}, 1},
		{`remove_pin_policy("gl`, []string{`obal"`}, 2},
		{`admin_roles("CsH`, []string{`elpDesk"`}, 3},
		{`new_admin_role("Mine", "CsV`, []string{`iewOnlyAdministrator"`}, 3},
		{`add_role_member("CsHelpDesk", "adm`, []string{`in"`}, 3},
		{`x := "ken`, nil, 0},
	}
	for _, tt := range tests {
		got, n := c.complete(tt.text)
		if tt.text == "get_users() | " && len(got) > 0 && (slices.Contains(got, "get_users") || slices.Contains(got, "len")) {
			t.Errorf("after |: sources and functions offered: %q", got)
		}
		if !slices.Equal(got, tt.want) || (len(tt.want) > 0 && n != tt.n) {
			t.Errorf("complete(%q) = %q, %d; want %q, %d", tt.text, got, n, tt.want, tt.n)
		}
	}
	// Completion read no record of the stream held in a global.
	r.mustEval(t, `fmt.println(users | count)`)
	if got := readOut(t, r); got != "7\n" {
		t.Errorf("users | count after completion printed %q, want 7", got)
	}
}

func readOut(t *testing.T, r *repl) string {
	t.Helper()
	data, err := os.ReadFile(r.a.stdout.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCompleteBusy: completion gives up at once on a database another
// process holds, rather than keep the admin waiting.
func TestCompleteBusy(t *testing.T) {
	r := testREPL(t)
	c := &completer{r: r}
	db, err := bolt.Open(r.db.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	if got, _ := c.complete(`lock_pin("kenm`); got != nil {
		t.Errorf("completion on a busy database: %q", got)
	}
	// Field names come from the builtins' schemas, not the database.
	if got, _ := c.complete(`get_users() | where(func(u) { u.disp`); len(got) != 1 || got[0] != "lay_name" {
		t.Errorf("field completion on a busy database: %q, want [lay_name]", got)
	}
	// Two completions with the usual lock wait would take 4 s; a loaded
	// machine may stretch the short waits, but not to that.
	if d := time.Since(start); d >= 2*boltstore.DefaultLockTimeout {
		t.Errorf("completion waited %v: as long as an ordinary open would", d)
	}
	db.Close()
	if got, _ := c.complete(`lock_pin("kenm`); len(got) != 1 {
		t.Errorf("completion once the database is free: %q", got)
	}
}

// TestCompleteWhileRunning: Tab at a Confirm prompt completes nothing and
// leaves the database of the running input open.
func TestCompleteWhileRunning(t *testing.T) {
	r := testREPL(t)
	c := &completer{r: r}
	if _, err := r.db.conn.read(); err != nil {
		t.Fatal(err)
	}
	r.cancel = func() {}
	if got, _ := c.complete("get_u"); got != nil {
		t.Errorf("completion while an input runs: %q", got)
	}
	if r.db.conn.st == nil {
		t.Error("completion closed the database of the running input")
	}
}

func TestLex(t *testing.T) {
	toks, open := lex("x := where(func(p) { return \"a\\\"b\" | `raw` }\n  y . z /* c */ // d")
	var texts []string
	for _, tk := range toks {
		texts = append(texts, tk.text)
	}
	want := []string{"x", ":=", "where", "(", "func", "(", "p", ")", "{", "return", `a"b`, "|", "raw", "}", ";", "y", ".", "z"}
	if !slices.Equal(texts, want) {
		t.Errorf("tokens %q\nwant   %q", texts, want)
	}
	if len(open) != 1 || toks[open[0]].text != "(" || toks[open[0]-1].text != "where" {
		t.Errorf("open brackets %v", open)
	}
	toks, _ = lex("a\nb")
	if len(toks) != 3 || !toks[1].is(";") {
		t.Errorf("a newline after a name ends a statement: %+v", toks)
	}
	toks, _ = lex(`f("abc`)
	if last := toks[len(toks)-1]; last.kind != tOpenString || last.text != "abc" {
		t.Errorf("open string: %+v", last)
	}
	if got := unescapeString(`a\\b\"c\n\`); got != "a\\b\"c\n" {
		t.Errorf("unescapeString = %q", got)
	}
}

// stageNames returns the names of the stage and sink builtins of r.
func stageNames(r *repl) []string {
	var names []string
	for _, b := range r.builtins {
		if b.Kind == lang.Stage || b.Kind == lang.Sink {
			names = append(names, b.Name)
		}
	}
	slices.Sort(names)
	return names
}
