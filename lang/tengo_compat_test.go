package lang

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	goparser "go/parser"
	gotoken "go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/stdlib"
)

// TestTengoCompatibility runs Tengo's own test cases, read from its source
// in the module cache, through this package and through plain Tengo, and
// compares what they give: the value of the global out, or the error's
// message and position. Every difference must be one of tengoDifferences,
// each of which must still occur.
//
// The cases: every expectRun, expectError, expectErrorIs and expectErrorAs
// call of vm_test.go whose input is a string constant (the other inputs are
// built at run time), and of the stdlib tests every expect script and every
// module(t, NAME).call(FN, ARGS...) whose arguments are Go literals, run as
// out = import(NAME).FN(ARGS...). Each case runs once, as a script (Tengo's
// second pass, the same code as a source module, tests module machinery
// that scripts here cannot reach).
func TestTengoCompatibility(t *testing.T) {
	dir := tengoSourceDir(t)
	var cases []compatCase
	files := []string{"vm_test.go"}
	more, _ := filepath.Glob(filepath.Join(dir, "stdlib", "*_test.go"))
	for _, f := range more {
		files = append(files, filepath.Join("stdlib", filepath.Base(f)))
	}
	built := 0
	for _, f := range files {
		cs, n := readTengoCases(t, dir, f)
		cases = append(cases, cs...)
		built += n
	}
	if len(cases) < 1000 {
		t.Fatalf("found only %d cases in Tengo's tests in %s: has their layout changed?", len(cases), dir)
	}

	used := make([]int, len(tengoDifferences))
	same, skipped := 0, 0
	for _, c := range cases {
		if i := c.skipReason(); i >= 0 {
			used[i]++
			skipped++
			continue
		}
		plain := runPlainTengo(c)
		ours := runLang(t, c)
		if plain == ours {
			same++
			continue
		}
		i := differenceOf(c, plain, ours)
		if i < 0 {
			t.Errorf("%s:%d: pinsh differs from Tengo\n%s\n  tengo: %s\n  pinsh: %s", c.file, c.line, c.src, plain, ours)
			continue
		}
		used[i]++
	}
	for i, d := range tengoDifferences {
		if used[i] == 0 {
			t.Errorf("intended difference %q no longer occurs: remove it from tengoDifferences", d.name)
		}
	}
	t.Logf("%d cases of Tengo %s (and %d built at run time, not read): %d give the same, %d skipped, %d differ as intended",
		len(cases), filepath.Base(dir), built, same, skipped, len(cases)-same-skipped)
	for i, d := range tengoDifferences {
		t.Logf("  %4d  %s", used[i], d.name)
	}
}

// tengoDifferences are the intended differences between pinsh and Tengo,
// with the reason for each: the cases that are not run (skip), and the
// outcomes that differ.
var tengoDifferences = []struct {
	name, reason string
	skip         func(c compatCase) bool
	differ       func(c compatCase, plain, ours compatResult) bool
}{{
	name:   "host-provided symbols and modules",
	reason: "the case gives the script Go values or user modules; pinsh scripts get only its builtins and the standard modules",
	skip:   func(c compatCase) bool { return c.host != "" },
}, {
	name:   "os module",
	reason: "sandbox: scripts reach the system only through the builtins, so there is no os module",
	skip:   func(c compatCase) bool { return strings.Contains(c.src, `import("os")`) },
}, {
	name:   "allocation limit",
	reason: "pinsh's rewriter adds calls (show, |), which count as allocations; it has its own limit",
	skip:   func(c compatCase) bool { return c.limited },
}, {
	name:   "random numbers",
	reason: "rand's functions give other numbers on every call; only the type is compared",
	differ: func(c compatCase, plain, ours compatResult) bool {
		typ := func(v string) string { t, _, _ := strings.Cut(v, "("); return t }
		return strings.Contains(c.src, `import("rand")`) && plain.err == "" && ours.err == "" && typ(plain.val) == typ(ours.val)
	},
}, {
	name:   "an error value's text in \"found error\"",
	reason: "a builtin that refuses an error value says what the error was: found error (its text), issue 11",
	differ: func(c compatCase, plain, ours compatResult) bool {
		head, _, ok := strings.Cut(ours.err, "found error (")
		return ok && plain.err == head+"found error" && plain.pos == ours.pos
	},
}}

func (c compatCase) skipReason() int {
	for i, d := range tengoDifferences {
		if d.skip != nil && d.skip(c) {
			return i
		}
	}
	return -1
}

func differenceOf(c compatCase, plain, ours compatResult) int {
	for i, d := range tengoDifferences {
		if d.differ != nil && d.differ(c, plain, ours) {
			return i
		}
	}
	return -1
}

// compatCase is one test case of Tengo's.
type compatCase struct {
	file    string // of Tengo's, relative to its module directory
	line    int
	src     string
	out     bool   // the global out is predefined (vm_test.go) rather than declared by src
	stdlib  bool   // the standard modules are available to plain Tengo
	host    string // what the host provides that pinsh cannot: Go symbols, user modules
	limited bool   // run with an allocation limit
	prefix  string // added before the input by the test's helper
}

// compatResult is the outcome of a case: out's value, or the error.
type compatResult struct {
	val string // out, as canonical text
	err string // the error's message, without Tengo's "Runtime Error: " and the like
	pos string // LINE:COL of the error, when known
}

func (r compatResult) String() string {
	if r.err != "" {
		return fmt.Sprintf("error %q at %s", r.err, r.pos)
	}
	return r.val
}

// tengoSourceDir returns the module directory of the Tengo this module
// builds with, or skips the test when its source is not on this machine.
func tengoSourceDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/d5/tengo/v2").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("the source of github.com/d5/tengo/v2 is not in the module cache (go list -m: %v); "+
			"run go mod download to compare pinsh with Tengo's own tests", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vm_test.go")); err != nil {
		t.Skipf("Tengo's tests are not in %s (%v): nothing to compare with", dir, err)
	}
	return dir
}

// readTengoCases extracts the cases of one test file of Tengo's. n counts
// the calls whose input is not a constant.
func readTengoCases(t *testing.T, dir, name string) (cases []compatCase, n int) {
	fset := gotoken.NewFileSet()
	f, err := goparser.ParseFile(fset, filepath.Join(dir, name), nil, goparser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse Tengo's %s: %v", name, err)
	}
	ast.Inspect(f, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok {
			return true
		}
		c := compatCase{file: name, line: fset.Position(call.Pos()).Line}
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			switch {
			case strings.HasPrefix(name, "stdlib") && fn.Name == "expect" && len(call.Args) == 3:
				// expect(t, input, expected): a script that declares out
				c.stdlib = true
			case !strings.HasPrefix(name, "stdlib") && len(call.Args) == 4 &&
				(fn.Name == "expectRun" || fn.Name == "expectError" || fn.Name == "expectErrorIs" || fn.Name == "expectErrorAs"):
				c.out = true
				readOpts(call.Args[2], &c)
			case fn.Name == "testEquality" && len(call.Args) == 4:
				// out = L == R, R == L, L != R, R != L
				lhs, ok1 := stringConst(call.Args[1])
				rhs, ok2 := stringConst(call.Args[2])
				if !ok1 || !ok2 {
					n += 4
					return true
				}
				c.out = true
				for _, f := range []string{"out = %s == %s", "out = %[2]s == %[1]s", "out = %s != %s", "out = %[2]s != %[1]s"} {
					c.src = fmt.Sprintf(f, lhs, rhs)
					cases = append(cases, c)
				}
				return true
			case fn.Name == "testAllocsLimit" && len(call.Args) == 3:
				// unlimited, then limits around the one given
				src, ok1 := stringConst(call.Args[1])
				lit, ok2 := call.Args[2].(*ast.BasicLit)
				if !ok1 || !ok2 {
					n++
					return true
				}
				limit, _ := strconv.Atoi(lit.Value)
				c.src, c.out = src, true
				cases = append(cases, c)
				c.limited = true
				for i := 0; i < 2+min(max(limit-1, 0), 2); i++ {
					cases = append(cases, c)
				}
				return true
			case fn.Name == "testEnumModule" && len(call.Args) == 3:
				// the enum module, given as a user module, is pinsh's too
				c.out, c.stdlib, c.prefix = true, true, `enum := import("enum"); `
			default:
				return true
			}
			src, ok := stringConst(call.Args[1])
			if !ok {
				n++
				return true
			}
			c.src = c.prefix + src
		case *ast.SelectorExpr:
			// module(t, NAME).call(FN, ARGS...).expect(...) or .expectError()
			src, ok := moduleCall(fn)
			if !ok {
				return true
			}
			c.src, c.out, c.stdlib = src, true, true
		default:
			return true
		}
		cases = append(cases, c)
		return true
	})
	return cases, n
}

// readOpts reads an Opts() chain of vm_test.go into c.
func readOpts(e ast.Expr, c *compatCase) {
	for {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			if id, ok := e.(*ast.Ident); !ok || id.Name != "nil" {
				c.host = "options in a variable"
			}
			return
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return // Opts()
		}
		switch sel.Sel.Name {
		case "Stdlib":
			c.stdlib = true
		case "Module":
			c.host = "user module"
		case "Symbol":
			c.host = "Go symbol"
		case "MaxAllocs":
			c.limited = true
		}
		e = sel.X
	}
}

// stringConst evaluates a string literal or a sum of them.
func stringConst(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != gotoken.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != gotoken.ADD {
			return "", false
		}
		a, ok1 := stringConst(e.X)
		b, ok2 := stringConst(e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return stringConst(e.X)
	}
	return "", false
}

// moduleCall turns module(t, NAME).call(FN, ARGS...).expect... into
// out = import(NAME).FN(ARGS...), when the ARGS are Go literals.
func moduleCall(sel *ast.SelectorExpr) (string, bool) {
	if sel.Sel.Name != "expect" && sel.Sel.Name != "expectError" {
		return "", false
	}
	callCall, ok := sel.X.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	callSel, ok := callCall.Fun.(*ast.SelectorExpr)
	if !ok || callSel.Sel.Name != "call" || len(callCall.Args) == 0 {
		return "", false
	}
	mod, ok := callSel.X.(*ast.CallExpr)
	if !ok || len(mod.Args) != 2 {
		return "", false
	}
	if id, ok := mod.Fun.(*ast.Ident); !ok || id.Name != "module" {
		return "", false
	}
	name, ok1 := stringConst(mod.Args[1])
	fn, ok2 := stringConst(callCall.Args[0])
	if !ok1 || !ok2 {
		return "", false
	}
	var args []string
	for _, a := range callCall.Args[1:] {
		s, ok := tengoLiteral(a)
		if !ok {
			return "", false
		}
		args = append(args, s)
	}
	return fmt.Sprintf("out = import(%q).%s(%s)", name, fn, strings.Join(args, ", ")), true
}

// tengoLiteral writes a Go literal of the stdlib tests as Tengo source,
// with the meaning their object() gives it.
func tengoLiteral(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case gotoken.INT, gotoken.FLOAT, gotoken.CHAR:
			return e.Value, true
		case gotoken.STRING:
			s, err := strconv.Unquote(e.Value)
			return strconv.Quote(s), err == nil
		}
	case *ast.Ident:
		if e.Name == "true" || e.Name == "false" {
			return e.Name, true
		}
	case *ast.UnaryExpr:
		if x, ok := tengoLiteral(e.X); ok && e.Op == gotoken.SUB {
			return "-" + x, true
		}
	case *ast.CallExpr: // []byte("x"), int64(5)
		if len(e.Args) != 1 {
			return "", false
		}
		x, ok := tengoLiteral(e.Args[0])
		switch fn := e.Fun.(type) {
		case *ast.ArrayType:
			if id, isID := fn.Elt.(*ast.Ident); isID && id.Name == "byte" && fn.Len == nil {
				return "bytes(" + x + ")", ok
			}
		case *ast.Ident:
			if fn.Name == "int64" || fn.Name == "float64" {
				return x, ok
			}
		}
	case *ast.CompositeLit:
		id, ok := e.Type.(*ast.Ident)
		if !ok {
			return "", false
		}
		var parts []string
		for _, el := range e.Elts {
			if kv, isKV := el.(*ast.KeyValueExpr); isKV {
				k, ok1 := stringConst(kv.Key)
				v, ok2 := tengoLiteral(kv.Value)
				if !ok1 || !ok2 {
					return "", false
				}
				parts = append(parts, strconv.Quote(k)+": "+v)
				continue
			}
			v, ok := tengoLiteral(el)
			if !ok {
				return "", false
			}
			parts = append(parts, v)
		}
		body := strings.Join(parts, ", ")
		switch id.Name {
		case "ARR":
			return "[" + body + "]", true
		case "IARR":
			return "immutable([" + body + "])", true
		case "MAP":
			return "{" + body + "}", true
		case "IMAP":
			return "immutable({" + body + "})", true
		}
	}
	return "", false
}

// runPlainTengo runs c as Tengo's tests do: out predefined, the builtins,
// and the standard modules if asked.
func runPlainTengo(c compatCase) (res compatResult) {
	defer func() {
		if r := recover(); r != nil {
			res = compatResult{err: fmt.Sprintf("panic: %v", r)}
		}
	}()
	fileSet := parser.NewFileSet()
	file := fileSet.AddFile("test", -1, len(c.src))
	ast, err := parser.NewParser(file, []byte(c.src), nil).ParseFile()
	if err != nil {
		return tengoError(err)
	}
	modules := tengo.NewModuleMap()
	if c.stdlib {
		modules = stdlib.GetModuleMap(stdlib.AllModuleNames()...)
	}
	st := tengo.NewSymbolTable()
	globals := make([]tengo.Object, tengo.GlobalsSize)
	var out *tengo.Symbol
	if c.out {
		out = st.Define("out")
		globals[out.Index] = tengo.UndefinedValue
	}
	for i, fn := range tengo.GetAllBuiltinFunctions() {
		st.DefineBuiltin(i, fn.Name)
	}
	comp := tengo.NewCompiler(file, st, nil, modules, nil)
	if err := comp.Compile(ast); err != nil {
		return tengoError(err)
	}
	if err := tengo.NewVM(comp.Bytecode(), globals, -1).Run(); err != nil {
		return tengoError(err)
	}
	if !c.out {
		if sym, _, ok := st.Resolve("out", false); ok {
			out = sym
		}
	}
	if out == nil {
		return compatResult{val: "<no out>"}
	}
	return compatResult{val: canonical(globals[out.Index])}
}

// tengoError splits Tengo's "Runtime Error: MSG\n\tat test:L:C..." (or
// Compile Error, Parse Error).
func tengoError(err error) compatResult {
	msg, rest, _ := strings.Cut(err.Error(), "\n\tat ")
	for _, p := range []string{"Runtime Error: ", "Compile Error: ", "Parse Error: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	pos, _, _ := strings.Cut(rest, "\n")
	return compatResult{err: msg, pos: strings.TrimPrefix(pos, "test:")}
}

// runLang runs c in a Session, out predefined when Tengo predefines it.
func runLang(t *testing.T, c compatCase) compatResult {
	var stdout bytes.Buffer
	s, err := NewSession(Options{Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if c.out {
		s.define("out", tengo.UndefinedValue)
	}
	err = s.Eval(context.Background(), "test", []byte(c.src))
	var e *Error
	switch {
	case errors.As(err, &e):
		msg := strings.TrimSuffix(e.Msg, moreErrors.FindString(e.Msg))
		return compatResult{err: msg, pos: fmt.Sprintf("%d:%d", e.Pos.Line, e.Pos.Col)}
	case err != nil:
		return compatResult{err: err.Error()}
	}
	v, ok := s.Lookup("out")
	if !ok {
		return compatResult{val: "<no out>"}
	}
	return compatResult{val: canonical(v)}
}

var moreErrors = regexp.MustCompile(` \(and \d+ more\)$`)

// canonical writes a value with its type, maps sorted, for comparing
// values of two runtimes.
func canonical(o tengo.Object) string {
	var b strings.Builder
	var walk func(o tengo.Object, depth int)
	walk = func(o tengo.Object, depth int) {
		if depth > 20 {
			b.WriteString("...")
			return
		}
		b.WriteString(o.TypeName())
		b.WriteByte('(')
		switch o := o.(type) {
		case *tengo.Array:
			for _, x := range o.Value {
				walk(x, depth+1)
				b.WriteByte(',')
			}
		case *tengo.ImmutableArray:
			for _, x := range o.Value {
				walk(x, depth+1)
				b.WriteByte(',')
			}
		case *tengo.Map:
			writeMap(&b, o.Value, func(x tengo.Object) { walk(x, depth+1) })
		case *tengo.ImmutableMap:
			writeMap(&b, o.Value, func(x tengo.Object) { walk(x, depth+1) })
		case *tengo.Error:
			walk(o.Value, depth+1)
		case *tengo.CompiledFunction, *tengo.BuiltinFunction, *tengo.UserFunction:
		case *tengo.Time, *Time:
			// the same instant in the same zone, whichever type holds it
			t, _ := asTime(o)
			b.WriteString(t.t.Format(time.RFC3339Nano + " MST"))
		default:
			b.WriteString(o.String())
		}
		b.WriteByte(')')
	}
	walk(o, 0)
	return b.String()
}

func writeMap(b *strings.Builder, m map[string]tengo.Object, walk func(tengo.Object)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		walk(m[k])
		b.WriteByte(',')
	}
}
