package pslang

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pinsh/pinsh/lang"
)

// Translator turns PowerShell into Tengo that calls the builtins. One
// Translator serves a prompt session: it remembers the variables earlier
// inputs set, as the Tengo session remembers their values.
type Translator struct {
	builtins []*lang.Builtin
	fields   map[string]string // normalized property name -> field name
	known    map[string]bool   // Tengo names of variables set by earlier inputs
	names    map[string]bool   // global names a variable must not take
}

// NewTranslator returns a Translator for the builtins of a session (their
// Cmdlets name the PowerShell commands they stand for).
func NewTranslator(list []*lang.Builtin) *Translator {
	t := &Translator{builtins: list, fields: map[string]string{}, known: map[string]bool{}, names: map[string]bool{}}
	for _, b := range list {
		t.names[b.Name] = true
	}
	for _, f := range knownFields(list) {
		t.fields[normName(f)] = f
	}
	return t
}

// Translation is the Tengo form of a PowerShell input, with what is needed
// to report its errors at PowerShell positions.
type Translation struct {
	File  string
	PS    string // the PowerShell source
	Tengo string
	lines []Pos // PowerShell position of each Tengo line (index: line-1)
	// declared are the variables the input declares, which later inputs
	// of the session see once it has run.
	declared []string
}

// psLine returns line n (from 1) of the PowerShell source, or "".
func (tr *Translation) psLine(n int) string {
	lines := strings.Split(tr.PS, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// line is one line of Tengo output and the PowerShell position it comes from.
type line struct {
	pos  Pos
	text string
}

// tr is the state of one translation.
type tr struct {
	t        *Translator
	file     string
	assigned map[string]bool // Tengo names assigned anywhere in the input
	declared map[string]bool // Tengo names declared so far
	hoist    []line          // declarations to put first
	needFmt  bool
	inMemory map[string]bool // variables holding New-CsPinPolicy -InMemory
	blocks   int             // nesting of script blocks ($_ is set inside)
	catches  int             // nesting of catch blocks ($_ is the error)
	nested   int             // nesting of if/foreach/try bodies
	feeds    string          // the mutating cmdlet a comparison's result feeds, or ""
	funcs    int             // nesting of Tengo functions (script blocks, try bodies)
}

// Translate translates one input named file. Anything it cannot translate
// faithfully is an error at its PowerShell position; nothing is guessed.
func (t *Translator) Translate(file, src string) (*Translation, error) {
	s, err := Parse(src)
	if err != nil {
		return nil, err
	}
	x := &tr{t: t, file: file, assigned: map[string]bool{}, declared: map[string]bool{}, inMemory: map[string]bool{}}
	for k := range t.known {
		x.declared[k] = true
	}
	collectAssigned(s.Stmts, x)
	body, err := x.stmts(s.Stmts, true)
	if err != nil {
		return nil, err
	}
	var all []line
	if x.needFmt {
		all = append(all, line{Pos{1, 1}, `fmt := import("fmt")`})
	}
	all = append(all, x.hoist...)
	all = append(all, body...)
	out := &Translation{File: file, PS: src}
	var b strings.Builder
	for _, l := range all {
		b.WriteString(l.text)
		b.WriteByte('\n')
		out.lines = append(out.lines, l.pos)
	}
	out.Tengo = b.String()
	out.declared = sortedKeys(x.declared)
	return out, nil
}

func collectAssigned(stmts []Stmt, x *tr) {
	for _, s := range stmts {
		switch s := s.(type) {
		case *AssignStmt:
			if v, ok := s.Target.(*Var); ok {
				x.assigned[x.varName(v.Name)] = true
			}
			collectPipeline(s.Value, x)
		case *PipelineStmt:
			collectPipeline(s.P, x)
		case *IfStmt:
			for _, b := range s.Then {
				collectAssigned(b, x)
			}
			collectAssigned(s.Else, x)
		case *ForeachStmt:
			x.assigned[x.varName(s.Var.Name)] = true
			collectAssigned(s.Body, x)
		case *TryStmt:
			collectAssigned(s.Body, x)
			collectAssigned(s.Catch, x)
		}
	}
}

// collectPipeline finds assignments inside script blocks of a pipeline.
func collectPipeline(p *Pipeline, x *tr) {
	for _, e := range p.Elems {
		if c, ok := e.(*Command); ok {
			for _, a := range c.Args {
				if sb, ok := a.Value.(*ScriptBlock); ok {
					collectAssigned(sb.Stmts, x)
				}
			}
		}
	}
}

var tengoReserved = map[string]bool{
	"break": true, "continue": true, "else": true, "for": true, "func": true, "error": true, "immutable": true,
	"if": true, "return": true, "export": true, "true": true, "false": true, "in": true, "undefined": true,
	"import": true, "psitem": true, "fmt": true, "args": true, "out": true,
}

// varName is the Tengo name of a PowerShell variable: lower case (PowerShell
// variables ignore case), with a _ added when it would be a keyword or a
// builtin's name.
func (x *tr) varName(name string) string {
	n := strings.ToLower(name)
	if tengoReserved[n] || x.t.names[n] || strings.HasPrefix(n, "ps_") {
		return n + "_"
	}
	return n
}

func (x *tr) errf(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// stmts translates a list of statements; top says they are the input's own
// (not inside a block), where a first assignment declares its variable.
func (x *tr) stmts(list []Stmt, top bool) ([]line, error) {
	var out []line
	for _, s := range list {
		ls, err := x.stmt(s, top)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

func (x *tr) stmt(s Stmt, top bool) ([]line, error) {
	switch s := s.(type) {
	case *PipelineStmt:
		return x.pipelineStmt(s.P)
	case *AssignStmt:
		return x.assign(s, top)
	case *IfStmt:
		return x.ifStmt(s)
	case *ForeachStmt:
		return x.foreach(s)
	case *TryStmt:
		return x.try(s)
	case *FlowStmt:
		return x.flow(s)
	}
	return nil, x.errf(s.At(), "internal error: unknown statement %T", s)
}

// pipelineStmt puts each stage of a statement's pipeline on its own line,
// so that an error of a stage is reported at its PowerShell command.
func (x *tr) pipelineStmt(p *Pipeline) ([]line, error) {
	if x.funcs > 0 {
		e, err := x.pipeline(p)
		if err != nil {
			return nil, err
		}
		return []line{{p.Pos, "out = ps_emit(out, " + e + ")"}}, nil
	}
	if c, ok := p.Elems[0].(*Command); ok && len(p.Elems) == 1 && strings.EqualFold(c.Name, "Write-Host") {
		e, err := x.command(c, nil, false)
		if err != nil {
			return nil, err
		}
		return []line{{p.Pos, e}}, nil
	}
	parts, err := x.stages(p)
	if err != nil {
		return nil, err
	}
	// PowerShell shows the output of every statement, a list one item per
	// line: ps_show does, in a Tengo script as at the prompt, so that the
	// translation run as a script shows what pinsh --ps shows. A stream
	// needs no ps_show: a script prints it as the prompt does.
	show := !x.streams(parts)
	var out []line
	for i, s := range parts {
		text := s.text
		if i == 0 && show {
			text = "ps_show(" + text
		}
		if i < len(parts)-1 {
			text += " |"
		} else if show {
			text += ")"
		}
		out = append(out, line{s.pos, text})
	}
	return out, nil
}

// streams reports whether the stages of a statement make a stream or a
// view, which a Tengo script prints as the prompt does: a source called
// without an identity (get_users(), get_users({ou: ...})), then stages or
// a format_* view only. A call on an identity may make one record, which a
// script would not print.
func (x *tr) streams(parts []line) bool {
	for i, p := range parts {
		name, args, _ := strings.Cut(p.text, "(")
		b := lang.ByName(x.t.builtins, name)
		switch {
		case b == nil:
			return false
		case i == 0:
			if b.Kind != lang.Source || !strings.HasPrefix(args, ")") && !strings.HasPrefix(args, "{") {
				return false
			}
		case b.Kind != lang.Stage && name != "format_table" && name != "format_list":
			return false
		}
	}
	return true
}

// pipeline translates a pipeline into one Tengo expression.
func (x *tr) pipeline(p *Pipeline) (string, error) {
	parts, err := x.stages(p)
	if err != nil {
		return "", err
	}
	texts := make([]string, len(parts))
	for i, s := range parts {
		texts[i] = s.text
	}
	if len(texts) == 1 {
		return texts[0], nil
	}
	return strings.Join(texts, " | "), nil
}

// stages translates each element of a pipeline. A command may become
// more than one stage (Get-CsUser -Filter is get_users() | where(...)).
func (x *tr) stages(p *Pipeline) ([]line, error) {
	if last, ok := p.Elems[len(p.Elems)-1].(*Command); ok && strings.EqualFold(last.Name, "Out-Null") && len(p.Elems) > 1 {
		if len(last.Args) > 0 {
			return nil, x.errf(last.Pos, "Out-Null takes no parameters")
		}
		v, err := x.pipeline(&Pipeline{Pos: p.Pos, Elems: p.Elems[:len(p.Elems)-1]})
		if err != nil {
			return nil, err
		}
		return []line{{p.Pos, "ps_null(" + v + ")"}}, nil
	}
	if last, ok := p.Elems[len(p.Elems)-1].(*Command); ok && isAssert(last.Name) {
		input := ""
		if len(p.Elems) > 1 {
			v, err := x.value(&Pipeline{Pos: p.Pos, Elems: p.Elems[:len(p.Elems)-1]})
			if err != nil {
				return nil, err
			}
			input = v
		}
		a, err := x.assertion(last, input)
		if err != nil {
			return nil, err
		}
		return []line{{p.Pos, a}}, nil
	}
	var out []line
	for i, el := range p.Elems {
		var text string
		var err error
		switch el := el.(type) {
		case *Command:
			prev := x.feeds
			if x.feeds == "" {
				x.feeds = mutatingAfter(x.t, p.Elems[i+1:])
			}
			text, err = x.command(el, p.Elems[:i], i > 0)
			x.feeds = prev
		case Expr:
			text, err = x.expr(el)
		}
		if err != nil {
			return nil, err
		}
		if text == "" && i > 0 {
			continue // a command that changes nothing (Out-Host)
		}
		out = append(out, line{el.At(), text})
	}
	return out, nil
}

func (x *tr) assign(s *AssignStmt, top bool) ([]line, error) {
	v, err := x.value(s.Value)
	if err != nil {
		return nil, err
	}
	switch t := s.Target.(type) {
	case *Var:
		name := x.varName(t.Name)
		if c, ok := s.Value.Elems[0].(*Command); ok && len(s.Value.Elems) == 1 && isInMemory(c) {
			x.inMemory[name] = true
		}
		switch s.Op {
		case "+=":
			if !x.declared[name] {
				return nil, x.errf(t.Pos, "$%s is not set before +=; set it first ($%s = @() or $%s = 0)", t.Name, t.Name, t.Name)
			}
			return []line{{s.Pos, name + " = ps_plus(" + name + ", " + v + ")"}}, nil
		case "-=":
			if !x.declared[name] {
				return nil, x.errf(t.Pos, "$%s is not set before -=; set it first", t.Name)
			}
			return []line{{s.Pos, name + " = " + name + " - " + v}}, nil
		}
		if !x.declared[name] {
			x.declared[name] = true
			if top && x.funcs == 0 && x.nested == 0 {
				return []line{{s.Pos, name + " := " + v}}, nil
			}
			x.hoist = append(x.hoist, line{s.Pos, name + " := undefined"})
		}
		return []line{{s.Pos, name + " = " + v}}, nil
	case *Member:
		base := t.X.(*Var)
		name := x.varName(base.Name)
		if !x.declared[name] {
			return nil, x.errf(base.Pos, "$%s is not set before its property is assigned; set it first", base.Name)
		}
		if s.Op != "=" {
			cur := "ps_prop(" + name + ", " + strconv.Quote(t.Name) + ")"
			if s.Op == "+=" {
				v = "ps_plus(" + cur + ", " + v + ")"
			} else {
				v = cur + " - " + v
			}
		}
		return []line{{s.Pos, name + " = ps_set(" + name + ", " + strconv.Quote(x.fieldName(t.Name)) + ", " + v + ")"}}, nil
	}
	return nil, x.errf(s.Pos, "only a variable or its property can be assigned")
}

// value translates the right side of an assignment or a condition: a
// pipeline with commands gives PowerShell's value (nothing, one object, or
// an array) through ps_value; a plain expression is itself.
func (x *tr) value(p *Pipeline) (string, error) {
	e, err := x.pipeline(p)
	if err != nil {
		return "", err
	}
	if _, ok := p.Elems[0].(*Command); ok || len(p.Elems) > 1 {
		if c, ok := p.Elems[0].(*Command); ok && len(p.Elems) == 1 && (isInMemory(c) || isPlainValue(c)) {
			return e, nil
		}
		return "ps_value(" + e + ")", nil
	}
	return e, nil
}

func (x *tr) block(list []Stmt) ([]line, error) {
	x.nested++
	defer func() { x.nested-- }()
	ls, err := x.stmts(list, false)
	if err != nil {
		return nil, err
	}
	for i := range ls {
		ls[i].text = "\t" + ls[i].text
	}
	return ls, nil
}

func (x *tr) ifStmt(s *IfStmt) ([]line, error) {
	var out []line
	for i, c := range s.Conds {
		prev := x.feeds
		if x.feeds == "" {
			x.feeds = mutatingIn(x.t, s.Then[i])
		}
		cond, err := x.value(c)
		x.feeds = prev
		if err != nil {
			return nil, err
		}
		head := "if " + cond + " {"
		if i > 0 {
			out[len(out)-1].text = strings.TrimSuffix(out[len(out)-1].text, "}") + "} else if " + cond + " {"
		} else {
			out = append(out, line{s.Pos, head})
		}
		body, err := x.block(s.Then[i])
		if err != nil {
			return nil, err
		}
		out = append(out, body...)
		out = append(out, line{c.Pos, "}"})
	}
	if s.Else != nil {
		out[len(out)-1].text = "} else {"
		body, err := x.block(s.Else)
		if err != nil {
			return nil, err
		}
		out = append(out, body...)
		out = append(out, line{s.Pos, "}"})
	}
	return out, nil
}

func (x *tr) foreach(s *ForeachStmt) ([]line, error) {
	in, err := x.pipeline(s.In)
	if err != nil {
		return nil, err
	}
	name := x.varName(s.Var.Name)
	declared := x.declared[name]
	x.declared[name] = true
	body, err := x.block(s.Body)
	if err != nil {
		return nil, err
	}
	if !declared {
		// The loop variable lives in the loop in Tengo; a read after the
		// loop finds it hoisted (undefined), not the last item.
		delete(x.declared, name)
	}
	out := []line{{s.Pos, "for " + name + " in ps_array(" + in + ") {"}}
	out = append(out, body...)
	return append(out, line{s.Pos, "}"}), nil
}

func (x *tr) try(s *TryStmt) ([]line, error) {
	if err := noFlow(s.Body); err != nil {
		return nil, err
	}
	x.funcs++
	x.nested++
	body, err := x.stmts(s.Body, false)
	x.funcs--
	x.nested--
	if err != nil {
		return nil, err
	}
	x.catches++
	catch, err := x.block(s.Catch)
	x.catches--
	if err != nil {
		return nil, err
	}
	out := []line{{s.Pos, "ps_r := try(func() {"}, {s.Pos, "\tout := []"}}
	for _, l := range body {
		out = append(out, line{l.pos, "\t" + l.text})
	}
	out = append(out, line{s.Pos, "\treturn out"}, line{s.Pos, "})"})
	if x.funcs == 0 {
		out = append(out, line{s.Pos, "if !is_error(ps_r) { ps_show(ps_r) }"})
	} else {
		out = append(out, line{s.Pos, "if !is_error(ps_r) { out = ps_emit(out, ps_r) }"})
	}
	out = append(out, line{s.Pos, "if is_error(ps_r) {"}, line{s.Pos, "\tpsitem := ps_error(ps_r)"})
	out = append(out, catch...)
	return append(out, line{s.Pos, "}"}), nil
}

func noFlow(list []Stmt) error {
	for _, s := range list {
		switch s := s.(type) {
		case *FlowStmt:
			if s.Word != "throw" {
				return &SyntaxError{Pos: s.Pos, Msg: s.Word + " inside try { } is not in pinsh's PowerShell; set a variable in the try and test it after the try/catch"}
			}
		case *IfStmt:
			for _, b := range s.Then {
				if err := noFlow(b); err != nil {
					return err
				}
			}
			if err := noFlow(s.Else); err != nil {
				return err
			}
		case *TryStmt:
			if err := noFlow(s.Body); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *tr) flow(s *FlowStmt) ([]line, error) {
	switch s.Word {
	case "break", "continue":
		if x.nested == 0 {
			return nil, x.errf(s.Pos, "%s outside a foreach loop; it ends only a loop here", s.Word)
		}
		return []line{{s.Pos, s.Word}}, nil
	case "throw":
		msg := `"ScriptHalted"`
		if s.Value != nil {
			v, err := x.pipeline(s.Value)
			if err != nil {
				return nil, err
			}
			msg = v
		}
		return []line{{s.Pos, "ps_throw(" + msg + ")"}}, nil
	}
	// return
	if x.funcs == 0 {
		return nil, x.errf(s.Pos, "return outside a script block ends nothing in pinsh's PowerShell; to stop a script, throw \"message\"")
	}
	if s.Value == nil {
		return []line{{s.Pos, "return out"}}, nil
	}
	v, err := x.pipeline(s.Value)
	if err != nil {
		return nil, err
	}
	return []line{{s.Pos, "return ps_emit(out, " + v + ")"}}, nil
}

// inline joins lines into one, for a function body inside an expression.
func inline(ls []line) string {
	var b strings.Builder
	for i, l := range ls {
		t := strings.TrimLeft(l.text, "\t")
		if i > 0 {
			prev := strings.TrimLeft(ls[i-1].text, "\t")
			if strings.HasSuffix(prev, "{") || strings.HasPrefix(t, "}") || strings.HasSuffix(prev, "|") {
				b.WriteByte(' ')
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(t)
	}
	return b.String()
}

// scriptBlock translates { ... } into a function of the pipeline item
// ($_). A block of one expression returns it; a longer one returns what
// its statements output, as PowerShell collects it.
func (x *tr) scriptBlock(sb *ScriptBlock) (string, error) {
	x.blocks++
	defer func() { x.blocks-- }()
	if len(sb.Stmts) == 1 {
		if ps, ok := sb.Stmts[0].(*PipelineStmt); ok {
			if c, ok := ps.P.Elems[0].(*Command); !ok || !isWrite(c.Name) {
				prev := x.funcs
				x.funcs = 0
				e, err := x.pipeline(ps.P)
				x.funcs = prev
				if err != nil {
					return "", err
				}
				return "func(psitem) { return " + e + " }", nil
			}
		}
	}
	x.funcs++
	x.nested++
	body, err := x.stmts(sb.Stmts, false)
	x.funcs--
	x.nested--
	if err != nil {
		return "", err
	}
	if len(body) == 0 {
		return "func(psitem) { return [] }", nil
	}
	return "func(psitem) { out := []; " + inline(body) + "; return out }", nil
}

func (x *tr) exprs(list []Expr) ([]string, error) {
	out := make([]string, len(list))
	for i, e := range list {
		s, err := x.expr(e)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func (x *tr) expr(e Expr) (string, error) {
	switch e := e.(type) {
	case *Number:
		return strings.TrimPrefix(e.Text, "+"), nil
	case *StringLit:
		return strconv.Quote(e.Value), nil
	case *ExpandString:
		var parts []string
		for _, p := range e.Parts {
			if s, ok := p.(*StringLit); ok {
				parts = append(parts, strconv.Quote(s.Value))
				continue
			}
			v, err := x.expr(p)
			if err != nil {
				return "", err
			}
			parts = append(parts, "ps_str("+v+")")
		}
		if len(parts) == 1 {
			if strings.HasPrefix(parts[0], "ps_str(") {
				return parts[0], nil
			}
		}
		if !strings.HasPrefix(parts[0], `"`) {
			parts = append([]string{`""`}, parts...)
		}
		return strings.Join(parts, " + "), nil
	case *Var:
		return x.variable(e)
	case *Member:
		base, err := x.expr(e.X)
		if err != nil {
			return "", err
		}
		f := x.fieldName(e.Name)
		if f != e.Name || isLowerIdent(f) {
			if _, known := x.t.fields[normName(e.Name)]; known {
				return base + "." + f, nil
			}
		}
		return "ps_prop(" + base + ", " + strconv.Quote(e.Name) + ")", nil
	case *Method:
		return x.method(e)
	case *Index:
		xs, err := x.expr(e.X)
		if err != nil {
			return "", err
		}
		is, err := x.expr(e.I)
		if err != nil {
			return "", err
		}
		return "ps_index(" + xs + ", " + is + ")", nil
	case *Paren:
		v, err := x.pipeline(e.P)
		if err != nil {
			return "", err
		}
		// (Get-CsUser X) is the command's output, as a value: one object,
		// or an array; (Get-Date) is one already.
		if c, ok := e.P.Elems[0].(*Command); ok || len(e.P.Elems) > 1 {
			if !ok || !isPlainValue(c) || len(e.P.Elems) > 1 {
				return "ps_value(" + v + ")", nil
			}
		}
		return "(" + v + ")", nil
	case *SubExpr:
		if len(e.Stmts) == 1 {
			if ps, ok := e.Stmts[0].(*PipelineStmt); ok {
				v, err := x.pipeline(ps.P)
				if err != nil {
					return "", err
				}
				if e.Array {
					return "ps_array(" + v + ")", nil
				}
				return "ps_value(" + v + ")", nil
			}
		}
		if len(e.Stmts) == 0 {
			if e.Array {
				return "[]", nil
			}
			return "undefined", nil
		}
		x.funcs++
		x.nested++
		body, err := x.stmts(e.Stmts, false)
		x.funcs--
		x.nested--
		if err != nil {
			return "", err
		}
		wrap := "ps_value"
		if e.Array {
			wrap = "ps_array"
		}
		return wrap + "(func() { out := []; " + inline(body) + "; return out }())", nil
	case *ArrayLit:
		items, err := x.exprs(e.Items)
		if err != nil {
			return "", err
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case *HashLit:
		var kv []string
		for i, k := range e.Keys {
			v, err := x.expr(e.Values[i])
			if err != nil {
				return "", err
			}
			if _, isSB := e.Values[i].(*ScriptBlock); isSB {
				return "", x.errf(e.Values[i].At(), "a script block in a hashtable (a calculated property) is not in pinsh's PowerShell; select the properties by name")
			}
			f := x.fieldName(k)
			if !isLowerIdent(f) {
				f = strconv.Quote(f)
			}
			kv = append(kv, f+": "+v)
		}
		return "{" + strings.Join(kv, ", ") + "}", nil
	case *ScriptBlock:
		return x.scriptBlock(e)
	case *PropRef:
		return x.expr(&Member{Pos: e.Pos, X: &Var{Pos: e.Pos, Name: "_"}, Name: e.Name})
	case *Unary:
		v, err := x.expr(e.X)
		if err != nil {
			return "", err
		}
		if e.Op == "-" {
			return "-" + v, nil
		}
		if isBool(e.X) {
			return "!" + v, nil
		}
		return "!ps_bool(" + v + ")", nil
	case *Binary:
		return x.binary(e)
	}
	return "", x.errf(e.At(), "internal error: unknown expression %T", e)
}

func isLowerIdent(s string) bool {
	if s == "" || tengoReserved[s] {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (x *tr) variable(v *Var) (string, error) {
	switch strings.ToLower(v.Name) {
	case "true":
		return "true", nil
	case "false":
		return "false", nil
	case "null":
		return "undefined", nil
	case "_", "psitem":
		if x.blocks == 0 && x.catches == 0 {
			return "", x.errf(v.Pos, "$%s is set only inside a script block of Where-Object or ForEach-Object, or in catch { }", v.Name)
		}
		return "psitem", nil
	case "error":
		return "last_errors()", nil
	case "args":
		return "args", nil
	}
	name := x.varName(v.Name)
	if !x.declared[name] && !x.assigned[name] {
		return "", x.errf(v.Pos, "$%s is never set in this script (PowerShell would read $null); set it first, or check its spelling", v.Name)
	}
	if !x.declared[name] {
		x.declared[name] = true
		x.hoist = append(x.hoist, line{v.Pos, name + " := undefined"})
	}
	return name, nil
}

var methods = map[string]bool{
	"adddays": true, "addhours": true, "addminutes": true, "addseconds": true, "tostring": true,
	"tolower": true, "toupper": true, "trim": true, "startswith": true, "endswith": true, "contains": true,
}

func (x *tr) method(m *Method) (string, error) {
	if !methods[strings.ToLower(m.Name)] {
		return "", x.errf(m.Pos, "the method .%s() is not in pinsh's PowerShell; the methods are .AddDays() .AddHours() .AddMinutes() .AddSeconds() .ToString() .ToLower() .ToUpper() .Trim() .StartsWith() .EndsWith() .Contains()", m.Name)
	}
	recv, err := x.expr(m.X)
	if err != nil {
		return "", err
	}
	args, err := x.exprs(m.Args)
	if err != nil {
		return "", err
	}
	all := append([]string{recv, strconv.Quote(m.Name)}, args...)
	return "ps_method(" + strings.Join(all, ", ") + ")", nil
}

func isNullLit(e Expr) bool {
	v, ok := e.(*Var)
	return ok && strings.EqualFold(v.Name, "null")
}

func (x *tr) binary(e *Binary) (string, error) {
	l, err := x.expr(e.L)
	if err != nil {
		return "", err
	}
	r, err := x.expr(e.R)
	if err != nil {
		return "", err
	}
	switch e.Op {
	case "-and":
		return "(" + boolOf(e.L, l) + " && " + boolOf(e.R, r) + ")", nil
	case "-or":
		return "(" + boolOf(e.L, l) + " || " + boolOf(e.R, r) + ")", nil
	case "-xor":
		return "(" + boolOf(e.L, l) + " != " + boolOf(e.R, r) + ")", nil
	case "+":
		return "ps_plus(" + l + ", " + r + ")", nil
	case "-", "*", "/", "%":
		return "(" + l + " " + e.Op + " " + r + ")", nil
	}
	args := l + ", " + strconv.Quote(e.Op) + ", " + r
	if x.feeds != "" && !isNullLit(e.L) && !isNullLit(e.R) {
		args += fmt.Sprintf(", {at: %q, left: %q, right: %q, feeds: %q}",
			fmt.Sprintf("%s:%d:%d", x.file, e.Pos.Line, e.Pos.Col), psText(e.L), psText(e.R), x.feeds)
	}
	return "ps_op(" + args + ")", nil
}

// isBool reports whether e is sure to be $true or $false: a comparison, a
// logical operator, or a literal; PowerShell's truth of anything else is
// ps_bool's.
func isBool(e Expr) bool {
	switch e := e.(type) {
	case *Binary:
		return strings.HasPrefix(e.Op, "-") && e.Op != "-"
	case *Unary:
		return e.Op != "-"
	case *Var:
		n := strings.ToLower(e.Name)
		return n == "true" || n == "false"
	case *Paren:
		if len(e.P.Elems) == 1 {
			if x, ok := e.P.Elems[0].(Expr); ok {
				return isBool(x)
			}
		}
	}
	return false
}

// boolOf is the Tengo t of e as $true or $false.
func boolOf(e Expr, t string) string {
	if isBool(e) {
		return t
	}
	return "ps_bool(" + t + ")"
}

// psText writes an expression back as PowerShell, for messages.
func psText(e Expr) string {
	switch e := e.(type) {
	case *Var:
		return "$" + e.Name
	case *Member:
		return psText(e.X) + "." + e.Name
	case *Method:
		var a []string
		for _, x := range e.Args {
			a = append(a, psText(x))
		}
		return psText(e.X) + "." + e.Name + "(" + strings.Join(a, ", ") + ")"
	case *Number:
		return e.Text
	case *StringLit:
		return "'" + strings.ReplaceAll(e.Value, "'", "''") + "'"
	case *Paren:
		var a []string
		for _, el := range e.P.Elems {
			if c, ok := el.(*Command); ok {
				a = append(a, c.Name)
			} else {
				a = append(a, psText(el.(Expr)))
			}
		}
		return "(" + strings.Join(a, " | ") + ")"
	case *PropRef:
		return e.Name
	}
	return "the value"
}

// fieldName maps a PowerShell property name to the field of pinsh's
// records it names (IsPinSet -> is_pin_set, ignoring case), or returns it
// as written when no record has such a field.
func (x *tr) fieldName(name string) string {
	if f, ok := x.t.fields[normName(name)]; ok {
		return f
	}
	return name
}

// normName folds a property name for matching: lower case, without _ or -.
func normName(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "_", "")
	return strings.ReplaceAll(s, "-", "")
}

// mutatingAfter returns the name of the first mutating cmdlet among els,
// or of one inside a ForEach-Object block among them, or "".
func mutatingAfter(t *Translator, els []Node) string {
	for _, el := range els {
		c, ok := el.(*Command)
		if !ok {
			continue
		}
		if isMutating(t, c.Name) {
			return c.Name
		}
		for _, a := range c.Args {
			if sb, ok := a.Value.(*ScriptBlock); ok {
				if m := mutatingIn(t, sb.Stmts); m != "" {
					return m
				}
			}
		}
	}
	return ""
}

// mutatingIn returns the name of a mutating cmdlet called in stmts, or "".
func mutatingIn(t *Translator, stmts []Stmt) string {
	for _, s := range stmts {
		var m string
		switch s := s.(type) {
		case *PipelineStmt:
			m = mutatingAfter(t, s.P.Elems)
		case *AssignStmt:
			m = mutatingAfter(t, s.Value.Elems)
		case *IfStmt:
			for _, b := range s.Then {
				if m = mutatingIn(t, b); m != "" {
					break
				}
			}
			if m == "" {
				m = mutatingIn(t, s.Else)
			}
		case *ForeachStmt:
			m = mutatingIn(t, s.Body)
		case *TryStmt:
			m = mutatingIn(t, s.Body)
		}
		if m != "" {
			return m
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
