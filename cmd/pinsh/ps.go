package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/pslang"
)

// withPS adds the ps_ builtins, which translated PowerShell calls, to a
// session's builtins: every session has them, so that the Tengo that
// pinsh --ps --translate prints runs as it is.
func withPS(list []*lang.Builtin) []*lang.Builtin {
	return append(list, pslang.Builtins(list)...)
}

// isPS reports whether a script file is PowerShell, by its extension.
func isPS(file string) bool { return strings.HasSuffix(strings.ToLower(file), ".ps1") }

// evaluator runs one input of a session: Tengo, or PowerShell through its
// translation (ps not nil).
type evaluator struct {
	sess *lang.Session
	ps   *pslang.Translator
}

func newEvaluator(sess *lang.Session, list []*lang.Builtin, ps bool) evaluator {
	e := evaluator{sess: sess}
	if ps {
		e.ps = pslang.NewTranslator(list)
	}
	return e
}

func (e evaluator) eval(ctx context.Context, name string, src []byte) error {
	if e.ps == nil {
		return e.sess.Eval(ctx, name, src)
	}
	return e.ps.Eval(ctx, e.sess, name, src)
}

// incomplete tells the prompt to read another line of the entry.
func (e evaluator) incomplete(src string) bool {
	if e.ps == nil {
		return lang.Incomplete([]byte(src))
	}
	return pslang.Incomplete(src)
}

// translate is pinsh --ps --translate: it prints the Tengo form of the
// script and runs nothing, so it needs no database.
func (a *app) translate(cfg *config) int {
	name, src, err := a.scriptSource(cfg)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
	}
	list := withPS(translationBuiltins())
	out, err := pslang.NewTranslator(list).TranslateText(name, src)
	if err != nil {
		fmt.Fprint(a.stderr, errorText(err, scriptErrors, ""))
		return exitUsage
	}
	fmt.Fprint(a.stdout, out)
	return exitOK
}

// translationBuiltins are the builtins a translation may call: those of a
// script run and of pinsh test. They are only named, never run.
func translationBuiltins() []*lang.Builtin {
	sh := builtins.New(builtins.Config{})
	return sh.Builtins(slices.Concat(sh.TestBuiltins(), shellBuiltins())...)
}

// psPrefix starts the prompt of a PowerShell prompt: PS alice@db>.
func psPrefix(cfg *config) string {
	if cfg.ps {
		return "PS "
	}
	return ""
}

// evalEntry runs a prompt entry. The prompt's own commands (help, exit),
// which promptCommand made calls of, are Tengo at a PowerShell prompt too.
func (r *repl) evalEntry(ctx context.Context, src string) error {
	if r.ev.ps != nil && (src == "exit()" || strings.HasPrefix(src, "help(")) {
		return r.sess.Eval(ctx, promptFile, []byte(src))
	}
	return r.ev.eval(ctx, promptFile, []byte(src))
}
