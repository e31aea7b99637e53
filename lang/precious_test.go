package lang

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

var secretSchema = NewSchema("secret", "identity", "secret").Precious()

// secrets is a builtin making n precious records in batches of size, as
// set_pin does; made counts them, and fail makes the batch after the
// first fail.
func secrets(made *int, fail bool) *Builtin {
	return &Builtin{
		Name: "secrets", Kind: Func, Sig: "secrets(n, size)", Doc: "n precious records in batches",
		Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
			n, _ := argInt(args, 0, "n")
			size, _ := argInt(args, 1, "size")
			i := 0
			return env.Precious(Precious{
				Pull: func(context.Context) ([]tengo.Object, error) {
					if fail && i > 0 {
						return nil, errors.New("the store failed")
					}
					var batch []tengo.Object
					for ; i < n && len(batch) < size; i++ {
						id := fmt.Sprintf("sip:someone-with-a-long-name-%d@litwareinc.com", i)
						if i == 0 {
							id = "sip:a@b.c"
						}
						batch = append(batch, NewRecord(secretSchema, []tengo.Object{str(id), str(fmt.Sprint(1000 + i))}, nil))
					}
					*made += len(batch)
					return batch, nil
				},
				Refuse: func(consumer string) error { return fmt.Errorf("%s would drop the secrets", consumer) },
				Note: func(reason string, n int, went []Went) string {
					return fmt.Sprintf("secrets: %s: %d made%s", reason, n, WentPhrase(went))
				},
				Header: "secrets not delivered:",
			}), nil
		},
	}
}

func TestPreciousStreams(t *testing.T) {
	tests := []struct {
		name, src      string
		fail           bool
		made           int    // records made
		out            string // substrings of stdout, | separated
		stderr, errMsg string
	}{
		{name: "printed", src: `secrets(3, 2)`, made: 3, out: "1000|1001|1002"},
		{name: "refused", src: `secrets(3, 2) | count`, made: 0, errMsg: "count would drop the secrets"},
		{name: "refused stage", src: `secrets(3, 2) | first(1) | collect`, made: 0, errMsg: "first would drop the secrets"},
		{name: "collected", src: `x := secrets(3, 2) | collect; x`, made: 3, out: "1000|1002"},
		{name: "not read", src: `x := secrets(3, 2)`, made: 0, stderr: "secrets: not read: 0 made: \n"},
		{name: "loop breaks", src: `for x in secrets(5, 3) { break }`, made: 3, out: "1001|1002",
			stderr: "secrets not delivered:\nsecrets: not read to its end: 3 made: 1 handed to the script, 2 shown above"},
		{name: "failed collect gives back", src: `secrets(5, 2) | collect`, fail: true, made: 2, out: "1000|1001",
			stderr: "secrets: stopped by an error: 2 made and shown above", errMsg: "the store failed"},
		{name: "printer then failure", src: `secrets(5, 2)`, fail: true, made: 2, out: "1000|1001",
			stderr: "secrets: stopped by an error: 2 made and shown above", errMsg: "the store failed"},
		{name: "record in a function", src: `f := func() { secrets(1, 1) | collect; (secrets(1, 1) | collect)[0] }; f()`, made: 2, out: "1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			made := 0
			h := newHarness(t, Options{Format: Table, Width: 40, Builtins: []*Builtin{secrets(&made, tt.fail)}})
			out, err := h.run(tt.src)
			if tt.errMsg == "" && err != nil || tt.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.errMsg)) {
				t.Fatalf("err = %v, want %q", err, tt.errMsg)
			}
			if made != tt.made {
				t.Errorf("%d made, want %d", made, tt.made)
			}
			for _, want := range strings.Split(tt.out, "|") {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(h.err.String(), tt.stderr) {
				t.Errorf("stderr %q, want %q", h.err.String(), tt.stderr)
			}
		})
	}
}

// A precious table is never cut to the terminal width, and a row wider
// than its columns starts a new table rather than break them.
func TestPreciousTableNeverCut(t *testing.T) {
	made := 0
	h := newHarness(t, Options{Format: Table, Width: 30, Builtins: []*Builtin{secrets(&made, false)}})
	out := h.must(`secrets(3, 1)`)
	for i := 1; i < 3; i++ {
		if !strings.Contains(out, fmt.Sprintf("sip:someone-with-a-long-name-%d@litwareinc.com  %d", i, 1000+i)) {
			t.Errorf("row %d cut or misaligned:\n%s", i, out)
		}
	}
	if n := strings.Count(out, "identity"); n != 2 {
		t.Errorf("%d headers, want 2 (the second row is wider):\n%s", n, out)
	}
}
