package main

import (
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pinsh/pinsh/store/boltstore"
)

// Exact screen checks: what a terminal shows after each key, read from a
// terminal emulator (github.com/hinshun/vt10x) fed everything pinsh writes.
// Comparing the bytes pinsh writes would pin readline's way of drawing;
// comparing the screen pins what the admin sees, stale rows included.

const (
	keyDown      = "\x1b[B"
	keyLeft      = "\x1b[D"
	keyCtrlA     = "\x01"
	keyCtrlE     = "\x05"
	keyCtrlG     = "\x07"
	keyCtrlL     = "\x0c"
	keyCtrlR     = "\x12"
	keyCtrlLeft  = "\x1b[1;5D"
	keyCtrlRight = "\x1b[1;5C"
)

// rows returns the terminal's rows, trailing blanks cut, without the empty
// rows at the bottom.
func (p *ptyPinsh) rows() []string {
	p.mu.Lock()
	text := p.vt.String()
	p.mu.Unlock()
	rows := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, r := range rows {
		rows[i] = strings.TrimRight(r, " \x00")
	}
	for len(rows) > 0 && rows[len(rows)-1] == "" {
		rows = rows[:len(rows)-1]
	}
	return rows
}

// cursor returns the cursor's column and row, from 0.
func (p *ptyPinsh) cursor() (x, y int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.vt.Cursor()
	return c.X, c.Y
}

// expectScreen waits until the screen shows exactly want (its rows; trailing
// blanks do not count) with the cursor at column x, row y (from 0). what
// names the step for the failure message.
func (p *ptyPinsh) expectScreen(what string, x, y int, want ...string) {
	p.t.Helper()
	for i := range want {
		want[i] = strings.TrimRight(want[i], " ")
	}
	deadline := time.Now().Add(ptyExpect)
	for {
		got := p.rows()
		cx, cy := p.cursor()
		if strings.Join(got, "\n") == strings.Join(want, "\n") && cx == x && cy == y {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: the screen shows (cursor at column %d, row %d):\n%s\nwant (cursor at column %d, row %d):\n%s",
				what, cx, cy, frame(got), x, y, frame(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectLine is expectScreen of one line of text that wraps on a terminal
// cols wide, with the cursor after its pos-th rune.
func (p *ptyPinsh) expectLine(what string, cols int, line []rune, pos int) {
	p.t.Helper()
	p.expectScreen(what, pos%cols, pos/cols, wrap(string(line), cols)...)
}

// frame shows rows one a line, each between bars, so that blanks show.
func frame(rows []string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("|" + r + "|\n")
	}
	return b.String()
}

// run types entry and Enter, waits for output matching want and the demo
// prompt after it, and returns the match.
func (p *ptyPinsh) run(entry, want string) string {
	p.t.Helper()
	p.send(entry + keyEnter)
	m := p.expect(want)
	p.expect(demoPrompt)
	return m
}

// clearScreen clears the screen with Ctrl-L and waits for the prompt alone
// on it, so that a test's screen checks start from a known screen.
func (p *ptyPinsh) clearScreen(prompt string) {
	p.t.Helper()
	p.send(keyCtrlL)
	p.expectScreen("Ctrl-L", len(prompt), 0, prompt)
}

// TestPromptRecallMultiLineScreen recalls and edits a multi-line entry on a
// narrow terminal, where the recalled entry wraps, and checks the whole
// screen after every key: no stale row, no partial copy.
func TestPromptRecallMultiLineScreen(t *testing.T) {
	const cols = 40
	p := startPtySize(t, cols, 20, pinshEnv(t.TempDir()), "--demo")
	prompt := boltstore.Operator() + "@demo> "
	p.expect(demoPrompt)
	p.send("f := func(p) {" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("  return p.is_locked_out" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("}" + keyEnter)
	p.expect(demoPrompt)
	p.run("get_users() | count", `\n7\n`)

	p.clearScreen(prompt)
	one := []rune(prompt + "get_users() | count")
	multi := []rune(prompt + "f := func(p) {↵  return p.is_locked_out↵}")
	p.send(keyUp)
	p.expectLine("Up", cols, one, len(one))
	p.send(keyUp)
	p.expectLine("Up, Up", cols, multi, len(multi))
	p.send(keyDown)
	p.expectLine("Up, Up, Down", cols, one, len(one))
	p.send(keyUp)
	p.expectLine("Up again", cols, multi, len(multi))

	// Left x3, X, Ctrl-A, Y: each key redraws the entry in place.
	edited, pos := multi, len(multi)
	for i := 0; i < 3; i++ {
		p.send(keyLeft)
		pos--
		p.expectLine("Left", cols, edited, pos)
	}
	edited = append(edited[:pos:pos], append([]rune("X"), edited[pos:]...)...)
	pos++
	p.send("X")
	p.expectLine("X", cols, edited, pos)
	pos = len([]rune(prompt))
	p.send(keyCtrlA)
	p.expectLine("Ctrl-A", cols, edited, pos)
	edited = append(edited[:pos:pos], append([]rune("Y"), edited[pos:]...)...)
	pos++
	p.send("Y")
	p.expectLine("Y", cols, edited, pos)
}

// wrap splits s into the rows a terminal cols wide shows it on.
func wrap(s string, cols int) []string {
	var rows []string
	r := []rune(s)
	for len(r) > cols {
		rows = append(rows, string(r[:cols]))
		r = r[cols:]
	}
	return append(rows, string(r))
}

// TestPromptSearchAndWordKeys checks that Ctrl-G in a Ctrl-R search puts
// back the line as it was before the search, and that Ctrl-Left and
// Ctrl-Right move by word, as in bash and PSReadLine.
func TestPromptSearchAndWordKeys(t *testing.T) {
	const cols = 80
	p := startPtySize(t, cols, 20, pinshEnv(t.TempDir()), "--demo")
	prompt := boltstore.Operator() + "@demo> "
	p.expect(demoPrompt)
	p.run("get_users() | count", `\n7\n`)
	p.clearScreen(prompt)

	typed := []rune(prompt + "x := 1")
	p.send("x := 1")
	p.expectLine("typed", cols, typed, len(typed))
	p.send(keyCtrlR)
	p.expect(`bck-i-search`)
	p.send("cou")
	p.expect(`get_users\(\) \| count`)
	p.send(keyCtrlR) // the next match (there is none): readline saved the match here
	p.expect(`bck-i-search`)
	p.send(keyCtrlG)
	p.expectLine("Ctrl-G", cols, typed, len(typed))
	p.send(keyCtrlA)
	p.expectLine("Ctrl-A", cols, typed, len(prompt))
	p.send(keyCtrlE + "\x15") // Ctrl-U clears the line
	p.expectLine("Ctrl-U", cols, []rune(prompt), len(prompt))

	// From an empty line, and from a line recalled with Up.
	p.send(keyCtrlR + "cou")
	p.expect(`get_users\(\) \| count`)
	p.send(keyCtrlG)
	p.expectLine("Ctrl-G on an empty line", cols, []rune(prompt), len(prompt))
	p.send("1 + 1" + keyEnter)
	p.expect(`\n2\n`)
	p.clearScreen(prompt)
	p.send(keyUp)
	recalled := []rune(prompt + "1 + 1")
	p.expectLine("Up", cols, recalled, len(recalled))
	p.send(keyCtrlR + "cou")
	p.expect(`get_users\(\) \| count`)
	p.send(keyCtrlG)
	p.expectLine("Ctrl-G on a recalled line", cols, recalled, len(recalled))
	p.send("\x15")
	p.expectLine("Ctrl-U", cols, []rune(prompt), len(prompt))

	line := []rune(prompt + `lock_pin("ken", {whatif: true})`)
	p.send(string(line[len(prompt):]))
	p.expectLine("typed", cols, line, len(line))
	// Backward: to the start of each word (letters and digits, as in bash).
	for _, word := range []string{"true", "whatif", "ken", "pin", "lock"} {
		p.send(keyCtrlLeft)
		p.expectLine("Ctrl-Left to "+word, cols, line, strings.LastIndex(string(line), word))
	}
	// Forward: to the start of the next word, as PSReadLine's Ctrl-Right.
	for _, word := range []string{"pin", "ken", "whatif"} {
		p.send(keyCtrlRight)
		p.expectLine("Ctrl-Right to "+word, cols, line, strings.Index(string(line), word))
	}
}

// TestPromptCompletionInContext completes at a terminal in each context of
// the completer, and checks that a cut list says how many more there are.
func TestPromptCompletionInContext(t *testing.T) {
	const cols = 120
	p := startPtySize(t, cols, 30, pinshEnv(t.TempDir()), "--demo")
	prompt := boltstore.Operator() + "@demo> "
	p.expect(demoPrompt)
	p.expectTabs(cols, prompt, []tabCase{
		{"get_users() | pin_info | lo", "get_users() | pin_info | lock_pin"},
		{"get_users() | pin_info | where({is_l", "get_users() | pin_info | where({is_locked_out: "},
		{`get_users() | pin_info | sort_by("pin_e`, `get_users() | pin_info | sort_by("pin_expiration_time"`},
		{`lock_pin("ken", {wh`, `lock_pin("ken", {whatif: `},
		{`lock_pin("ken", {error_action: "si`, `lock_pin("ken", {error_action: "silently_continue"`},
		{`get_pin_policy("tag`, `get_pin_policy("tag:Expire30"`},
		{`admin_roles("CsU`, `admin_roles("CsUserAdministrator"`},
		{`pin_info("tonys`, `pin_info("tonysmith@litwareinc.com"`},
		{`pin_info("Tony`, `pin_info("Tony Smith"`},
	})
	// Tab on an empty line offers every name: more than are shown.
	p.send(keyTab)
	p.expect(`\(50 shown, \d+ more: type more letters to narrow the list\)`)
}

// tabCase is a Tab pressed after typed, and the line it shows.
type tabCase struct{ typed, shown string }

// expectTabs presses Tab after each case's text on a cleared screen, checks
// the line it shows, and clears the line with Ctrl-U.
func (p *ptyPinsh) expectTabs(cols int, prompt string, cases []tabCase) {
	p.t.Helper()
	for _, tc := range cases {
		p.clearScreen(prompt)
		p.send(tc.typed + keyTab)
		line := []rune(prompt + tc.shown)
		p.expectLine("Tab after "+tc.typed, cols, line, len(line))
		p.send("\x15") // Ctrl-U
		p.expectLine("Ctrl-U", cols, []rune(prompt), len(prompt))
	}
}

// raw returns everything pinsh wrote to the terminal, control sequences
// and all.
func (p *ptyPinsh) raw() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// TestPromptColour checks that errors are red at a terminal, and that
// NO_COLOR turns colour off.
func TestPromptColour(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		env := pinshEnv(t.TempDir())
		if noColor {
			env = append(env, "NO_COLOR=1")
		}
		p := startPty(t, env, "--demo")
		p.expect(demoPrompt)
		p.send("get_user()" + keyEnter)
		p.expect(`did you mean get_users`)
		p.expect(demoPrompt)
		p.send(`lock_pin("nobody@litwareinc.com")` + keyEnter)
		p.expect(`no such user`)
		p.expect(demoPrompt)
		raw := p.raw()
		red := strings.Contains(raw, "\x1b[31m<prompt>:1:1: unresolved reference 'get_user'") &&
			strings.Contains(raw, "\x1b[31mlock_pin: nobody@litwareinc.com: no such user")
		if red == noColor {
			t.Errorf("NO_COLOR set: %v; errors in red: %v; output:\n%q", noColor, red, raw)
		}
		if noColor && strings.Contains(raw, "\x1b[31m") {
			t.Errorf("colour with NO_COLOR set:\n%q", raw)
		}
	}
}

// TestPromptResize narrows the terminal between two inputs: the next table
// fits the new width, and its identity column is not cut.
func TestPromptResize(t *testing.T) {
	p := startPtySize(t, 120, 30, pinshEnv(t.TempDir()), "--demo")
	p.expect(demoPrompt)
	const entry = `get_users() | pin_info | where({is_pin_expired: true})`
	wide := p.run(entry, `\nsip:davidlongmuir@litwareinc\.com  true  .*\n`)
	if err := pty.Setsize(p.tty, &pty.Winsize{Rows: 30, Cols: 50}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.vt.Resize(50, 30)
	p.mu.Unlock()
	narrow := p.run(entry, `\nsip:davidlongmuir@litwareinc\.com  .*\n`)
	if len(narrow) >= len(wide) || !strings.Contains(narrow, "…") {
		t.Errorf("after the resize the row is not narrowed:\n%s\nbefore it:\n%s", narrow, wide)
	}

}

// TestPromptResizeMidStream narrows the terminal while a table streams: the
// rows after the resize are a new table, header and all, fitted to the new
// width, with the identity column uncut. The resize is made while a Confirm
// question (asked from the where the rows go through) waits for its
// answer, so that no sleep is needed: pinsh reads the width again after an
// answer, as it does on SIGWINCH.
func TestPromptResizeMidStream(t *testing.T) {
	p := startPtySize(t, 120, 30, pinshEnv(t.TempDir()), "--demo")
	p.expect(demoPrompt)
	const note = "a note long enough to be cut on a narrow terminal, and longer still"
	p.run(`rows := []; for i := 0; i < 80; i++ { rows = append(rows, {identity: "sip:user" + string(i) + "@litwareinc.com", note: "`+note+`"}) }`, ``)
	p.send(`rows | where(func(r) { if r.identity == "sip:user60@litwareinc.com" { lock_pin("kenmyer@litwareinc.com", {confirm: true}) }; return true })` + keyEnter)
	p.expect(`\nsip:user59@litwareinc\.com  ` + note + `\n`)
	p.expect(`\(default is "Y"\): `)
	if err := pty.Setsize(p.tty, &pty.Winsize{Rows: 30, Cols: 50}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.vt.Resize(50, 30)
	p.mu.Unlock()
	p.send("n" + keyEnter)
	p.expect(`\nidentity                   note\n--------                   ----\n` +
		`sip:user60@litwareinc\.com  a note long enough to …\n`)
	p.expect(`\nsip:user79@litwareinc\.com  a note long enough to …\n`)
	p.expect(demoPrompt)
}
