package lang

import (
	"errors"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

// secretStage stands in for set_pin: its arguments may be a PIN, and Bind
// refuses a bound first argument 13.
func secretStage() *Builtin {
	return &Builtin{
		Name: "put_secret", Kind: Stage, Targets: true, SecretArgs: true,
		Sig: "put_secret(target[, secret])", Doc: "a stage whose arguments are secret",
		Bind: func(args []tengo.Object) error {
			if n, ok := args[0].(*tengo.Int); ok && n.Value == 13 {
				return errors.New("13 is refused where it is written")
			}
			return nil
		},
		Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) { return in, nil },
	}
}

func TestSecretArgsAndBind(t *testing.T) {
	h := newHarness(t, Options{Format: JSONL, Builtins: []*Builtin{secretStage()}})
	for _, tt := range []struct{ src, want string }{
		// A stage where a value is wanted: its arguments are never shown.
		{`x := put_secret("640289"); x`, "put_secret(...) is a pipeline stage, not a value: nothing ran"},
		// A script statement that makes a stage and drops it is an error.
		{`put_secret("640289")`, "put_secret(...) is a pipeline stage, not a value: nothing ran"},
		{`lock_pin({whatif: true})`, "lock_pin({whatif: true}) is a pipeline stage, not a value"},
		// Bind refuses at the call, before anything is piped.
		{`s := put_secret(13)`, "put_secret: 13 is refused where it is written"},
		{`["Ken Myer"] | put_secret(13)`, "put_secret: 13 is refused where it is written"},
	} {
		out, err := h.run(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.src, err, tt.want)
			continue
		}
		if strings.Contains(out+err.Error(), "640289") {
			t.Errorf("%s: the secret argument was shown: %q %v", tt.src, out, err)
		}
	}
	// An input given first runs the builtin; Bind is for bound stages only.
	if got := h.must(`fmt := import("fmt"); fmt.println(put_secret(["Ken Myer"], 13) | count)`); got != "1\n" {
		t.Errorf("put_secret on a target: %q", got)
	}
	if got := h.must(`string(put_secret("640289"))`); got != "" {
		t.Errorf("a script statement printed %q", got)
	}
	if got := h.must(`fmt := import("fmt"); fmt.println(put_secret("640289"))`); got != "<stage put_secret(...)>\n" {
		t.Errorf("a secret stage printed as %q", got)
	}
}

func TestSecretArgsAndBindOnlyForStages(t *testing.T) {
	call := func(env *Env, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	for _, b := range []*Builtin{
		{Name: "f", Kind: Func, SecretArgs: true, Call: call},
		{Name: "f", Kind: Source, Bind: func([]tengo.Object) error { return nil }, Call: call},
		{Name: "f", Kind: Func, Options: []string{"whatif"}, Call: call},
	} {
		if _, err := NewSession(Options{Builtins: []*Builtin{b}}); err == nil || !strings.Contains(err.Error(), "SecretArgs, Bind and Options apply to stages and sinks only") {
			t.Errorf("%+v: err = %v", b, err)
		}
	}
}

func TestKeepsOnlyForSinks(t *testing.T) {
	call := func(env *Env, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	run := func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) { return in, nil }
	for _, tt := range []struct {
		b    *Builtin
		want string
	}{
		{&Builtin{Name: "f", Kind: Func, Keeps: true, Call: call}, "builtin f: Targets, MinArgs, Keeps, Shows,"},
		{&Builtin{Name: "f", Kind: Func, Shows: true, Call: call}, "builtin f: Targets, MinArgs, Keeps, Shows,"},
		{&Builtin{Name: "f", Kind: Stage, Keeps: true, Run: run}, "builtin f: Keeps and Shows apply to sinks only"},
		{&Builtin{Name: "f", Kind: Stage, Shows: true, Run: run}, "builtin f: Keeps and Shows apply to sinks only"},
	} {
		if _, err := NewSession(Options{Builtins: []*Builtin{tt.b}}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.b, err, tt.want)
		}
	}
	keeper := &Builtin{Name: "f", Kind: Sink, Keeps: true, Run: run}
	if _, err := NewSession(Options{Builtins: []*Builtin{keeper}}); err != nil {
		t.Errorf("a sink that keeps: %v", err)
	}
}
