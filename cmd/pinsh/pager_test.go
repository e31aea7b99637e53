package main

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestPagerCommand(t *testing.T) {
	onPath := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			if slices.Contains(names, name) {
				return "/usr/bin/" + name, nil
			}
			return "", errors.New("not found")
		}
	}
	for _, tc := range []struct {
		name  string
		pager string
		set   bool
		path  func(string) (string, error)
		want  string
	}{
		{"unset, less installed", "", false, onPath("less", "more"), "less -FRX"},
		{"unset, only more", "", false, onPath("more"), "more"},
		{"unset, neither", "", false, onPath(), ""},
		{"set empty", "", true, onPath("less"), ""},
		{"set blank", "  ", true, onPath("less"), ""},
		{"cat", "cat", true, onPath("less"), ""},
		{"a command with options", "less -S", true, onPath("less"), "/bin/sh -c less -S"},
		{"not installed: sh says so", "most", true, onPath("less"), "/bin/sh -c most"},
	} {
		lookup := func(name string) (string, bool) {
			if name != "PAGER" {
				t.Fatalf("%s: looked up %s", tc.name, name)
			}
			return tc.pager, tc.set
		}
		if got := strings.Join(pagerCommand(lookup, tc.path), " "); got != tc.want {
			t.Errorf("%s: pager %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPromptPage runs page at a terminal: the table goes through the pager
// as printing would draw it, and the prompt works after it.
func TestPromptPage(t *testing.T) {
	env := append(pinshEnv(t.TempDir()), `PAGER=sed "s/^/> /"`)
	p := startPty(t, env, "--demo")
	p.expect(demoPrompt)
	p.run(`get_users() | select("identity") | first(2) | page`,
		`> identity\n> --------\n> sip:kenmyer@litwareinc\.com\n> sip:pilar@litwareinc\.com\n`)
	p.run("1 + 1", `\n2\n`)
	// No question is asked while the pager has the keyboard.
	p.run(`["kenmyer@litwareinc.com"] | where(func(u) { lock_pin(u, {confirm: true}); return true }) | page`,
		`cannot ask at the terminal while page shows the output in a pager`)
	// The generated PINs are never paged.
	p.run(`get_users() | set_pin | page`, `page would drop them`)
}

// TestPromptPageQuit quits the pager before the end of the output: the
// pipeline stops there, silently when it changed nothing, and with the
// changes committed before the quit reported when it did.
func TestPromptPageQuit(t *testing.T) {
	env := append(pinshEnv(t.TempDir()), `PAGER=head -n 3`)
	p := startPty(t, env, "--demo")
	p.expect(demoPrompt)
	// More than a pipe holds, so that the pager has quit before the end.
	p.run(`big := []; for i := 0; i < 30000; i++ { big = append(big, i) }`, ``)
	// Silent, and the where was not read to the end: the pager's quit
	// stopped it, and the rest of the entry.
	p.run(`n := 0; big | where(func(i) { n++; return true }) | page; n = -n`, `\n0\n1\n2\n`)
	n := p.run("n", `\n\d+\n`)
	if got, err := strconv.Atoi(strings.TrimSpace(n)); err != nil || got >= 30000 {
		t.Errorf("the pipeline read %s items after the pager quit:\n%s", n, p.screen())
	}
	changes := `big | where(func(i) { if i == 0 { lock_pin("kenmyer@litwareinc.com") }; return true }) | page`
	p.run(changes, `pinsh: the pager was quit before the end of the output; the pipeline stopped there\n`+
		`pinsh: changes committed before the pager was quit stay committed \(lock_pin: 1\); audit_log\(\) lists them\n`)
}

// TestPromptPageLess pages with less, the default pager, on a small
// terminal: q quits it, the pipeline stops, and the prompt edits lines as
// before (the terminal's modes are back).
func TestPromptPageLess(t *testing.T) {
	if _, err := exec.LookPath("less"); err != nil {
		t.Skip("less is not installed")
	}
	p := startPtySize(t, 60, 10, pinshEnv(t.TempDir()), "--demo")
	p.expect(demoPrompt)
	p.run(`big := []; for i := 0; i < 30000; i++ { big = append(big, i) }`, ``)
	p.send("big | page" + keyEnter)
	p.expect(`\n8\n`) // a screen full, and less waits for a key
	p.send("q")
	p.expect(demoPrompt)
	p.run("1 + 1"+keyLeft+keyLeft+keyLeft+keyLeft+"0", `\n11\n`)
	if p.echoOn() {
		t.Error("echo is on at the prompt after the pager: the terminal was not put back as readline wants it")
	}
}
