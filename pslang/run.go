package pslang

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/pinsh/pinsh/lang"
)

// Eval translates one PowerShell input named file and runs it in sess,
// whose builtins must include Builtins. A construct outside the subset is
// a compile error and nothing runs; errors are reported at PowerShell
// positions, with the PowerShell line.
func (t *Translator) Eval(ctx context.Context, sess *lang.Session, file string, src []byte) error {
	tr, err := t.Translate(file, string(src))
	if err != nil {
		return t.compileError(file, string(src), err)
	}
	err = sess.Eval(ctx, file, []byte(tr.Tengo))
	var le *lang.Error
	if !errors.As(err, &le) || le.Kind != lang.CompileError {
		// Its globals exist now, even if it failed while running.
		for _, k := range tr.declared {
			t.known[k] = true
		}
	}
	return tr.MapError(err)
}

// compileError turns a *SyntaxError into the *lang.Error of a compile
// error, which the command line reports with its line and a caret.
func (t *Translator) compileError(file, src string, err error) error {
	var se *SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	tr := &Translation{File: file, PS: src}
	return &lang.Error{
		Kind: lang.CompileError,
		Pos:  lang.Position{File: file, Line: se.Pos.Line, Col: se.Pos.Col},
		Msg:  se.Msg,
		Line: tr.psLine(se.Pos.Line),
		Err:  err,
	}
}

// MapError moves the positions of a *lang.Error of the translation onto
// the PowerShell source: each Tengo line comes from one PowerShell
// statement or command, and the error is reported there.
func (tr *Translation) MapError(err error) error {
	var le *lang.Error
	if !errors.As(err, &le) {
		return err
	}
	out := *le
	// The ps_ helpers are the translation's, not the admin's words.
	out.Msg = psHelperPrefix().ReplaceAllString(out.Msg, "")
	if p, ok := tr.psPos(le.Pos); ok {
		out.Pos = p
		out.Line = tr.psLine(p.Line)
	}
	out.Trace = nil
	for _, c := range le.Trace {
		if p, ok := tr.psPos(c); ok {
			if len(out.Trace) > 0 && out.Trace[len(out.Trace)-1] == p || p == out.Pos {
				continue
			}
			out.Trace = append(out.Trace, p)
		} else {
			out.Trace = append(out.Trace, c)
		}
	}
	if out.Kind == lang.CompileError {
		// The translation did not compile: that is pinsh's fault, not the
		// script's; say so rather than show Tengo's words as the admin's.
		out.Msg = "internal error: the Tengo form of this PowerShell does not compile (" + out.Msg + "); please report it with the script"
	}
	return &out
}

func (tr *Translation) psPos(p lang.Position) (lang.Position, bool) {
	if p.File != tr.File || p.Line < 1 || p.Line > len(tr.lines) {
		return p, false
	}
	ps := tr.lines[p.Line-1]
	return lang.Position{File: tr.File, Line: ps.Line, Col: ps.Col}, true
}

// Header is the comment --translate puts before a translation.
func Header(file string) string {
	return "// Tengo form of " + file + ", made by pinsh --ps --translate. The ps_ builtins keep\n" +
		"// PowerShell's meaning (comparisons ignore case, $null sorts first, properties by\n" +
		"// their PowerShell names); README.md, Coming from PowerShell, lists them.\n"
}

// Translate is the --translate output for src: the header and the Tengo.
func (t *Translator) TranslateText(file string, src []byte) (string, error) {
	tr, err := t.Translate(file, string(src))
	if err != nil {
		return "", t.compileError(file, string(src), err)
	}
	return Header(file) + strings.TrimRight(tr.Tengo, "\n") + "\n", nil
}

// psHelperPrefix is compiled on first use, not when pinsh starts: most runs
// are Tengo and never need it.
var psHelperPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ps_[a-z_]+: `) })
