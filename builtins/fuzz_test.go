package builtins

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
)

// FuzzScript runs arbitrary scripts through the language and every builtin
// on the sample directory, each input bounded by a deadline (the runtime's
// own limits bound memory and depth). A script may fail in any way a
// script can, but never crash the host: no Go panic, nil dereference or
// out-of-range index may reach the admin as an error, and the session must
// go on working afterwards. Seeds: the examples below and the scripts in
// scripts/. To fuzz longer:
//
//	go test -fuzz FuzzScript -fuzztime 3m ./builtins
func FuzzScript(f *testing.F) {
	for _, s := range []string{
		`get_users() | pin_info | where({is_locked_out: true}) | unlock_pin`,
		`get_users("* Smith") | lock_pin({whatif: true})`,
		`set_pin("kenmyer@litwareinc.com")`,
		`get_users() | first(3) | select("display_name", "sip_address") | sort_by("display_name", "desc")`,
		`audit_log({since: "2010-09-01"}) | count`,
		`x := get_users() | collect; x[0].sip_address`,
		`new_pin_policy("tag:Fuzz", {min_password_length: 7}); grant_pin_policy("kenmyer@litwareinc.com", "tag:Fuzz")`,
		`get_pin_policy() | where(func(p) { return p.min_password_length > 4 })`,
		`json := import("json"); json.decode(string(json.encode(get_users() | first(1) | collect)))`,
		`f := func(n) { return n < 2 ? n : f(n-1) + f(n-2) }; f(15)`,
		`verify_pin("kenmyer@litwareinc.com", "00000")`,
		`import_users("/nonexistent.csv", {whatif: true})`,
		`help("set_pin")`,
		`[1, 2, 3] | where(func(x) { return x > 1 }) | count`,
		`get_users() | pin_info | sort_by(func(p) { return p.failed_attempts }) | first(1)`,
		`times := import("times"); times.date(2026, 12, 2, 0, 0, 0, 0, "UTC")`,
		"x := \"\\x00\\xff\"; get_users(x)",
		`for u in get_users() | collect { if u.enabled { lock_pin(u.sip_address, {force: true}) } }`,
	} {
		f.Add(s)
	}
	scripts, _ := filepath.Glob("../scripts/*.tengo")
	for _, p := range scripts {
		if b, err := os.ReadFile(p); err == nil {
			src := string(b)
			if strings.HasPrefix(src, "#!") { // the shebang line pinsh skips
				_, src, _ = strings.Cut(src, "\n")
			}
			f.Add(src)
		}
	}
	ts := newTestShell(f)
	f.Fuzz(func(t *testing.T, src string) {
		// The directory carries over from input to input; the session
		// does not, as a session has a limit on the code it compiles.
		ts.t = t
		ts.newSession()
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		ts.out.Reset()
		ts.err.Reset()
		err := ts.sess.Eval(ctx, "fuzz", []byte(src))
		if err != nil {
			msg := err.Error()
			for _, crash := range []string{"nil pointer", "index out of range", "slice bounds out of range",
				"interface conversion", "internal compiler error", "invalid memory address", "concurrent map"} {
				if strings.Contains(msg, crash) {
					t.Fatalf("%q: a crash reached the admin: %v", src, err)
				}
			}
			if _, ok := err.(*lang.Error); !ok {
				t.Fatalf("%q: not a *lang.Error: %T %v", src, err, err)
			}
		}
		if out := ts.must("1 + 1"); strings.TrimSpace(out) != "2" {
			t.Fatalf("after %q the session prints %q for 1 + 1", src, out)
		}
	})
}
