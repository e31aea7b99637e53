package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHistoryRoundTrip(t *testing.T) {
	h := &history{path: filepath.Join(t.TempDir(), "state", "pinsh", "history")}
	got, err := h.load()
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: entries %q, err %v", got, err)
	}
	entries := []string{
		"get_users() | count",
		"get_users() | pin_info |\n  where(func(p) {\n\treturn p.is_pin_set\n  }) | count",
		`matches(x, "a\\nb")`, // a backslash followed by n stays two characters
		"trailing backslash \\",
		"carriage\r\nreturn",
	}
	for _, e := range entries {
		if err := h.add(e); err != nil {
			t.Fatal(err)
		}
	}
	got, err = h.load()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, entries) {
		t.Errorf("round trip:\n got %q\nwant %q", got, entries)
	}
	data, _ := os.ReadFile(h.path)
	if n := strings.Count(string(data), "\n"); n != len(entries) {
		t.Errorf("file has %d lines for %d entries:\n%s", n, len(entries), data)
	}
	for _, p := range []struct {
		path string
		want os.FileMode
	}{{h.path, 0o600}, {filepath.Dir(h.path), 0o700}} {
		st, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != p.want {
			t.Errorf("%s: mode %v, want %v", p.path, st.Mode().Perm(), p.want)
		}
	}
}

func TestHistoryMadePrivate(t *testing.T) {
	h := &history{path: filepath.Join(t.TempDir(), "history")}
	if err := os.WriteFile(h.path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(h.path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := h.add("new"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(h.path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestHistoryTrimmed(t *testing.T) {
	h := &history{path: filepath.Join(t.TempDir(), "history")}
	var b strings.Builder
	for i := range historyLimit + 10 {
		fmt.Fprintf(&b, "entry %d\n", i)
	}
	if err := os.WriteFile(h.path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := h.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != historyLimit || got[0] != "entry 10" || got[len(got)-1] != fmt.Sprintf("entry %d", historyLimit+9) {
		t.Fatalf("got %d entries, first %q last %q", len(got), got[0], got[len(got)-1])
	}
	again, err := h.load()
	if err != nil || !slices.Equal(again, got) {
		t.Errorf("the file was not rewritten to the kept entries: %d entries, err %v", len(again), err)
	}
	st, _ := os.Stat(h.path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestHistoryErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := &history{path: filepath.Join(notDir, "history")}
	if err := h.add("x"); err == nil || !strings.Contains(err.Error(), "save history") {
		t.Errorf("add under a file: err = %v", err)
	}
	if _, err := h.load(); err == nil || !strings.Contains(err.Error(), "read history") {
		t.Errorf("load under a file: err = %v", err)
	}
	h = &history{path: dir} // a directory is not a history file
	if err := h.add("x"); err == nil {
		t.Error("add to a directory: no error")
	}
	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, []byte(strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h = &history{path: long}
	if _, err := h.load(); err == nil || !strings.Contains(err.Error(), long) {
		t.Errorf("an entry over the line limit: err = %v", err)
	}
}

func TestMayHoldPin(t *testing.T) {
	tests := []struct {
		entry string
		want  bool
	}{
		{`set_pin("kenmyer@litwareinc.com", "48151")`, true},
		{`set_pin("kenmyer@litwareinc.com", 48151)`, true},
		{`verify_pin("kenmyer@litwareinc.com", "0628")`, true},
		{`verify_pin("kenmyer@litwareinc.com", "12a")`, true}, // any literal as the PIN
		{`set_pin("ken@x.com", "48" + "151")`, true},
		{"pin := \"48151\"\nset_pin(\"ken@x.com\", pin)", true},
		{`f := set_pin; f("ken@x.com", "48151")`, true},
		{`set_pin("kenmyer@litwareinc.com")`, false},                 // a generated PIN
		{`set_pin("kenmyer@litwareinc.com", {whatif: true})`, false}, // options
		{`set_pin("ken@x.com", read_pin("PIN: "))`, false},
		{`verify_pin("ken@x.com", read_pin())`, false},
		{`get_users() | where({is_pin_set: false}) | first(10) | set_pin`, false},
		// What the rule cannot see: a PIN inside a longer string. A leading
		// space keeps such an entry out (TestHistoryIgnored).
		{`msg := "new PIN 640289 for real5"`, false},
		// A PIN-like literal is kept out whatever the entry calls (review
		// finding 1): a variable, a map, an alias, a wrapper.
		{`p := "48151"`, true},
		{`verify_pin("sip:a@x.com", p)`, false}, // holds no PIN itself
		{`pins := {a: "93817"}`, true},
		{`vp := verify_pin`, false},
		{`vp("sip:a@x.com", "937162")`, true},
		{`f := func(u, x) { return set_pin(u, x) }`, false},
		{`f("sip:a@x.com", "731946")`, true},
		// Numbers are never PINs (set_pin refuses them) unless they are
		// written as the PIN of set_pin or verify_pin (issue 8 §6).
		{`f("sip:a@x.com", 731946)`, false},
		{`f("sip:a@x.com", -731946)`, false},
		{`set_pin("sip:a@x.com", -731946)`, true},
		{`set_pin("sip:a@x.com", (731946))`, true},
		{`times.date(2026, 12, 2, 0, 0, 0, 0)`, false},
		{`audit_log({since: "2026-12-02"})`, false},
		{`x := '7'`, false},
		{`set_pin(u, '7')`, true},
		{`set_pin(u, 7.5)`, true},
		{`set_pin("ken@x.com", [p, "12a"])`, false}, // nested: only digit strings count
		{`set_pin("ken@x.com", ["4815"])`, true},
		{"f(`sip:a@x.com`, `0628`)", true},
		{`lock_pin("48151")`, true},
		{`get_users() | first(1000)`, false}, // a number: not a PIN
		{`get_users() | first(100)`, false},
		{`x := "123456789012345678901234"`, true},   // 24 digits: the longest PIN
		{`x := "1234567890123456789012345"`, false}, // 25: longer than any PIN
		{`x := "4815a"`, false},
		{`new_user({line_uri: "tel:+14255550100"})`, false},
		{`x := "48151`, true}, // does not parse: judged by its text
		{`get_users(1234`, false},
		{`get_users("1234`, true},
		{`set_pin("ken@x.com", "481`, true}, // does not parse: judged by its text
		{`get_users("ken`, false},
		{`verify_pin(`, true},
	}
	for _, tt := range tests {
		if got := mayHoldPin(tt.entry); got != tt.want {
			t.Errorf("mayHoldPin(%q) = %v, want %v", tt.entry, got, tt.want)
		}
	}
}

func TestHistoryIgnored(t *testing.T) {
	for entry, want := range map[string]bool{
		` msg := "new PIN 640289 for real5"`: true,
		"  get_users()":                      true,
		"get_users()":                        false,
		"\tget_users()":                      false, // bash ignores only a space
		"get_users() | first(10)\n  | count": false,
	} {
		if got := historyIgnored(entry); got != want {
			t.Errorf("historyIgnored(%q) = %v, want %v", entry, got, want)
		}
	}
}

func TestMaskPins(t *testing.T) {
	tests := []struct{ line, want string }{
		{"", ""},
		{"x := 1234", "x := 1234"}, // numbers are not PINs (issue 8 §6)
		{`set_pin(u, "06284") // 2010`, `set_pin(u, "*****") // 2010`},
		{`x := "123456789012345678901234"`, `x := "************************"`},   // 24: the longest PIN
		{`x := "1234567890123456789012345"`, `x := "1234567890123456789012345"`}, // 25: no PIN
		{`x := "４８１５１"`, `x := "４８１５１"`},                                         // not ASCII digits
		{`lock_pin(" 48151 ")`, `lock_pin("*******")`},                           // padded: still a PIN typed in clear
		{`set_pin("sip:ken@x.com", 48151)`, `set_pin("sip:ken@x.com", *****)`},
		{`set_pin("sip:ken@x.com", "12a") + 1`, `set_pin("sip:ken@x.com", "***") + 1`},
		{`x := 1 / 0 + 12 + "729164"`, `x := 1 / 0 + 12 + "******"`},
		{`x := 1 / 0 + 729164`, `x := 1 / 0 + 729164`},
		{`audit_log({since: "2026-12-02"}) | first(1000)`, `audit_log({since: "2026-12-02"}) | first(1000)`},
		{`times.date(2026, 12, 2)`, `times.date(2026, 12, 2)`},
		{"set_pin(u, `0628`)", "set_pin(u, `****`)"},
		{`p := "4815`, `p := "****`}, // unterminated
		{`p := "`, `p := "`},
		{`verify_pin(u, read_pin("PIN 1234: "))`, `verify_pin(u, read_pin("PIN 1234: "))`},
	}
	for _, tt := range tests {
		if got := maskPins(tt.line); got != tt.want {
			t.Errorf("maskPins(%s) = %s, want %s", tt.line, got, tt.want)
		}
	}
}
