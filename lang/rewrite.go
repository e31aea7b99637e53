package lang

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/token"
)

// allowedModules are the standard modules a script may import. There is no
// os module and no file import: a script reaches the system only through
// the builtins.
var allowedModules = []string{"base64", "enum", "fmt", "hex", "json", "math", "rand", "text", "times"}

// rewriter adapts a parsed input to pinsh before Tengo compiles it:
//
//   - a | b becomes :pipe(a, b, P, O), since Tengo's | is integer OR only;
//     x |= b becomes x = :pipe(x, b, P, O), where P is the position of a and
//     O that of the operator (see pipeOp);
//   - every expression statement s becomes
//     if :show_some == s { :show() } (:show_all outside functions in the
//     REPL), which prints a stream, or any value in the REPL (see
//     showTest), except that a call of a script function in tail position
//     keeps Tengo's tail-call optimisation (see tailCall);
//   - at top level, x := v for a global defined by an earlier input becomes
//     x = v, so that the REPL can redefine names; redefining a builtin is an
//     error;
//   - a literal undefined written as an argument of a call of a builtin
//     with WrittenUndefined set, f(..., undefined), becomes :undefined(f),
//     which is WrittenUndefinedValue if f is that builtin when the call runs;
//   - imports of modules other than allowedModules are errors;
//   - expressions nested deeper than maxExprDepth are errors (the compiler
//     recurses per level).
type rewriter struct {
	s       *Session
	err     error
	depth   int
	imports bool // the input imports a module
}

// rewrite rewrites f in place and reports whether it imports a module.
func (s *Session) rewrite(f *parser.File) (imports bool, err error) {
	r := &rewriter{s: s}
	for i, st := range f.Stmts {
		if id, ok := definedIdent(st); ok {
			if idx, exists := s.index[id.Name]; exists {
				if idx < s.protected {
					return false, s.newError(CompileError, id.Pos(),
						fmt.Sprintf("cannot redefine %s: it is a builtin; choose another name", id.Name), nil)
				}
				st.(*parser.AssignStmt).Token = token.Assign
			}
		}
		f.Stmts[i] = r.stmt(st, false, false)
		if r.err != nil {
			return false, r.err
		}
	}
	return r.imports, nil
}

// definedIdent returns x of a statement x := v.
func definedIdent(st parser.Stmt) (*parser.Ident, bool) {
	a, ok := st.(*parser.AssignStmt)
	if !ok || a.Token != token.Define || len(a.LHS) != 1 {
		return nil, false
	}
	id, ok := a.LHS[0].(*parser.Ident)
	return id, ok
}

func (r *rewriter) fail(p parser.Pos, msg string) {
	if r.err == nil {
		r.err = r.s.newError(CompileError, p, msg, nil)
	}
}

func (r *rewriter) call(name string, p parser.Pos, args ...parser.Expr) *parser.CallExpr {
	return &parser.CallExpr{Func: &parser.Ident{Name: name, NamePos: p}, LParen: p, Args: args, RParen: p}
}

// pipe is lhs | rhs with the operator at op.
func (r *rewriter) pipe(op parser.Pos, lhs, rhs parser.Expr) *parser.CallExpr {
	return r.call(pipeName, op, lhs, rhs, &parser.IntLit{Value: int64(lhs.Pos()), ValuePos: op},
		&parser.IntLit{Value: int64(op), ValuePos: op})
}

// pipeOp is :pipe(lhs, rhs, P, O), the | operator. An error of a stage is
// raised at the operator (the call's position, O), also when the stage
// raises it later, as a sink reads its items; when neither side is a stage,
// | is Tengo's integer OR, and its error is raised at P, the start of lhs,
// as Tengo raises an operator's error.
func (s *Session) pipeOp(args ...tengo.Object) (tengo.Object, error) {
	ret, err := s.env.pipe(args[0], args[1], parser.Pos(args[3].(*tengo.Int).Value))
	if errors.Is(err, errOperator) {
		return nil, &posError{pos: parser.Pos(args[2].(*tengo.Int).Value), err: err}
	}
	return ret, err
}

// stmt rewrites a statement. tail is true when the code that follows st is
// a return from the function st is in (see tailCall).
func (r *rewriter) stmt(st parser.Stmt, inFunc, tail bool) parser.Stmt {
	switch st := st.(type) {
	case *parser.ExprStmt:
		all := r.s.opts.Interactive && !inFunc
		st.Expr = r.expr(st.Expr, inFunc)
		if call, ok := st.Expr.(*parser.CallExpr); ok && tail && inFunc {
			if t := r.tailCall(call, all); t != nil {
				return t
			}
		}
		return r.shown(st.Expr, all)
	case *parser.BlockStmt:
		r.block(st, inFunc, tail)
	case *parser.IfStmt:
		if st.Init != nil {
			r.simple(st.Init, inFunc)
		}
		st.Cond = r.expr(st.Cond, inFunc)
		// The body of an if with an else ends with a jump over the else,
		// not at the code after the if.
		r.block(st.Body, inFunc, tail && st.Else == nil)
		if st.Else != nil {
			st.Else = r.stmt(st.Else, inFunc, tail)
		}
	default:
		r.simple(st, inFunc)
	}
	return st
}

// shown is the statement that shows the value of e as its statement would
// (see showTest): if :show_some == e { :show() }, or :show_all when every
// value is shown. The comparison runs inside the VM; only a value to be
// shown costs a call of Go.
func (r *rewriter) shown(e parser.Expr, all bool) parser.Stmt {
	p := e.Pos()
	test := showSomeName
	if all {
		test = showAllName
	}
	return &parser.IfStmt{
		IfPos: p,
		Cond:  &parser.BinaryExpr{LHS: &parser.Ident{Name: test, NamePos: p}, RHS: e, Token: token.Equal, TokenPos: p},
		Body:  &parser.BlockStmt{Stmts: []parser.Stmt{&parser.ExprStmt{Expr: r.call(showName, p)}}, LBrace: p, RBrace: p},
	}
}

// tailCall keeps Tengo's tail-call optimisation for a call statement f(...)
// in tail position, that is, directly followed by the function's return.
// Tengo's VM runs a call of the running function itself that is followed by
// POP and RETURN in the same frame, so a loop written as recursion runs in
// constant stack; wrapped in :show it would be followed by a call of show
// instead, and overflow the stack after ~1,000 rounds.
//
// A call may go unwrapped only when show would have nothing to do: show
// prints a stream (and what else it is made to show, such as generated
// PINs), and a script function returns such a value only through return,
// so its value must not be dropped unseen. It is not: when Tengo's
// optimisation applies, the callee is the running function, and the value
// of the innermost call becomes the value of the outermost one, which its
// own caller shows (or uses). So the statement becomes
//
//	if :not_self(f, P) { <f(...) shown> } else { f(...) }
//
// where :not_self (notSelf) is false only when f is, at run time, a script
// function whose code is that of the function literal containing P, the
// statement's position: the function running. A builtin, a bound stage,
// any other function, is called and shown as before. The else branch ends
// the if, which the function's return follows, so Tengo's VM sees
// CALL; POP; RETURN. Only a call by name is considered: another callee
// expression would be evaluated twice.
func (r *rewriter) tailCall(call *parser.CallExpr, all bool) parser.Stmt {
	id, ok := call.Func.(*parser.Ident)
	if !ok {
		return nil
	}
	if idx, isGlobal := r.s.index[id.Name]; isGlobal && idx < r.s.protected {
		return nil // a builtin, unless shadowed by a local; never the function itself
	}
	p := call.Pos()
	shown := *call
	test := r.call(notSelfName, p, &parser.Ident{Name: id.Name, NamePos: p},
		&parser.IntLit{Value: int64(p), ValuePos: p})
	return &parser.IfStmt{
		IfPos: p,
		Cond:  test,
		Body:  &parser.BlockStmt{Stmts: []parser.Stmt{r.shown(&shown, all)}, LBrace: p, RBrace: p},
		Else:  &parser.BlockStmt{Stmts: []parser.Stmt{&parser.ExprStmt{Expr: call}}, LBrace: p, RBrace: p},
	}
}

// notSelf is :not_self(f, P) of tailCall: false when f is a script function
// whose own code (not that of a function nested in it) has code at
// position P. The answer is remembered per P for the last code found to be
// the running function's and the last found not to be, so that a tail call
// costs a pointer comparison from the second call on, self or not.
func (s *Session) notSelf(args ...tengo.Object) (tengo.Object, error) {
	fn, ok := args[0].(*tengo.CompiledFunction)
	if !ok || len(fn.Instructions) == 0 {
		return tengo.TrueValue, nil
	}
	p := parser.Pos(args[1].(*tengo.Int).Value)
	code := &fn.Instructions[0] // closures of one literal share its code
	seen := s.selfCode[p]
	switch code {
	case seen.self:
		return tengo.FalseValue, nil
	case seen.other:
		return tengo.TrueValue, nil
	}
	for _, at := range fn.SourceMap {
		if at == p {
			seen.self = code
			s.selfCode[p] = seen
			return tengo.FalseValue, nil
		}
	}
	seen.other = code
	s.selfCode[p] = seen
	return tengo.TrueValue, nil
}

// selfSeen is what notSelf remembers of a tail call.
type selfSeen struct{ self, other *byte }

// simple rewrites the expressions of a statement; an expression statement
// here (the init or post of a for or if) is not shown.
func (r *rewriter) simple(st parser.Stmt, inFunc bool) {
	switch st := st.(type) {
	case *parser.ExprStmt:
		st.Expr = r.expr(st.Expr, inFunc)
	case *parser.AssignStmt:
		for i, e := range st.LHS {
			st.LHS[i] = r.expr(e, inFunc)
		}
		for i, e := range st.RHS {
			st.RHS[i] = r.expr(e, inFunc)
		}
		if st.Token == token.OrAssign && len(st.LHS) == 1 && len(st.RHS) == 1 {
			if id, ok := st.LHS[0].(*parser.Ident); ok {
				st.Token = token.Assign
				st.RHS[0] = r.pipe(st.TokenPos, &parser.Ident{Name: id.Name, NamePos: id.NamePos}, st.RHS[0])
			}
		}
	case *parser.BlockStmt, *parser.IfStmt:
		r.stmt(st, inFunc, false)
	case *parser.ForStmt:
		if st.Init != nil {
			r.simple(st.Init, inFunc)
		}
		if st.Cond != nil {
			st.Cond = r.expr(st.Cond, inFunc)
		}
		if st.Post != nil {
			r.simple(st.Post, inFunc)
		}
		r.block(st.Body, inFunc, false)
	case *parser.ForInStmt:
		st.Iterable = r.expr(st.Iterable, inFunc)
		r.block(st.Body, inFunc, false)
	case *parser.ReturnStmt:
		if st.Result != nil {
			st.Result = r.expr(st.Result, inFunc)
		}
	case *parser.ExportStmt:
		if st.Result != nil {
			st.Result = r.expr(st.Result, inFunc)
		}
	case *parser.IncDecStmt:
		st.Expr = r.expr(st.Expr, inFunc)
	}
}

// block rewrites the statements of b; tail is as for stmt, for b as a whole.
func (r *rewriter) block(b *parser.BlockStmt, inFunc, tail bool) {
	for i, st := range b.Stmts {
		next := tail
		if i+1 < len(b.Stmts) {
			next = isBareReturn(b.Stmts[i+1])
		}
		b.Stmts[i] = r.stmt(st, inFunc, next)
	}
}

// isBareReturn reports whether st is return without a value, which Tengo
// compiles to RETURN alone.
func isBareReturn(st parser.Stmt) bool {
	ret, ok := st.(*parser.ReturnStmt)
	return ok && ret.Result == nil
}

func (r *rewriter) expr(e parser.Expr, inFunc bool) parser.Expr {
	if e == nil || r.err != nil {
		return e
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxExprDepth {
		r.fail(e.Pos(), fmt.Sprintf("expression nested more than %d levels deep", maxExprDepth))
		return e
	}
	switch e := e.(type) {
	case *parser.BinaryExpr:
		e.LHS = r.expr(e.LHS, inFunc)
		e.RHS = r.expr(e.RHS, inFunc)
		if e.Token == token.Or {
			return r.pipe(e.TokenPos, e.LHS, e.RHS)
		}
	case *parser.UnaryExpr:
		e.Expr = r.expr(e.Expr, inFunc)
	case *parser.ParenExpr:
		e.Expr = r.expr(e.Expr, inFunc)
	case *parser.CallExpr:
		e.Func = r.expr(e.Func, inFunc)
		written := r.writtenUndefined(e.Func)
		for i, a := range e.Args {
			if _, ok := a.(*parser.UndefinedLit); ok && written {
				// :undefined(f) is WrittenUndefinedValue only if f is still
				// the builtin when the call runs: a function's local or
				// parameter of the same name gets plain undefined.
				fn := e.Func.(*parser.Ident)
				e.Args[i] = r.call(undefinedName, a.Pos(), &parser.Ident{Name: fn.Name, NamePos: fn.NamePos})
				continue
			}
			e.Args[i] = r.expr(a, inFunc)
		}
	case *parser.IndexExpr:
		e.Expr = r.expr(e.Expr, inFunc)
		e.Index = r.expr(e.Index, inFunc)
	case *parser.SliceExpr:
		e.Expr = r.expr(e.Expr, inFunc)
		e.Low = r.expr(e.Low, inFunc)
		e.High = r.expr(e.High, inFunc)
	case *parser.SelectorExpr:
		e.Expr = r.expr(e.Expr, inFunc)
	case *parser.CondExpr:
		e.Cond = r.expr(e.Cond, inFunc)
		e.True = r.expr(e.True, inFunc)
		e.False = r.expr(e.False, inFunc)
	case *parser.ErrorExpr:
		e.Expr = r.expr(e.Expr, inFunc)
	case *parser.ImmutableExpr:
		e.Expr = r.expr(e.Expr, inFunc)
	case *parser.ArrayLit:
		for i, x := range e.Elements {
			e.Elements[i] = r.expr(x, inFunc)
		}
	case *parser.MapLit:
		for _, el := range e.Elements {
			el.Value = r.expr(el.Value, inFunc)
		}
	case *parser.FuncLit:
		r.block(e.Body, true, true) // RETURN ends every function
	case *parser.ImportExpr:
		r.imports = true
		if !allowedModule(e.ModuleName) {
			r.fail(e.Pos(), fmt.Sprintf("module %q is not available in pinsh; the modules are %s",
				e.ModuleName, strings.Join(allowedModules, ", ")))
		}
	}
	return e
}

// writtenUndefined reports whether fn names a builtin with WrittenUndefined
// set, whose calls pass a literal undefined as WrittenUndefinedValue.
func (r *rewriter) writtenUndefined(fn parser.Expr) bool {
	id, ok := fn.(*parser.Ident)
	if !ok {
		return false
	}
	idx, ok := r.s.index[id.Name]
	if !ok || idx >= r.s.protected {
		return false
	}
	b, ok := r.s.globals[idx].(*builtinObj)
	return ok && b.def.WrittenUndefined
}

func allowedModule(name string) bool {
	for _, m := range allowedModules {
		if m == name {
			return true
		}
	}
	return false
}

// checkNesting scans src for brackets nested deeper than maxNesting, outside
// strings and comments, before the recursive parser sees it. It returns the
// offset of the first bracket too deep.
func checkNesting(src []byte) (offset int, ok bool) {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '(', '[', '{':
			depth++
			if depth > maxNesting {
				return i, false
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		case '"', '\'':
			q := src[i]
			for i++; i < len(src) && src[i] != q && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '`':
			j := bytes.IndexByte(src[i+1:], '`')
			if j < 0 {
				return 0, true
			}
			i += j + 1
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				j := bytes.IndexByte(src[i:], '\n')
				if j < 0 {
					return 0, true
				}
				i += j
			} else if i+1 < len(src) && src[i+1] == '*' {
				j := bytes.Index(src[i+2:], []byte("*/"))
				if j < 0 {
					return 0, true
				}
				i += j + 3
			}
		}
	}
	return 0, true
}
