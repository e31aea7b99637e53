package lang

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"

	"github.com/pinsh/pinsh/internal/suggest"
)

// ErrorKind classifies an *Error, so that the CLI can choose an exit status.
type ErrorKind uint8

const (
	// RuntimeError is an error raised while running: a failed operation, a
	// builtin's error, a limit reached.
	RuntimeError ErrorKind = iota
	// CompileError is a syntax or compile error; nothing of the input ran.
	CompileError
	// Interrupted means the run's context was cancelled (Ctrl-C).
	Interrupted
	// TimedOut means the run's context deadline passed (--timeout).
	TimedOut
)

// String returns "runtime error", "compile error", "interrupted" or
// "timed out".
func (k ErrorKind) String() string {
	switch k {
	case RuntimeError:
		return "runtime error"
	case CompileError:
		return "compile error"
	case Interrupted:
		return "interrupted"
	case TimedOut:
		return "timed out"
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// Position is a place in a script. Line and Col count from 1; Col counts
// bytes. The zero Position means "unknown".
type Position struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position is known.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns FILE:LINE:COL, or FILE alone when the line is unknown.
func (p Position) String() string {
	if !p.IsValid() {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is a compile or runtime error of a script, at the position where it
// happened: for an error inside a function called from Go (a predicate),
// Pos is inside that function and Trace lists the calls that led there.
type Error struct {
	Kind ErrorKind
	Pos  Position // where it happened; may be invalid for errors outside any script
	Msg  string   // the message, without position
	Item string   // the item being processed when a function called from Go failed, or ""
	Line string   // the source line at Pos, or ""
	// Trace holds the positions of the enclosing calls, innermost first.
	Trace []Position
	// Err is the underlying error: the builtin's error, or the context's
	// cause for Interrupted and TimedOut. It may be nil.
	Err error
}

// Error returns "FILE:LINE:COL: message (processing ITEM)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" || e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Message())
	return b.String()
}

// Message returns the message without the position: "message (processing
// ITEM)", or the message alone.
func (e *Error) Message() string {
	if e.Item == "" {
		return e.Msg
	}
	return e.Msg + " (processing " + e.Item + ")"
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Detail returns the message as shown to an admin: the Error line, then the
// source line with a caret under the column, then one "called from" line per
// enclosing call, where a call repeated at the same position (recursion) is
// one line that says how many times: "called from f.tengo:3:5 (1,021
// times)". It ends with a newline.
func (e *Error) Detail() string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteByte('\n')
	if e.Line != "" && e.Pos.Col > 0 {
		b.WriteString("    ")
		b.WriteString(e.Line)
		b.WriteString("\n    ")
		col := min(e.Pos.Col-1, len(e.Line))
		for _, r := range e.Line[:col] {
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString("^\n")
	}
	for i := 0; i < len(e.Trace); {
		p := e.Trace[i]
		n := 1
		for i+n < len(e.Trace) && e.Trace[i+n] == p {
			n++
		}
		i += n
		b.WriteString("    called from ")
		b.WriteString(p.String())
		if n > 1 {
			b.WriteString(" (")
			b.WriteString(thousands(n))
			b.WriteString(" times)")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fileKey separates the name a script was given from the number that makes
// it unique in the session's file set, so that positions in error strings
// name one input exactly even when the REPL names every line "<stdin>".
const fileKey = "\x00"

// pos resolves a parser position to a Position and its source line.
func (s *Session) pos(p parser.Pos) (Position, string) {
	if p == parser.NoPos {
		return Position{}, ""
	}
	fp := s.fileSet.Position(p)
	return s.at(fp.Filename, fp.Line, fp.Column)
}

// at resolves a position named as in the session's file set (name, fileKey,
// input number) to a Position and its source line.
func (s *Session) at(name string, line, col int) (Position, string) {
	return s.filePosition(name, line, col), s.sourceLine(name, line)
}

func (s *Session) filePosition(name string, line, col int) Position {
	display, seq, ok := strings.Cut(name, fileKey)
	if ok {
		if i, err := strconv.Atoi(seq); err == nil && i >= 0 && i < len(s.files) {
			display = s.files[i].name
		}
	}
	return Position{File: display, Line: line, Col: col}
}

// sourceLine returns the text of a line of the named input, or "".
func (s *Session) sourceLine(name string, line int) string {
	_, seq, ok := strings.Cut(name, fileKey)
	if !ok || line < 1 {
		return ""
	}
	i, err := strconv.Atoi(seq)
	if err != nil || i < 0 || i >= len(s.files) {
		return ""
	}
	src := s.files[i].src
	for n := 1; n < line; n++ {
		j := strings.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := strings.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimRight(src, "\r")
}

// newError builds an Error at parser position p.
func (s *Session) newError(kind ErrorKind, p parser.Pos, msg string, err error) *Error {
	e := &Error{Kind: kind, Msg: msg, Err: err}
	e.Pos, e.Line = s.pos(p)
	return e
}

// compileError converts an error of the parser or compiler.
func (s *Session) compileError(err error) *Error {
	var list parser.ErrorList
	var ce *tengo.CompilerError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		first := list[0]
		msg := first.Msg
		if len(list) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		e := &Error{Kind: CompileError, Msg: msg}
		e.Pos, e.Line = s.at(first.Pos.Filename, first.Pos.Line, first.Pos.Column)
		return e
	case errors.As(err, &ce):
		e := s.newError(CompileError, ce.Node.Pos(), ce.Err.Error(), nil)
		if id, ok := ce.Node.(*parser.Ident); ok && strings.HasPrefix(e.Msg, "unresolved reference") {
			e.Msg += s.unresolvedHint(id.Name, e.Line, e.Pos.Col)
		}
		return e
	}
	return &Error{Kind: CompileError, Msg: err.Error(), Err: err}
}

// unresolvedHint is what follows the message of the unresolved name at
// column col of line: for a PowerShell command typed as it is (Get-CsUser,
// which Tengo reads as Get - CsUser), the builtin that stands for it; else
// the closest names a script can use, if any is close.
func (s *Session) unresolvedHint(name, line string, col int) string {
	if cmd := cmdletAt(line, col); cmd != "" {
		if b := ByCmdlet(s.opts.Builtins, cmd); b != nil {
			return fmt.Sprintf("; %s is a PowerShell command: pinsh's builtin for it is %s (help(%q) shows how its form maps)", cmd, b.Name, b.Name)
		}
		var cmdlets []string
		for _, b := range s.opts.Builtins {
			cmdlets = append(cmdlets, b.Cmdlets...)
		}
		if near := suggest.Suggest(cmd, cmdlets); len(near) > 0 {
			b := ByCmdlet(s.opts.Builtins, near[0])
			return fmt.Sprintf("; %s looks like a PowerShell command: did you mean %s (pinsh's %s)?", cmd, near[0], b.Name)
		}
		return fmt.Sprintf("; %s looks like a PowerShell command, which pinsh does not run: help() lists the builtins and the commands they stand for", cmd)
	}
	if near := suggest.Suggest(name, s.Names()); len(near) > 0 {
		return "; did you mean " + suggest.OrList(near) + "?"
	}
	return ""
}

// cmdletAt returns the Verb-Noun command name (Get-CsUser) that starts at
// column col (from 1, in bytes) of line, or "".
func cmdletAt(line string, col int) string {
	if col < 1 || col > len(line) {
		return ""
	}
	rest := line[col-1:]
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end >= 0 {
		rest = rest[:end]
	}
	if !isCmdletName(rest) {
		return ""
	}
	return rest
}

const runtimePrefix = "Runtime Error: "

// runtimeError converts an error returned by tengo.VM.Run, whose text is
// "Runtime Error: MSG\n\tat POS" followed by one "\n\tat POS" per enclosing
// frame, innermost first.
func (s *Session) runtimeError(err error) *Error {
	cause, positions := splitRunError(err)
	var ps []Position
	var lines []string
	for _, p := range positions {
		if name, line, col, ok := parsePos(p); ok {
			pos, text := s.at(name, line, col)
			ps, lines = append(ps, pos), append(lines, text)
		}
	}
	return s.wrapCause(cause, ps, lines)
}

// posError is an error a Go function of the session raises at a position of
// its own choosing in the calling frame, rather than at the call.
type posError struct {
	pos parser.Pos
	err error
}

func (e *posError) Error() string { return e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

// errOperator marks the error of an operator (see operatorError).
var errOperator = errors.New("operator error")

// operatorError is the error of Tengo's own operator, which Tengo raises at
// the start of the operator's left operand.
type operatorError struct{ err error }

func (e operatorError) Error() string   { return e.err.Error() }
func (e operatorError) Unwrap() []error { return []error{e.err, errOperator} }

// wrapCause makes the *Error for cause raised at positions ps (innermost
// first): an *Error raised further in keeps its own position and gains ps as
// its trace; a posError takes its position in place of the innermost.
func (s *Session) wrapCause(cause error, ps []Position, lines []string) *Error {
	var pe *posError
	if errors.As(cause, &pe) && len(ps) > 0 {
		e := s.wrapCause(pe.err, ps, lines)
		e.Pos, e.Line = s.pos(pe.pos)
		return e
	}
	var inner *Error
	if errors.As(cause, &inner) {
		e := *inner
		e.Trace = append(append([]Position(nil), inner.Trace...), ps...)
		return &e
	}
	e := &Error{Kind: RuntimeError, Msg: cause.Error(), Err: cause}
	if st := s.stopped(); st != nil {
		e.Kind, e.Msg, e.Err = st.kind, st.msg, st.cause
	}
	if len(ps) > 0 {
		e.Pos, e.Line, e.Trace = ps[0], lines[0], ps[1:]
	}
	return e
}

// splitRunError finds the error raised inside the VM and the position
// strings Run appended to it.
func splitRunError(err error) (cause error, positions []string) {
	full := err.Error()
	for e := err; ; {
		u := errors.Unwrap(e)
		if u == nil {
			break
		}
		head := runtimePrefix + u.Error() + "\n\tat "
		if strings.HasPrefix(full, head) {
			return u, strings.Split(full[len(head):], "\n\tat ")
		}
		e = u
	}
	return errors.New(strings.TrimPrefix(full, runtimePrefix)), nil
}

// parsePos parses "NAME:LINE:COL" as written by parser.SourceFilePos.
func parsePos(p string) (name string, line, col int, ok bool) {
	i := strings.LastIndexByte(p, ':')
	if i < 0 {
		return "", 0, 0, false
	}
	col, err := strconv.Atoi(p[i+1:])
	if err != nil {
		return "", 0, 0, false
	}
	j := strings.LastIndexByte(p[:i], ':')
	if j < 0 {
		return "", 0, 0, false
	}
	line, err = strconv.Atoi(p[j+1 : i])
	if err != nil {
		return "", 0, 0, false
	}
	return p[:j], line, col, true
}

// panicError converts what a VM run panicked with: an error the VM had no
// way to return (vmAbort), or a Go runtime panic from an operation or a
// function (1/0, bytes(-1), unbounded recursion).
func (s *Session) panicError(vm *tengo.VM, r any) *Error {
	var cause error
	switch r := r.(type) {
	case vmAbort:
		cause = r.err
	case runtime.Error:
		cause = errors.New(runtimeMessage(r))
		if cause.Error() == stackOverflowMsg {
			cause = errStackOverflow
		}
	case error:
		cause = r
	default:
		cause = fmt.Errorf("%v", r)
	}
	return s.errorAt(vm, false, cause)
}

// errorAt makes the *Error for cause raised where vm is (nil: nowhere
// known): at its current instruction, or the next one (see vmPositions).
func (s *Session) errorAt(vm *tengo.VM, next bool, cause error) *Error {
	var ps []Position
	var lines []string
	if vm != nil {
		for _, p := range vmPositions(vm, next) {
			pos, text := s.pos(p)
			ps, lines = append(ps, pos), append(lines, text)
		}
	}
	return s.wrapCause(cause, ps, lines)
}

const stackOverflowMsg = "stack overflow: function calls nested too deeply (unbounded recursion?)"

// errStackOverflow is the value stack's overflow, which the VM panics with;
// it is a tengo.ErrStackOverflow, the frames' overflow, too.
var errStackOverflow = fmt.Errorf("%w: function calls nested too deeply (unbounded recursion?)", tengo.ErrStackOverflow)

// runtimeMessage words a Go runtime panic of the VM for an admin.
func runtimeMessage(r runtime.Error) string {
	msg := r.Error()
	switch {
	case strings.Contains(msg, "integer divide by zero"):
		return "division by zero"
	case strings.Contains(msg, fmt.Sprintf("with length %d", tengo.StackSize)):
		return stackOverflowMsg
	case strings.Contains(msg, "makeslice"):
		return "invalid size: " + strings.TrimPrefix(msg, "runtime error: ")
	}
	return strings.TrimPrefix(msg, "runtime error: ")
}
