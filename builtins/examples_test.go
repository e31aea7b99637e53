package builtins

import (
	"strings"
	"testing"
)

// TestExamples runs every documented example of every builtin on a fresh
// sample directory and checks its output where the example gives one: help
// text that is executed, as elvish does.
func TestExamples(t *testing.T) {
	for _, b := range New(Config{}).Builtins() {
		for i, ex := range b.Examples {
			t.Run(b.Name, func(t *testing.T) {
				ts := newTestShell(t)
				out, stderr, err := ts.run(ex.Code)
				if err != nil {
					t.Fatalf("example %d %q: %v\nstderr: %s", i, ex.Code, err, stderr)
				}
				if ex.Output != "" && strings.TrimRight(out, "\n") != strings.TrimRight(ex.Output, "\n") {
					t.Errorf("example %d %q printed\n%q\nwant\n%q", i, ex.Code, out, ex.Output)
				}
			})
		}
	}
}
