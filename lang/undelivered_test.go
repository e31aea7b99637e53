package lang

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

var keptSchema = NewSchema("kept", "identity", "secret").Secret("secret")

// kept is a builtin making n records with a secret, k0 (secret s-k0) and
// on, in one batch, as set_pin does.
var kept = &Builtin{
	Name: "kept", Kind: Func, Sig: "kept(n)", Doc: "n records with a secret",
	Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
		n, _ := argInt(args, 0, "n")
		done := false
		return env.Precious(Precious{
			Pull: func(context.Context) ([]tengo.Object, error) {
				if done {
					return nil, nil
				}
				done = true
				var batch []tengo.Object
				for i := range n {
					id := fmt.Sprintf("k%d", i)
					batch = append(batch, NewRecord(keptSchema, []tengo.Object{str(id), str("s-" + id)}, nil))
				}
				return batch, nil
			},
			Header:  "kept: made, not read:",
			Unshown: func(n int) string { return fmt.Sprintf("kept: %d never delivered:", n) },
		}), nil
	},
}

// A record with a secret that was never printed, written or read by the
// script is printed when the input ends, once; a delivered one is not, and
// nothing is held for it.
func TestUndeliveredShownAtTheEnd(t *testing.T) {
	tests := []struct {
		name, src string
		format    Format
		shown     string // secrets printed once each, | separated
		header    string // on stderr; "" none
		errMsg    string
	}{
		{name: "collected, never read", src: `x := kept(2) | collect`, shown: "s-k0|s-k1", header: "kept: 2 never delivered:"},
		{name: "other field read", src: `x := (kept(2) | collect)[0].identity`, shown: "s-k0|s-k1", header: "kept: 2 never delivered:"},
		{name: "in a condition", src: `if (kept(1) | collect)[0] {}`, shown: "s-k0", header: "kept: 1 never delivered:"},
		{name: "field read", src: `x := kept(2) | collect; y := x[0].secret; z := x[1]["secret"]`},
		{name: "to_map", src: `x := kept(1) | collect; m := to_map(x[0])`},
		{name: "fields iterated", src: `x := kept(1) | collect; for k, v in x[0] {}`},
		{name: "string", src: `x := kept(1) | collect; s := string(x[0])`},
		{name: "json.encode", src: `x := kept(1) | collect; s := import("json").encode(x)`},
		{name: "printed by a statement", src: `x := kept(2) | collect; x`, format: JSONL, shown: "s-k0|s-k1"},
		{name: "printed as a stream", src: `kept(2)`, format: CSV, shown: "s-k0|s-k1"},
		{name: "printed by fmt", src: `fmt := import("fmt"); for r in kept(2) { fmt.println(r) }`, shown: "s-k0|s-k1"},
		{name: "loop reads one", src: `for r in kept(3) { if r.identity == "k1" { y := r.secret } }`,
			shown: "s-k0|s-k2", header: "kept: 2 never delivered:"},
		{name: "error", src: `x := kept(1) | collect; y := 1 / 0`, shown: "s-k0", header: "kept: 1 never delivered:", errMsg: "division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{Format: tt.format, Builtins: []*Builtin{kept}})
			out, err := h.run(tt.src)
			if tt.errMsg == "" && err != nil || tt.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.errMsg)) {
				t.Fatalf("err = %v, want %q", err, tt.errMsg)
			}
			for i := range 3 {
				secret := fmt.Sprintf("s-k%d", i)
				want := 0
				if strings.Contains("|"+tt.shown+"|", "|"+secret+"|") {
					want = 1
				}
				if n := strings.Count(out, secret); n != want {
					t.Errorf("%s printed %d times, want %d:\n%s", secret, n, want, out)
				}
			}
			if got := strings.Contains(h.err.String(), "never delivered"); got != (tt.header != "") || !strings.Contains(h.err.String(), tt.header) {
				t.Errorf("stderr %q, want header %q", h.err.String(), tt.header)
			}
			if tt.shown != "" && strings.Index(out, "s-k0") > strings.LastIndex(out, "s-k") {
				t.Errorf("not in the order made:\n%s", out)
			}
			if n := undelivered.n.Load(); n != 0 {
				t.Errorf("%d records still held after the input ended", n)
			}
			// The records the script still holds are its own now.
			if out, err := h.run(`1`); err != nil || strings.Contains(out, "s-k") {
				t.Errorf("next input: %q, %v", out, err)
			}
		})
	}
}

// Records of several streams of one kind (a loop calling kept once per
// round) are shown together at the end, under one header.
func TestUndeliveredOneHeaderPerKind(t *testing.T) {
	h := newHarness(t, Options{Format: JSONL, Builtins: []*Builtin{kept}})
	out, err := h.run(`for i := 0; i < 3; i++ { r := kept(1) | collect }`)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "s-k0"); n != 3 {
		t.Errorf("%d records shown, want 3:\n%s", n, out)
	}
	if got := h.err.String(); got != "kept: 3 never delivered:\n" {
		t.Errorf("stderr %q, want one header for the 3", got)
	}
}

// With Options.Leftovers, the values shown at the end of an input go there
// with their headers and notes, each header followed by its values; Stdout
// and Stderr get none of them.
func TestLeftoversGoTogether(t *testing.T) {
	var late bytes.Buffer
	h := newHarness(t, Options{Format: JSONL, Leftovers: &late, Builtins: []*Builtin{kept, secrets(new(int), false)}})
	out, err := h.run(`fmt := import("fmt"); fmt.println("before"); x := kept(2) | collect; for r in secrets(5, 3) { break }; y := 1 / 0`)
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("err = %v", err)
	}
	if out != "before\n" || h.err.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want only what the script printed", out, h.err.String())
	}
	want := `secrets not delivered:
{"identity":"sip:someone-with-a-long-name-1@litwareinc.com","secret":"1001"}
{"identity":"sip:someone-with-a-long-name-2@litwareinc.com","secret":"1002"}
secrets: stopped by an error: 3 made: 1 handed to the script, 2 shown above
kept: 2 never delivered:
{"identity":"k0","secret":"s-k0"}
{"identity":"k1","secret":"s-k1"}
`
	if late.String() != want {
		t.Errorf("leftovers:\n%s\nwant:\n%s", late.String(), want)
	}
}
