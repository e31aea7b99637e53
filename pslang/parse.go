package pslang

import (
	"fmt"
	"strings"
)

// maxDepth bounds the nesting of blocks and expressions, so that hostile
// input cannot exhaust the stack.
const maxDepth = 200

// Parse reads PowerShell source into a Script. Anything outside pinsh's
// subset is a *SyntaxError naming the construct, its line and column, and
// what to write instead; nothing is guessed.
func Parse(src string) (*Script, error) {
	return parseAt(src, Pos{1, 1}, false)
}

func parseAt(src string, start Pos, filter bool) (*Script, error) {
	toks, err := lex(src, start)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: src, filter: filter}
	stmts, err := p.stmts(tEOF)
	if err != nil {
		return nil, err
	}
	return &Script{Stmts: stmts}, nil
}

type parser struct {
	toks   []token
	i      int
	src    string
	depth  int
	filter bool // a -Filter script block: bare words are properties
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func errAt(pos Pos, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) enter(pos Pos) error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(pos, "nested more than %d deep; split the script into simpler statements", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) skipNewlines() {
	for p.peek().kind == tNewline || p.peek().kind == tSemi {
		p.take()
	}
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, errAt(t.pos, "expected %s, found %s", what, describe(t))
	}
	return p.take(), nil
}

func describe(t token) string {
	switch t.kind {
	case tWord:
		return fmt.Sprintf("%q", t.text)
	case tParam:
		return fmt.Sprintf("-%s", t.text)
	case tVar:
		return "$" + t.text
	}
	return tokNames[t.kind]
}

// stmts reads statements up to (not including) the end token.
func (p *parser) stmts(end tokKind) ([]Stmt, error) {
	var out []Stmt
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == end {
			return out, nil
		}
		if t.kind == tEOF {
			return nil, errAt(t.pos, "input ended inside a block; close it with %s", tokNames[end])
		}
		s, err := p.stmt()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		switch k := p.peek().kind; {
		case k == tNewline || k == tSemi || k == end:
		case k == tEOF:
			return nil, errAt(p.peek().pos, "input ended inside a block; close it with %s", tokNames[end])
		default:
			t := p.peek()
			return nil, errAt(t.pos, "unexpected %s after the statement; end the statement with a new line or ';'", describe(t))
		}
	}
}

var unsupportedKeywords = map[string]string{
	"while":    "loop over a list with foreach ($x in ...) { }",
	"do":       "loop over a list with foreach ($x in ...) { }",
	"for":      "loop over a list with foreach ($x in ...) { }",
	"until":    "loop over a list with foreach ($x in ...) { }",
	"switch":   "use if / elseif / else",
	"function": "pinsh's PowerShell has no functions; write a Tengo script (pinsh --ps --translate shows the Tengo form) to define one",
	"filter":   "use Where-Object { }",
	"param":    "scripts take no parameters here; set variables at the top of the script",
	"trap":     "use try { } catch { }",
	"class":    "use hashtables @{ }",
	"enum":     "use strings",
	"using":    "cmdlets and modules need no import in pinsh",
	"begin":    "use ForEach-Object { } with one script block",
	"process":  "use ForEach-Object { } with one script block",
	"end":      "use ForEach-Object { } with one script block",
	"exit":     "pinsh's PowerShell ends a script at its last line, or with throw \"message\"",
	"workflow": "use a plain script",
	"data":     "use hashtables @{ }",
}

func (p *parser) stmt() (Stmt, error) {
	t := p.peek()
	if t.kind == tWord && !p.filter {
		kw := strings.ToLower(t.text)
		switch kw {
		case "if":
			return p.ifStmt()
		case "foreach":
			if p.peekAt(1).kind == tLParen {
				return p.foreachStmt()
			}
		case "try":
			return p.tryStmt()
		case "break", "continue":
			p.take()
			return &FlowStmt{Pos: t.pos, Word: kw}, nil
		case "return", "throw":
			p.take()
			fs := &FlowStmt{Pos: t.pos, Word: kw}
			if k := p.peek().kind; k != tNewline && k != tSemi && k != tRBrace && k != tEOF {
				v, err := p.pipeline()
				if err != nil {
					return nil, err
				}
				fs.Value = v
			}
			return fs, nil
		case "elseif", "else":
			return nil, errAt(t.pos, "%s without an if before it; put it right after the if's closing }", t.text)
		case "catch", "finally":
			return nil, errAt(t.pos, "%s without a try before it; write try { ... } catch { ... }", t.text)
		default:
			if alt, ok := unsupportedKeywords[kw]; ok && !strings.Contains(t.text, "-") {
				return nil, errAt(t.pos, "%s is not in pinsh's PowerShell; %s", t.text, alt)
			}
		}
	}
	pl, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	if a := p.peek(); a.kind == tAssign {
		if len(pl.Elems) != 1 {
			return nil, errAt(a.pos, "cannot assign to a pipeline; assign to a variable: $x = ...")
		}
		target, ok := pl.Elems[0].(Expr)
		switch tt := target.(type) {
		case *Var:
			if isConstVar(tt.Name) {
				return nil, errAt(tt.Pos, "$%s cannot be assigned; use another variable name", tt.Name)
			}
		case *Member:
			if _, isVar := tt.X.(*Var); !isVar {
				ok = false
			}
		default:
			ok = false
		}
		if !ok {
			return nil, errAt(pl.Pos, "only a variable ($x) or a variable's property ($x.Name) can be assigned")
		}
		p.take()
		for p.peek().kind == tNewline {
			p.take()
		}
		v, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		return &AssignStmt{Pos: pl.Pos, Target: target, Op: a.text, Value: v}, nil
	}
	return &PipelineStmt{P: pl}, nil
}

func isConstVar(name string) bool {
	switch strings.ToLower(name) {
	case "true", "false", "null", "_", "psitem":
		return true
	}
	return false
}

func (p *parser) block() ([]Stmt, error) {
	if _, err := p.expect(tLBrace, "'{'"); err != nil {
		return nil, err
	}
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer p.leave()
	body, err := p.stmts(tRBrace)
	if err != nil {
		return nil, err
	}
	p.take()
	return body, nil
}

// condition reads ( pipeline ) after if, elseif.
func (p *parser) condition(what string) (*Pipeline, error) {
	if _, err := p.expect(tLParen, "'(' after "+what); err != nil {
		return nil, err
	}
	p.skipNewlines()
	c, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	p.skipNewlines()
	if _, err := p.expect(tRParen, "')' to close the condition"); err != nil {
		return nil, err
	}
	return c, nil
}

// skipToKeyword looks past new lines for elseif, else or catch; it
// consumes the new lines only if the keyword is there.
func (p *parser) skipToKeyword(words ...string) (string, bool) {
	j := p.i
	for p.toks[j].kind == tNewline {
		j++
	}
	t := p.toks[j]
	if t.kind != tWord {
		return "", false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			p.i = j
			return w, true
		}
	}
	return "", false
}

func (p *parser) ifStmt() (Stmt, error) {
	s := &IfStmt{Pos: p.take().pos}
	for {
		c, err := p.condition("if")
		if err != nil {
			return nil, err
		}
		for p.peek().kind == tNewline {
			p.take()
		}
		body, err := p.block()
		if err != nil {
			return nil, err
		}
		s.Conds = append(s.Conds, c)
		s.Then = append(s.Then, body)
		w, ok := p.skipToKeyword("elseif", "else")
		if !ok {
			return s, nil
		}
		p.take()
		if w == "else" {
			if p.peek().kind == tWord && strings.EqualFold(p.peek().text, "if") {
				return nil, errAt(p.peek().pos, "'else if' is not PowerShell; write elseif")
			}
			for p.peek().kind == tNewline {
				p.take()
			}
			body, err := p.block()
			if err != nil {
				return nil, err
			}
			if body == nil {
				body = []Stmt{}
			}
			s.Else = body
			return s, nil
		}
	}
}

func (p *parser) foreachStmt() (Stmt, error) {
	s := &ForeachStmt{Pos: p.take().pos}
	p.take() // (
	v := p.peek()
	if v.kind != tVar {
		return nil, errAt(v.pos, "foreach needs a loop variable: foreach ($u in ...)")
	}
	p.take()
	if isConstVar(v.text) {
		return nil, errAt(v.pos, "$%s cannot be the loop variable; use another name", v.text)
	}
	s.Var = &Var{Pos: v.pos, Name: v.text}
	in := p.peek()
	if in.kind != tWord || !strings.EqualFold(in.text, "in") {
		return nil, errAt(in.pos, "expected 'in' after the loop variable: foreach ($u in ...)")
	}
	p.take()
	c, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, "')' to close foreach ( )"); err != nil {
		return nil, err
	}
	for p.peek().kind == tNewline {
		p.take()
	}
	s.In = c
	s.Body, err = p.block()
	return s, err
}

func (p *parser) tryStmt() (Stmt, error) {
	s := &TryStmt{Pos: p.take().pos}
	for p.peek().kind == tNewline {
		p.take()
	}
	var err error
	if s.Body, err = p.block(); err != nil {
		return nil, err
	}
	if _, ok := p.skipToKeyword("catch"); !ok {
		if _, fin := p.skipToKeyword("finally"); fin {
			return nil, errAt(p.peek().pos, "finally is not in pinsh's PowerShell; put its statements after the try/catch")
		}
		return nil, errAt(p.peek().pos, "try needs a catch { } block")
	}
	p.take()
	if p.peek().kind == tLBracket || p.peek().kind == tLBracket {
		return nil, errAt(p.peek().pos, "catch with an exception type is not in pinsh's PowerShell; write catch { } and test $_ inside")
	}
	for p.peek().kind == tNewline {
		p.take()
	}
	if s.Catch, err = p.block(); err != nil {
		return nil, err
	}
	if s.Catch == nil {
		s.Catch = []Stmt{}
	}
	if _, fin := p.skipToKeyword("finally"); fin {
		return nil, errAt(p.peek().pos, "finally is not in pinsh's PowerShell; put its statements after the try/catch")
	}
	return s, nil
}

// pipeline reads element { | element }. A line ending in | continues.
func (p *parser) pipeline() (*Pipeline, error) {
	start := p.peek()
	if err := p.enter(start.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	pl := &Pipeline{Pos: start.pos}
	for {
		t := p.peek()
		var el Node
		var err error
		if t.kind == tWord && !p.filter {
			el, err = p.command()
		} else if len(pl.Elems) > 0 {
			return nil, errAt(t.pos, "after | comes a command (Where-Object, ForEach-Object, ...), not %s", describe(t))
		} else {
			el, err = p.expr()
		}
		if err != nil {
			return nil, err
		}
		pl.Elems = append(pl.Elems, el)
		if p.peek().kind != tPipe {
			return pl, nil
		}
		bar := p.take()
		for p.peek().kind == tNewline {
			p.take()
		}
		if k := p.peek().kind; k == tEOF || k == tRParen || k == tRBrace || k == tSemi {
			return nil, errAt(bar.pos, "a command must follow |")
		}
	}
}

// command reads a command name and its arguments.
func (p *parser) command() (*Command, error) {
	name := p.take()
	c := &Command{Pos: name.pos, Name: name.text}
	if strings.HasPrefix(name.text, ".") || strings.ContainsAny(name.text, `/\`) {
		return nil, errAt(name.pos, "running scripts or programs (%s) is not in pinsh's PowerShell; run them with pinsh FILE.ps1 on their own", name.text)
	}
	for {
		t := p.peek()
		switch t.kind {
		case tEOF, tNewline, tSemi, tPipe, tRParen, tRBrace:
			return c, nil
		case tParam:
			p.take()
			a := Arg{Pos: t.pos, Param: t.text, Colon: t.colon}
			if t.colon {
				v, err := p.argValue()
				if err != nil {
					return nil, err
				}
				a.Value = v
			}
			c.Args = append(c.Args, a)
		default:
			v, err := p.argValue()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, Arg{Pos: t.pos, Value: v})
		}
	}
}

// argValue reads one command argument value, with a , list.
func (p *parser) argValue() (Expr, error) { return p.list(p.argPrimary) }

func (p *parser) argPrimary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tWord:
		p.take()
		return &StringLit{Pos: t.pos, Value: t.text, Bare: true}, nil
	case tNumber:
		p.take()
		return &Number{Pos: t.pos, Text: t.text}, nil
	case tMinus:
		if n := p.peekAt(1); n.kind == tNumber && !n.space {
			p.take()
			p.take()
			return &Number{Pos: t.pos, Text: "-" + n.text}, nil
		}
	case tParam:
		return nil, errAt(t.pos, "expected a value for the parameter before -%s", t.text)
	}
	return p.postfix()
}

// Expression grammar, loosest first:
//
//	logical:    -and -or -xor
//	comparison: -eq -ne -lt ... -like -match -contains -in
//	comma:      a, b
//	additive:   + -
//	mult:       * / %
//	unary:      -not ! -
//	postfix:    .Member .Method() [index]
func (p *parser) expr() (Expr, error) {
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.logical()
}

// comparisonOps are the comparison operators with their i and c forms;
// baseOps without.
var comparisonOps, baseOps = map[string]bool{}, map[string]bool{}

func init() {
	for _, op := range []string{"eq", "ne", "lt", "le", "gt", "ge", "like", "notlike", "match", "notmatch", "contains", "notcontains", "in", "notin"} {
		baseOps[op] = true
		comparisonOps[op] = true
		comparisonOps["i"+op] = true
		comparisonOps["c"+op] = true
	}
}

var otherOps = map[string]string{
	"replace":  "use a Tengo script (text.replace) for string rewriting",
	"split":    "use a Tengo script (text.split)",
	"join":     "use a Tengo script (text.join)",
	"f":        "use a double-quoted string with $var or $( ) inside",
	"is":       "compare a property instead",
	"isnot":    "compare a property instead",
	"as":       "values convert on their own",
	"band":     "not needed for PIN administration",
	"bor":      "not needed for PIN administration",
	"bxor":     "not needed for PIN administration",
	"bnot":     "not needed for PIN administration",
	"shl":      "not needed for PIN administration",
	"shr":      "not needed for PIN administration",
	"creplace": "use a Tengo script (text.replace) for string rewriting",
	"ireplace": "use a Tengo script (text.replace) for string rewriting",
}

func (p *parser) opErr(t token) error {
	if alt, ok := otherOps[strings.ToLower(t.text)]; ok {
		return errAt(t.pos, "the operator -%s is not in pinsh's PowerShell; %s", t.text, alt)
	}
	return errAt(t.pos, "-%s is not an operator of pinsh's PowerShell; the operators are -eq -ne -lt -le -gt -ge -like -notlike -match -notmatch -contains -notcontains -in -notin -and -or -xor -not", t.text)
}

func isLogical(op string) bool { return op == "and" || op == "or" || op == "xor" }

// logical reads operands joined by -and, -or, -xor.
func (p *parser) logical() (Expr, error) { return p.binaryLevel(p.comparison, isLogical) }

// comparison reads operands joined by -eq, -like...
func (p *parser) comparison() (Expr, error) {
	return p.binaryLevel(p.comma, func(op string) bool { return !isLogical(op) })
}

// binaryLevel reads operands joined, left to right, by the -operators
// accept takes; an unknown one is an error.
func (p *parser) binaryLevel(operand func() (Expr, error), accept func(op string) bool) (Expr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tParam || t.colon {
			return l, nil
		}
		op := strings.ToLower(t.text)
		if !accept(op) {
			return l, nil
		}
		if !isLogical(op) && !comparisonOps[op] {
			return nil, p.opErr(t)
		}
		p.take()
		for p.peek().kind == tNewline {
			p.take()
		}
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: "-" + op, L: l, R: r}
	}
}

func (p *parser) comma() (Expr, error) { return p.list(p.additive) }

// list reads item { , item } into an array, or the item alone.
func (p *parser) list(item func() (Expr, error)) (Expr, error) {
	first, err := item()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tComma {
		return first, nil
	}
	arr := &ArrayLit{Pos: first.At(), Items: []Expr{first}}
	for p.peek().kind == tComma {
		p.take()
		for p.peek().kind == tNewline {
			p.take()
		}
		v, err := item()
		if err != nil {
			return nil, err
		}
		arr.Items = append(arr.Items, v)
	}
	return arr, nil
}

func (p *parser) additive() (Expr, error) {
	l, err := p.mult()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tPlus && t.kind != tMinus {
			return l, nil
		}
		p.take()
		for p.peek().kind == tNewline {
			p.take()
		}
		r, err := p.mult()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: r}
	}
}

func (p *parser) mult() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tStar && t.kind != tSlash && t.kind != tPercent {
			return l, nil
		}
		p.take()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: r}
	}
}

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	switch {
	case t.kind == tBang:
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{Pos: t.pos, Op: "!", X: x}, nil
	case t.kind == tParam && strings.EqualFold(t.text, "not") && !t.colon:
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{Pos: t.pos, Op: "-not", X: x}, nil
	case t.kind == tMinus:
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if n, ok := x.(*Number); ok && !strings.HasPrefix(n.Text, "-") {
			return &Number{Pos: t.pos, Text: "-" + n.Text}, nil
		}
		return &Unary{Pos: t.pos, Op: "-", X: x}, nil
	case t.kind == tParam:
		return nil, p.opErr(t)
	}
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.postfix()
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tDot && !t.space:
			p.take()
			name := p.take() // the lexer makes it a word
			if n := p.peek(); n.kind == tLParen && !n.space {
				p.take()
				args, err := p.callArgs()
				if err != nil {
					return nil, err
				}
				x = &Method{Pos: name.pos, X: x, Name: name.text, Args: args}
				continue
			}
			x = &Member{Pos: name.pos, X: x, Name: name.text}
		case t.kind == tLBracket && !t.space:
			p.take()
			i, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tRBracket, "']'"); err != nil {
				return nil, err
			}
			x = &Index{Pos: t.pos, X: x, I: i}
		default:
			return x, nil
		}
	}
}

func (p *parser) callArgs() ([]Expr, error) {
	var args []Expr
	if p.peek().kind == tRParen {
		p.take()
		return nil, nil
	}
	for {
		a, err := p.additive()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		t := p.take()
		switch t.kind {
		case tRParen:
			return args, nil
		case tComma:
		default:
			return nil, errAt(t.pos, "expected ',' or ')' in the method's arguments, found %s", describe(t))
		}
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tVar:
		p.take()
		return &Var{Pos: t.pos, Name: t.text}, nil
	case tNumber:
		p.take()
		return &Number{Pos: t.pos, Text: t.text}, nil
	case tString:
		p.take()
		return &StringLit{Pos: t.pos, Value: t.text}, nil
	case tExpString:
		p.take()
		return p.expandString(t)
	case tLParen:
		p.take()
		p.skipNewlines()
		if p.peek().kind == tRParen {
			return nil, errAt(t.pos, "empty parentheses; put an expression or a command inside")
		}
		pl, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		p.skipNewlines()
		if _, err := p.expect(tRParen, "')'"); err != nil {
			return nil, err
		}
		return &Paren{Pos: t.pos, P: pl}, nil
	case tDollarParen, tAtParen:
		p.take()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		body, err := p.stmts(tRParen)
		if err != nil {
			return nil, err
		}
		p.take()
		return &SubExpr{Pos: t.pos, Array: t.kind == tAtParen, Stmts: body}, nil
	case tAtBrace:
		return p.hash()
	case tLBrace:
		return p.scriptBlock()
	case tWord:
		if p.filter {
			p.take()
			return &PropRef{Pos: t.pos, Name: t.text}, nil
		}
		return nil, errAt(t.pos, "a bare word (%s) cannot be a value here; quote it ('%s'), or put a command in parentheses: (%s ...)", t.text, t.text, t.text)
	}
	return nil, errAt(t.pos, "expected a value, found %s", describe(t))
}

func (p *parser) hash() (Expr, error) {
	open := p.take()
	h := &HashLit{Pos: open.pos}
	for {
		p.skipNewlines()
		t := p.take()
		var key string
		switch t.kind {
		case tRBrace:
			return h, nil
		case tWord, tString:
			key = t.text
		default:
			return nil, errAt(t.pos, "expected a key (Name = value) or } in the hashtable, found %s", describe(t))
		}
		if _, err := p.expect(tAssign, "'=' after the hashtable key"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		for i, k := range h.Keys {
			if strings.EqualFold(k, key) {
				return nil, errAt(t.pos, "the hashtable has %q twice (keys ignore case); keep one", h.Keys[i])
			}
		}
		h.Keys = append(h.Keys, key)
		h.Values = append(h.Values, v)
		if k := p.peek().kind; k != tNewline && k != tSemi && k != tRBrace {
			return nil, errAt(p.peek().pos, "expected ';', a new line or } after a hashtable entry, found %s", describe(p.peek()))
		}
	}
}

func (p *parser) scriptBlock() (Expr, error) {
	open := p.take()
	body, err := func() ([]Stmt, error) {
		if err := p.enter(open.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		return p.stmts(tRBrace)
	}()
	if err != nil {
		return nil, err
	}
	cl := p.take()
	sb := &ScriptBlock{Pos: open.pos, Stmts: body, Src: p.src[open.end:cl.off], Inner: p.toks[0].pos}
	// Inner: where Src starts, for re-parsing it as a -Filter.
	sb.Inner = posAfter(open)
	return sb, nil
}

func posAfter(t token) Pos { return Pos{t.pos.Line, t.pos.Col + (t.end - t.off)} }

// expandString parses the $var and $( ) parts of a double-quoted string.
func (p *parser) expandString(t token) (Expr, error) {
	es := &ExpandString{Pos: t.pos}
	for _, part := range t.parts {
		switch {
		case part.isVar:
			es.Parts = append(es.Parts, &Var{Pos: part.pos, Name: part.name})
		case part.isSub:
			sub, err := parseAt(part.src, part.srcPos, false)
			if err != nil {
				return nil, err
			}
			es.Parts = append(es.Parts, &SubExpr{Pos: part.pos, Stmts: sub.Stmts})
		default:
			es.Parts = append(es.Parts, &StringLit{Pos: t.pos, Value: part.lit})
		}
	}
	return es, nil
}

// parseFilter re-reads a -Filter script block, where bare words are
// property names: {PinPolicy -eq $Null}.
func parseFilter(sb *ScriptBlock) (Expr, error) {
	s, err := parseAt(sb.Src, sb.Inner, true)
	if err != nil {
		return nil, err
	}
	if len(s.Stmts) != 1 {
		return nil, errAt(sb.Pos, "a -Filter script block holds one condition, such as {PinPolicy -eq $Null}")
	}
	ps, ok := s.Stmts[0].(*PipelineStmt)
	if !ok || len(ps.P.Elems) != 1 {
		return nil, errAt(sb.Pos, "a -Filter script block holds one condition, such as {PinPolicy -eq $Null}")
	}
	return ps.P.Elems[0].(Expr), nil
}
