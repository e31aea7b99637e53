package pslang

// Pos is a place in PowerShell source: Line and Col count from 1, Col in
// bytes, as lang.Position does.
type Pos struct{ Line, Col int }

// Node is any node of the syntax tree.
type Node interface{ At() Pos }

// Stmt is a statement.
type Stmt interface {
	Node
	stmt()
}

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// Script is a whole input: a file, a -c line, a prompt entry.
type Script struct {
	Stmts []Stmt
}

// PipelineStmt is a pipeline used as a statement: its output is the
// statement's output.
type PipelineStmt struct {
	P *Pipeline
}

// AssignStmt is $x = pipeline, $x.Prop = pipeline, $x += pipeline.
type AssignStmt struct {
	Pos    Pos
	Target Expr   // *Var or *Member
	Op     string // "=", "+=", "-="
	Value  *Pipeline
}

// IfStmt is if (c) {..} elseif (c) {..} else {..}.
type IfStmt struct {
	Pos   Pos
	Conds []*Pipeline
	Then  [][]Stmt
	Else  []Stmt // nil without else
}

// ForeachStmt is foreach ($v in pipeline) {..}.
type ForeachStmt struct {
	Pos  Pos
	Var  *Var
	In   *Pipeline
	Body []Stmt
}

// TryStmt is try {..} catch {..}.
type TryStmt struct {
	Pos   Pos
	Body  []Stmt
	Catch []Stmt
}

// FlowStmt is break, continue, return [pipeline] or throw [pipeline].
type FlowStmt struct {
	Pos   Pos
	Word  string
	Value *Pipeline // may be nil
}

// Pipeline is one or more elements joined by |. Only the first element may
// be an expression; the others are commands.
type Pipeline struct {
	Pos   Pos
	Elems []Node // *Command or Expr
}

// Command is a cmdlet call: its name and its arguments as written.
type Command struct {
	Pos  Pos
	Name string
	Args []Arg
}

// Arg is one argument of a command: a parameter name (-Identity), a
// parameter with its value after a colon (-Confirm:$false), or a value.
type Arg struct {
	Pos   Pos
	Param string // without the dash; "" for a value
	Colon bool   // -Param:value
	Value Expr   // nil for a parameter without a colon value
}

// Binary is a binary operator: -eq ..., -and, -or, +, -, *, /, %.
type Binary struct {
	Pos  Pos
	Op   string // lower case: "-eq", "-and", "+"
	L, R Expr
}

// Unary is -not, ! or a minus.
type Unary struct {
	Pos Pos
	Op  string // "-not", "!", "-"
	X   Expr
}

// Var is $name; Name as written, without the $.
type Var struct {
	Pos  Pos
	Name string
}

// Member is X.Name.
type Member struct {
	Pos  Pos
	X    Expr
	Name string
}

// Method is X.Name(args).
type Method struct {
	Pos  Pos
	X    Expr
	Name string
	Args []Expr
}

// Index is X[I].
type Index struct {
	Pos  Pos
	X, I Expr
}

// StringLit is a single-quoted string, or a double-quoted one with nothing
// to expand, or a bare word used as a command argument.
type StringLit struct {
	Pos   Pos
	Value string
	Bare  bool // a bare word
}

// ExpandString is a double-quoted string with $var or $(...) inside.
type ExpandString struct {
	Pos   Pos
	Parts []Expr // *StringLit pieces and expressions
}

// Number is an integer or decimal literal.
type Number struct {
	Pos  Pos
	Text string
}

// Paren is (pipeline).
type Paren struct {
	Pos Pos
	P   *Pipeline
}

// SubExpr is $(statements) or @(statements).
type SubExpr struct {
	Pos   Pos
	Array bool // @( )
	Stmts []Stmt
}

// ArrayLit is a, b, c.
type ArrayLit struct {
	Pos   Pos
	Items []Expr
}

// HashLit is @{ key = value; ... }.
type HashLit struct {
	Pos    Pos
	Keys   []string
	Values []Expr
}

// ScriptBlock is { statements }.
type ScriptBlock struct {
	Pos   Pos
	Stmts []Stmt
	Src   string // the text between the braces, for -Filter
	Inner Pos    // where Src starts
}

// PropRef is a bare property name in a -Filter script block
// ({PinPolicy -eq $Null}): a property of the object being filtered.
type PropRef struct {
	Pos  Pos
	Name string
}

func (s *PipelineStmt) At() Pos { return s.P.Pos }
func (s *AssignStmt) At() Pos   { return s.Pos }
func (s *IfStmt) At() Pos       { return s.Pos }
func (s *ForeachStmt) At() Pos  { return s.Pos }
func (s *TryStmt) At() Pos      { return s.Pos }
func (s *FlowStmt) At() Pos     { return s.Pos }
func (p *Pipeline) At() Pos     { return p.Pos }
func (c *Command) At() Pos      { return c.Pos }
func (e *Binary) At() Pos       { return e.Pos }
func (e *Unary) At() Pos        { return e.Pos }
func (e *Var) At() Pos          { return e.Pos }
func (e *Member) At() Pos       { return e.Pos }
func (e *Method) At() Pos       { return e.Pos }
func (e *Index) At() Pos        { return e.Pos }
func (e *StringLit) At() Pos    { return e.Pos }
func (e *ExpandString) At() Pos { return e.Pos }
func (e *Number) At() Pos       { return e.Pos }
func (e *Paren) At() Pos        { return e.Pos }
func (e *SubExpr) At() Pos      { return e.Pos }
func (e *ArrayLit) At() Pos     { return e.Pos }
func (e *HashLit) At() Pos      { return e.Pos }
func (e *ScriptBlock) At() Pos  { return e.Pos }
func (e *PropRef) At() Pos      { return e.Pos }

func (*PipelineStmt) stmt() {}
func (*AssignStmt) stmt()   {}
func (*IfStmt) stmt()       {}
func (*ForeachStmt) stmt()  {}
func (*TryStmt) stmt()      {}
func (*FlowStmt) stmt()     {}

func (*Binary) expr()       {}
func (*Unary) expr()        {}
func (*Var) expr()          {}
func (*Member) expr()       {}
func (*Method) expr()       {}
func (*Index) expr()        {}
func (*StringLit) expr()    {}
func (*ExpandString) expr() {}
func (*Number) expr()       {}
func (*Paren) expr()        {}
func (*SubExpr) expr()      {}
func (*ArrayLit) expr()     {}
func (*HashLit) expr()      {}
func (*ScriptBlock) expr()  {}
func (*PropRef) expr()      {}
