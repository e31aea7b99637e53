package lang

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/token"
)

// Limits bound what one run may use. Zero fields take the defaults.
type Limits struct {
	// MaxAllocs is the number of objects one VM run may allocate (Tengo's
	// allocation limit; every call of a script function from Go is a run of
	// its own).
	MaxAllocs int64
	// MaxHeap is how many bytes a run may grow the Go heap by (heap objects,
	// including garbage not yet collected, measured from the start of the
	// run) before it is stopped with "memory limit exceeded". It is checked
	// every 10ms, so it bounds runaway growth rather than any single
	// allocation: one huge operation (doubling a 100 MB array) completes
	// before the check sees it.
	MaxHeap uint64
	// MaxCallDepth is how deeply script functions may be nested through Go
	// (a predicate that runs a pipeline whose predicate runs a pipeline...).
	MaxCallDepth int
}

// Default limits.
const (
	DefaultMaxAllocs    = 250_000_000
	DefaultMaxHeap      = 2 << 30
	DefaultMaxCallDepth = 64
)

// String and bytes limits. Tengo keeps them in package variables
// (tengo.MaxStringLen, tengo.MaxBytesLen) shared by every VM in the
// process; this package sets them once, at init, to these values: no string
// or bytes value a script makes can exceed 64 MiB.
const (
	MaxStringLen = 64 << 20
	MaxBytesLen  = 64 << 20
)

func init() {
	tengo.MaxStringLen = MaxStringLen
	tengo.MaxBytesLen = MaxBytesLen
}

// Limits on the shape of source code, which Tengo's recursive parser and
// compiler would otherwise turn into a fatal stack overflow.
const (
	maxSourceLen = 1 << 20
	maxNesting   = 250  // brackets
	maxExprDepth = 1000 // expression nodes, unary chains included
)

// Options configure a Session.
type Options struct {
	Stdout io.Writer // results; nil discards them
	Stderr io.Writer // messages for builtins (Env.Stderr); nil discards them

	// Leftovers, if not nil, is where the values printed at the end of an
	// input because nothing delivered them (see Precious, Schema.Secret)
	// go, with their headers and notes, so that each header is followed by
	// its values; nil means headers and notes go to Stderr and values to
	// Stdout. A caller that captures Stdout and may discard it (a script
	// run by a test) sets it to an output that is kept.
	Leftovers io.Writer

	// Format and Width control how values are printed; see Format. Width is
	// the terminal width that tables are fitted to, or 0 to leave rows
	// unfitted (output that is not a terminal).
	Format Format
	Width  int
	// TermWidth, when set with Width > 0, returns the terminal's width
	// now, which changes when the terminal is resized (SIGWINCH). Printing
	// reads it as it starts, and a table again before each row it prints
	// after its first ones: when the width has changed, the rest of the
	// table is printed as a new one, header and all, fitted to the new
	// width. Without it, every table is fitted to Width.
	TermWidth func() int

	// FormatExplicit is that the user chose Format (pinsh --output)
	// rather than took the default: a View (format_table, format_list)
	// then writes its records as data in JSON, JSONL and CSV. Otherwise a
	// view prints as text in any format: a script that asks for a table
	// prints one, even where the default output is JSON Lines.
	FormatExplicit bool

	// Interactive selects REPL behaviour: every expression statement outside
	// a function prints its value. Otherwise (scripts) only statements whose
	// value is a stream print, in either mode.
	Interactive bool

	// Args is the value of the global `args` (an immutable array of strings).
	Args []string

	// Builtins are the global functions of the language; see Builtin.
	Builtins []*Builtin

	// Now is the clock of the times module (times.now, since, until); nil
	// means time.Now. The builtins pass the same clock to their now().
	Now func() time.Time

	Limits Limits
}

// Global slots with a fixed meaning. Slots whose name starts with ':' cannot
// be named in a script (':' is not an identifier character).
const (
	slotFn        = 0 // Invoke: the function to call
	slotArg0      = 1 // Invoke: its arguments
	maxInvokeArgs = 16
	slotRet       = slotArg0 + maxInvokeArgs // Invoke: its result
	pipeName      = ":pipe"                  // the | operator
	showSomeName  = ":show_some"             // expression statements (rewrite.go)
	showAllName   = ":show_all"              // the same, showing every value
	showName      = ":show"                  // ... whose value is to be shown
	notSelfName   = ":not_self"              // tail calls (rewrite.go)
	undefinedName = ":undefined"             // a literal undefined argument (rewrite.go)
	globalsLen    = 1 << 16                  // every index an instruction can encode
	globalsFirst  = 1 << 10                  // globals a session starts with, as Tengo's VMs
	maxConstants  = 1 << 16
)

type sourceFile struct {
	name string // as given to Eval
	src  string
}

type stopState struct {
	kind  ErrorKind
	msg   string
	cause error
}

var errHeapLimit = errors.New("memory limit exceeded")

// Session is one interpreter: a REPL, or the run of a script. It keeps the
// symbol table, constants and globals across Evals, so an input can use what
// earlier inputs defined, and `x := ...` may redefine a global of an earlier
// input.
//
// A Session is not safe for concurrent use; Eval must not be called from a
// builtin.
type Session struct {
	opts   Options
	env    *Env
	out    *bufio.Writer // Stdout, buffered; shared by the printer, fmt and builtins
	stderr io.Writer     // Stderr; flushes out first, to keep the two in order
	late   *bufio.Writer // Leftovers, buffered, or nil
	limits Limits

	fileSet   *parser.SourceFileSet
	files     []sourceFile
	modules   *tengo.ModuleMap // nil until an input imports a module
	constants []tengo.Object
	globals   []tengo.Object // grown only between runs (see define): VMs hold it
	names     []string       // global index -> name
	index     map[string]int // global name -> index
	protected int            // globals [0, protected) are predefined and read-only

	// run state
	ctx     context.Context
	busy    bool
	stop    atomic.Pointer[stopState]
	running []atomic.Pointer[tengo.VM] // VMs running, outermost first, for abort
	depth   int
	pools   [maxInvokeArgs + 1][]*tengo.VM // idle call VMs by arity
	callers [maxInvokeArgs + 1][]byte      // call VM main functions by arity

	selfCode map[parser.Pos]selfSeen // tail calls (rewrite.go)

	// the value of an expression statement to show, and whether every
	// value is shown (see showTest)
	toShow    tengo.Object
	toShowAll bool

	// precious streams of this input (see Precious): made by it, and
	// pulled during it
	made, pulled []*Stream
}

// NewSession returns a session with the given options. It fails if a builtin
// is malformed (see Builtin) or its name is taken: by another builtin, a
// Tengo builtin function, a keyword, or a name this package defines (args,
// to_map).
func NewSession(opts Options) (*Session, error) {
	s := &Session{
		opts:    opts,
		limits:  opts.Limits,
		fileSet: parser.NewFileSet(),
		globals: make([]tengo.Object, globalsFirst),
		index:   make(map[string]int),

		selfCode: make(map[parser.Pos]selfSeen),
	}
	s.env = &Env{s: s}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	s.out = bufio.NewWriter(stdout)
	s.stderr = flushFirst{s.out, stderr}
	if opts.Leftovers != nil {
		s.late = bufio.NewWriter(opts.Leftovers)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.limits.MaxAllocs <= 0 {
		s.limits.MaxAllocs = DefaultMaxAllocs
	}
	if s.limits.MaxHeap == 0 {
		s.limits.MaxHeap = DefaultMaxHeap
	}
	if s.limits.MaxCallDepth <= 0 {
		s.limits.MaxCallDepth = DefaultMaxCallDepth
	}
	s.running = make([]atomic.Pointer[tengo.VM], s.limits.MaxCallDepth+1)

	s.define(":fn", tengo.UndefinedValue)
	for i := range maxInvokeArgs {
		s.define(":a"+strconv.Itoa(i), tengo.UndefinedValue)
	}
	s.define(":ret", tengo.UndefinedValue)
	// The rewriter calls show with exactly two arguments, and the
	// functions of rewrite.go as they say.
	s.define(pipeName, &tengo.UserFunction{Name: "|", Value: s.pipeOp})
	s.define(showSomeName, &showTest{s: s})
	s.define(showAllName, &showTest{s: s, all: true})
	s.define(showName, &tengo.UserFunction{Name: "show", Value: s.showPending})
	s.define(notSelfName, &tengo.UserFunction{Name: "not_self", Value: s.notSelf})
	s.define(undefinedName, &tengo.UserFunction{Name: "undefined", Value: writtenUndefinedFor})
	// Tengo's builtin functions become read-only globals, some replaced
	// (see langBuiltins): assigning one is then an error rather than a
	// compiler panic.
	replaced := s.langBuiltins()
	for _, f := range tengo.GetAllBuiltinFunctions() {
		if r, ok := replaced[f.Name]; ok {
			f = r
		}
		s.define(f.Name, explainErrorArgs(f))
	}
	s.define("to_map", replaced["to_map"])
	args := make([]tengo.Object, len(opts.Args))
	for i, a := range opts.Args {
		args[i] = &tengo.String{Value: a}
	}
	s.define("args", &tengo.ImmutableArray{Value: args})

	for i, b := range opts.Builtins {
		if err := b.check(); err != nil {
			return nil, err
		}
		if _, taken := s.index[b.Name]; taken {
			return nil, fmt.Errorf("builtin %s: the name is already defined", b.Name)
		}
		if token.Lookup(b.Name) != token.Ident {
			return nil, fmt.Errorf("builtin %s: the name is a keyword", b.Name)
		}
		for _, c := range b.Cmdlets {
			if other := ByCmdlet(opts.Builtins[:i], c); other != nil {
				return nil, fmt.Errorf("builtin %s: cmdlet %s already stands for %s", b.Name, c, other.Name)
			}
		}
		s.define(b.Name, &builtinObj{def: b, env: s.env})
	}
	s.protected = len(s.names)
	return s, nil
}

// flushFirst writes to w after flushing the buffered output, so that what a
// builtin reports on stderr appears after the results printed before it.
type flushFirst struct {
	out *bufio.Writer
	w   io.Writer
}

func (f flushFirst) Write(p []byte) (int, error) {
	f.out.Flush()
	return f.w.Write(p)
}

// lineDone is called when a line of output is complete: at a terminal it
// flushes, so that output shows as it is made rather than at the end.
func (s *Session) lineDone() error {
	if s.opts.Width > 0 {
		return s.out.Flush()
	}
	return nil
}

// define adds the global name with value v. The globals grow as names are
// defined, doubling up to globalsLen, rather than being made that big at the
// start: every collection of the garbage collector marks the whole array,
// and a session that uses a few hundred globals would pay for 65,536 (1 MiB)
// on each. The array is replaced only here, when no VM runs (Eval compiles
// before it runs and refuses to run during a run), and the idle call VMs,
// which hold the old one, are dropped.
func (s *Session) define(name string, v tengo.Object) {
	if len(s.names) == len(s.globals) {
		g := make([]tengo.Object, min(2*len(s.globals), globalsLen))
		copy(g, s.globals)
		s.globals = g
		s.dropCallVMs()
	}
	s.index[name] = len(s.names)
	s.globals[len(s.names)] = v
	s.names = append(s.names, name)
}

// Eval compiles src, named filename in error messages, and runs it. Names it
// defines stay defined for later Evals. A statement whose value is a stream
// prints the stream; in Interactive mode every expression statement prints
// its value.
//
// The returned error is an *Error for compile and runtime errors: Kind
// CompileError if nothing ran; Interrupted or TimedOut if ctx ended the run
// (its cause is in Err). After any error the session stays usable.
func (s *Session) Eval(ctx context.Context, filename string, src []byte) (err error) {
	if s.busy {
		return errors.New("lang: Session.Eval called during a run")
	}
	s.busy = true
	defer func() {
		s.out.Flush()
		s.deliverPrecious(err)
		s.showUndelivered()
		s.busy = false
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	bc, err := s.compile(filename, src)
	if err != nil {
		return err
	}
	return s.run(ctx, bc)
}

// compile parses, rewrites and compiles one input against the session's
// symbols, and commits the new symbols and constants only if it succeeds.
func (s *Session) compile(filename string, src []byte) (bc *tengo.Bytecode, err error) {
	seq := len(s.files)
	s.files = append(s.files, sourceFile{name: filename, src: string(src)})
	file := s.fileSet.AddFile(filename+fileKey+strconv.Itoa(seq), -1, len(src))
	if len(src) > maxSourceLen {
		return nil, &Error{Kind: CompileError, Pos: Position{File: filename},
			Msg: fmt.Sprintf("source is %d bytes, more than the limit of %d", len(src), maxSourceLen)}
	}
	if off, ok := checkNesting(src); !ok {
		// The scanner has not recorded line starts yet: count them here.
		line := 1 + strings.Count(string(src[:off]), "\n")
		col := off - strings.LastIndexByte(string(src[:off]), '\n')
		return nil, &Error{Kind: CompileError, Pos: Position{File: filename, Line: line, Col: col},
			Line: s.sourceLine(file.Name, line),
			Msg:  fmt.Sprintf("brackets nested more than %d deep", maxNesting)}
	}
	defer recoverCompile(filename, &bc, &err)
	ast, err := parser.NewParser(file, src, nil).ParseFile()
	if err != nil {
		return nil, s.compileError(err)
	}
	imports, err := s.rewrite(ast)
	if err != nil {
		return nil, err
	}
	// The modules are made for the first input that imports one: most
	// runs (pinsh -c '...') import none.
	var modules tengo.ModuleGetter // a nil *ModuleMap in it would not be nil
	if imports {
		if s.modules == nil {
			s.modules = s.moduleMap()
		}
		modules = s.modules
	}
	st := tengo.NewSymbolTable()
	c := tengo.NewCompiler(file, st, s.constants, modules, nil)
	for _, name := range s.names { // after NewCompiler, so that they shadow its builtins
		st.Define(name)
	}
	if err := c.Compile(ast); err != nil {
		return nil, s.compileError(err)
	}
	bc = c.Bytecode()
	numGlobals := st.MaxSymbols()
	if len(bc.Constants) > maxConstants || numGlobals > globalsLen {
		return nil, &Error{Kind: CompileError, Pos: Position{File: filename},
			Msg: "this session has compiled more code than a VM can address; start a new session"}
	}
	if err := s.checkProtected(bc, len(s.constants)); err != nil {
		return nil, err
	}

	// Commit. Names of block-scoped globals are not in the root table; they
	// get placeholders that keep their slots.
	byIndex := make(map[int]string)
	for _, name := range st.Names() {
		if sym, _, ok := st.Resolve(name, false); ok && sym.Scope == tengo.ScopeGlobal {
			byIndex[sym.Index] = name
		}
	}
	for i := len(s.names); i < numGlobals; i++ {
		name, ok := byIndex[i]
		if !ok {
			name = ":" + strconv.Itoa(i)
		}
		s.define(name, tengo.UndefinedValue)
	}
	s.constants = bc.Constants
	s.dropCallVMs() // they hold the old constants
	return bc, nil
}

func (s *Session) dropCallVMs() {
	for i := range s.pools {
		s.pools[i] = nil
	}
}

// recoverCompile turns a panic of Tengo's parser or compiler into a compile
// error: a compiler bug must not take the host down. compile defers it.
func recoverCompile(filename string, bc **tengo.Bytecode, err *error) {
	if r := recover(); r != nil {
		*bc, *err = nil, &Error{Kind: CompileError, Pos: Position{File: filename},
			Msg: fmt.Sprintf("internal compiler error: %v", r)}
	}
}

// checkProtected rejects an assignment to a predefined global, which the
// compiler allows (they are ordinary globals to it).
func (s *Session) checkProtected(bc *tengo.Bytecode, oldConstants int) error {
	check := func(fn *tengo.CompiledFunction) error {
		insts := fn.Instructions
		for i := 0; i < len(insts); {
			op := insts[i]
			operands, read := parser.ReadOperands(parser.OpcodeOperands[op], insts[i+1:])
			if op == parser.OpSetGlobal && operands[0] < s.protected {
				return s.newError(CompileError, fn.SourcePos(i),
					fmt.Sprintf("cannot assign to %s: it is a builtin; choose another name",
						s.names[operands[0]]), nil)
			}
			i += 1 + read
		}
		return nil
	}
	if err := check(bc.MainFunction); err != nil {
		return err
	}
	for _, c := range bc.Constants[oldConstants:] {
		if fn, ok := c.(*tengo.CompiledFunction); ok {
			if err := check(fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// run runs a compiled input under ctx, with the watchdog that aborts its VMs.
func (s *Session) run(parent context.Context, bc *tengo.Bytecode) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.ctx = ctx
	s.stop.Store(nil)
	s.toShow = nil // an aborted run can leave one
	defer func() { s.ctx = nil }()
	quit := make(chan struct{})
	done := make(chan struct{})
	go s.watch(ctx, cancel, quit, done)
	defer func() {
		close(quit)
		<-done
		// An abort may have reached idle call VMs too (Tengo keeps the
		// flag until their next run ends): drop them, and let calls made
		// outside a run (Session.Print, Env.Invoke from Go) work again.
		if s.stop.Swap(nil) != nil {
			s.dropCallVMs()
		}
	}()

	if ctx.Err() != nil { // the watchdog may not have looked yet
		s.abort(ctx)
	}
	return s.runVM(tengo.NewVM(bc, s.globals, s.limits.MaxAllocs))
}

// watch stops the run when ctx ends or the heap outgrows Limits.MaxHeap.
func (s *Session) watch(ctx context.Context, cancel context.CancelCauseFunc, quit, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	limit := heapBytes() + s.limits.MaxHeap
	for {
		select {
		case <-quit:
			return
		case <-ctx.Done():
			s.abort(ctx)
			return
		case <-tick.C:
			// Garbage not yet collected counts too: a runtime.GC() here
			// to discount it waits for the very goroutine that allocates.
			if heapBytes() > limit {
				cancel(fmt.Errorf("%w: the run grew the heap by more than %d MiB",
					errHeapLimit, s.limits.MaxHeap>>20))
			}
		}
	}
}

// heapBytes returns the bytes of heap objects, live or not yet swept.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// abort records why the run stops and aborts every running VM. A VM that
// starts afterwards sees the record before it runs (see runVM).
func (s *Session) abort(ctx context.Context) {
	cause := context.Cause(ctx)
	st := &stopState{cause: cause, msg: cause.Error()}
	switch {
	case errors.Is(cause, errHeapLimit):
		st.kind = RuntimeError
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		st.kind = TimedOut
		if cause == context.DeadlineExceeded {
			st.msg = "timed out"
		}
	default:
		st.kind = Interrupted
		if cause == context.Canceled {
			st.msg = "interrupted"
		}
	}
	s.stop.Store(st)
	for i := range s.running {
		if vm := s.running[i].Load(); vm != nil {
			vm.Abort()
		}
	}
}

// stopped returns why the run stops, or nil. It also notices a context that
// ended before the watchdog did (an error path can see ctx.Done first).
func (s *Session) stopped() *stopState {
	if st := s.stop.Load(); st != nil {
		return st
	}
	if s.ctx != nil && s.ctx.Err() != nil {
		s.abort(s.ctx)
		return s.stop.Load()
	}
	return nil
}

// stopErr returns the cause of the run's stop, or nil while it may go on.
func (s *Session) stopErr() error {
	if st := s.stop.Load(); st != nil {
		return st.cause
	}
	return nil
}

// runVM runs vm with panics recovered and aborts delivered, and converts
// its outcome to an *Error.
func (s *Session) runVM(vm *tengo.VM) (err error) {
	if s.depth >= len(s.running) {
		return callDepthError(s.limits.MaxCallDepth)
	}
	slot := &s.running[s.depth]
	s.depth++
	slot.Store(vm)
	defer func() {
		slot.Store(nil)
		s.depth--
		if r := recover(); r != nil {
			err = s.panicError(vm, r)
		}
	}()
	if s.stop.Load() != nil { // stopped before vm was registered
		return s.errorAt(nil, false, s.stopErr())
	}
	if e := vm.Run(); e != nil {
		return s.runtimeError(e)
	}
	if s.stop.Load() != nil { // Abort ends a run without an error
		return s.errorAt(vm, true, s.stopErr())
	}
	return nil
}

// showTest is the left operand of the comparison every expression
// statement becomes (see rewriter.shown): Tengo's == calls its Equals with
// the statement's value. Equals reports whether the value is to be shown,
// and if so keeps it for the :show call that follows at once. A value that
// is not shown (most values in a script) so costs an interface call inside
// the VM, where a call of a Go function would cost an allocation of its
// arguments and the VM's allocation count.
type showTest struct {
	tengo.ObjectImpl
	s   *Session
	all bool // REPL statements outside functions: show every value
}

func (t *showTest) TypeName() string { return "show" }
func (t *showTest) String() string   { return "show" }

// Equals reports whether v is to be shown: a stream, a view, a precious
// value (see Precious) or a stage (an error: see showPending) always, and any other
// value but undefined when all is set.
func (t *showTest) Equals(v tengo.Object) bool {
	switch v.(type) {
	case *Stream, *stage, *View:
	default:
		if !isPreciousValue(v) && !(t.all && v != tengo.UndefinedValue) {
			return false
		}
	}
	t.s.toShow, t.s.toShowAll = v, t.all
	return true
}

// showPending is :show(), which showTest.Equals has just given a value to
// show: it prints it, or fails for a stage made and dropped unless all is
// set.
func (s *Session) showPending(...tengo.Object) (tengo.Object, error) {
	v, all := s.toShow, s.toShowAll
	s.toShow = nil
	if v == nil {
		return tengo.UndefinedValue, nil
	}
	if st, ok := v.(*stage); ok && !all {
		// A statement that makes a stage and drops it ran nothing: say
		// so, rather than let a script end as if it had acted.
		return nil, st.notValue()
	}
	if err := s.print(s.env.Context(), v); err != nil {
		return nil, err
	}
	return tengo.UndefinedValue, nil
}

// Print prints v to the session's output in its format, as a statement's
// value is printed. A stream is read to its end.
func (s *Session) Print(ctx context.Context, v tengo.Object) error {
	return s.print(ctx, v)
}

// SetFormat changes how values are printed from the next Eval on, for a
// REPL command that switches the output format or a terminal that was
// resized. width is as Options.Width.
func (s *Session) SetFormat(f Format, width int) {
	s.opts.Format, s.opts.Width = f, width
}

// Env returns the session's Env, for Go code that calls builtins' machinery
// outside a run (tests, the REPL).
func (s *Session) Env() *Env { return s.env }

// Names returns the names a script can use as globals: the builtins, Tengo's
// builtin functions, to_map, args, and the globals defined so far, sorted. It is
// meant for tab completion.
func (s *Session) Names() []string {
	seen := make(map[string]bool)
	var names []string
	add := func(n string) {
		if !seen[n] && !strings.HasPrefix(n, ":") {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range s.names {
		add(n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the current value of the global name; ok is false if no
// such global is defined.
func (s *Session) Lookup(name string) (v tengo.Object, ok bool) {
	if strings.HasPrefix(name, ":") {
		return nil, false
	}
	if i, ok := s.index[name]; ok {
		return s.globals[i], true
	}
	return nil, false
}

// FieldNames returns the names that can follow "x." for a value x: a
// record's fields in order, a map's keys sorted. It is meant for tab
// completion; it returns nil for other values.
func FieldNames(x tengo.Object) []string {
	var keys []string
	switch x := x.(type) {
	case *Record:
		return append([]string(nil), x.schema.fields...)
	case *tengo.Map:
		for k := range x.Value {
			keys = append(keys, k)
		}
	case *tengo.ImmutableMap:
		for k := range x.Value {
			if k != "__module_name__" {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
