package builtins

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	// readmePath is the project README, relative to this package.
	readmePath = "../README.md"
	// cmdDir is the pinsh command, which adds builtins of its own (exit,
	// run_script) that the README lists too. The test reads its source
	// rather than importing it: it is package main.
	cmdDir = "../cmd/pinsh"
	// builtinsHeading opens the README section whose tables list the
	// builtins; the section ends at the next "## " heading.
	builtinsHeading = "## Builtins"
)

// TestReadmeListsEveryBuiltin keeps README.md in step with help(): every
// builtin of the shell, of test scripts and of the pinsh command has a row
// in the README's builtin tables whose first cell is its exact Sig, and
// every row there is a builtin that exists.
func TestReadmeListsEveryBuiltin(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatalf("read the README: %v", err)
	}
	listed, err := readmeSigs(string(readme))
	if err != nil {
		t.Fatalf("%s: %v", readmePath, err)
	}

	// want maps each Sig to the row to add when it is missing.
	want := map[string]string{}
	sh := New(Config{})
	for _, b := range append(sh.Builtins(), sh.TestBuiltins()...) {
		want[b.Sig] = readmeRow(b.Sig, readmeSummary(b.Doc))
	}
	cmdSigs, err := sourceSigs(cmdDir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cmdSigs, "exit([status[, message]])") {
		t.Fatalf("found no exit() among the builtins of %s (found %q): the test no longer sees the command's builtins", cmdDir, cmdSigs)
	}
	for _, sig := range cmdSigs {
		want[sig] = readmeRow(sig, "(see its Doc in "+cmdDir+")")
	}

	for _, sig := range slices.Sorted(maps.Keys(want)) {
		switch n := listed[sig]; {
		case n == 0:
			t.Errorf("README.md does not list the builtin %q; add this row to its %q section:\n%s", sig, builtinsHeading, want[sig])
		case n > 1:
			t.Errorf("README.md lists the builtin %q %d times; keep one row", sig, n)
		}
	}
	for _, sig := range slices.Sorted(maps.Keys(listed)) {
		if _, ok := want[sig]; !ok {
			t.Errorf("README.md lists %q, which is no builtin's Sig; correct the row or remove it", sig)
		}
	}
}

// readmeSigs returns how often each signature appears as the first cell of
// a table row in the builtins section of readme. The cell is a code span
// with "|" escaped as "\|", as GitHub Markdown tables need. It fails when
// the section or its rows are missing.
func readmeSigs(readme string) (map[string]int, error) {
	lines := strings.Split(readme, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == builtinsHeading })
	if start < 0 {
		return nil, fmt.Errorf("no %q section", builtinsHeading)
	}
	sigs := map[string]int{}
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "## ") {
			break
		}
		cell, ok := firstCell(l)
		if !ok || len(cell) < 2 || !strings.HasPrefix(cell, "`") || !strings.HasSuffix(cell, "`") {
			continue // not a table row, a header or a separator
		}
		sigs[strings.ReplaceAll(cell[1:len(cell)-1], `\|`, "|")]++
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("the %q section has no table row starting with a `signature`", builtinsHeading)
	}
	return sigs, nil
}

// firstCell returns the trimmed first cell of a Markdown table row, ending
// at the first "|" not escaped with a backslash.
func firstCell(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "|")
	if !ok {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '|':
			return strings.TrimSpace(rest[:i]), true
		}
	}
	return "", false
}

// readmeRow is the README table row of a builtin.
func readmeRow(sig, desc string) string {
	return fmt.Sprintf("| `%s` | %s |", strings.ReplaceAll(sig, "|", `\|`), desc)
}

// readmeSummary is the first sentence of a Doc, on one line: the
// description a missing README row is suggested with.
func readmeSummary(doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i >= 0 {
		doc = doc[:i+1]
	}
	return doc
}

// sourceSigs returns the string literals given as Sig: fields in the
// non-test Go files of dir, in file order. A Sig that is not a string
// literal is an error, so that no builtin escapes the check unseen.
func sourceSigs(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list the Go files of %s: %w", dir, err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	fset := token.NewFileSet()
	var sigs []string
	var errs []error
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "Sig" {
				return true
			}
			lit, ok := kv.Value.(*ast.BasicLit)
			if ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					sigs = append(sigs, s)
					return true
				}
			}
			errs = append(errs, fmt.Errorf("%s: Sig is not a string literal; the README test cannot read it", fset.Position(kv.Pos())))
			return true
		})
	}
	return sigs, errors.Join(errs...)
}

func TestReadmeSigs(t *testing.T) {
	tests := []struct {
		name    string
		readme  string
		want    map[string]int
		wantErr string
	}{{
		name: "rows of every table in the section, escapes undone",
		readme: "# x\n| `not_this()` | elsewhere |\n## Builtins\n\n| builtin | does |\n|---|---|\n" +
			"| `a([x \\| y])` | one |\n| `b()` | two \\| three |\nprose `c()`\n\n| `a([x \\| y])` | again |\n" +
			"## Next\n| `d()` | after |\n",
		want: map[string]int{"a([x | y])": 2, "b()": 1},
	}, {
		name:    "no section",
		readme:  "# pinsh\n| `a()` | one |\n",
		wantErr: `no "## Builtins" section`,
	}, {
		name:    "section without rows",
		readme:  "## Builtins\n| builtin | does |\n|---|---|\n| a() | not a code span |\n| `unterminated\n## Next\n",
		wantErr: "no table row",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readmeSigs(tt.readme)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSourceSigs(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr string
	}{{
		name: "literals in non-test files",
		files: map[string]string{
			"a.go":      "package main\nvar x = T{Sig: \"exit([status])\", Doc: \"d\"}\nvar y = []T{{Sig: `run(p)`}}\n",
			"a_test.go": "package main\nvar z = T{Sig: \"test_only()\"}\n",
		},
		want: []string{"exit([status])", "run(p)"},
	}, {
		name:    "a Sig that is not a literal",
		files:   map[string]string{"a.go": "package main\nconst s = \"x()\"\nvar x = T{Sig: s}\n"},
		wantErr: "a.go:3:11: Sig is not a string literal",
	}, {
		name:    "a file that does not parse",
		files:   map[string]string{"a.go": "package main\nvar x = T{Sig: \n"},
		wantErr: "parse ",
	}, {
		name:    "no Go files",
		files:   map[string]string{"a_test.go": "package main\n"},
		wantErr: "no Go files in ",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := sourceSigs(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
