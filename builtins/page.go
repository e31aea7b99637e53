package builtins

import (
	"errors"
	"fmt"
	"io"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
)

// ErrPagerQuit is what a write to the pager fails with once the admin has
// quit it before the end of the output (see Config.Pager): page then stops
// reading its input, so the stages before it stop too.
var ErrPagerQuit = errors.New("the pager was quit before the end of the output")

// pageBuiltins are the sinks that show output elsewhere than on standard
// output.
func (sh *Shell) pageBuiltins() []lang.Builtin {
	return []lang.Builtin{{
		Name:       "page",
		Cmdlets:    []string{"Out-Host"},
		PowerShell: "... | Out-Host -Paging, ... | more -> ... | page",
		Kind:       lang.Sink,
		Shows:      true, // format_table(...) | page pages the view
		Sig:        "page",
		Doc: `Out-Host -Paging: show the items in a pager.
At the prompt, on a terminal, the items are printed as a statement prints
them (the same table, list or --output format, fitted to the terminal's
width) into $PAGER: "less -FRX" when PAGER is not set and less is
installed, else more. An empty PAGER, or PAGER=cat, prints them instead.
Quitting the pager before the end stops the pipeline there; changes the
stages before page committed stay committed, and are reported as after
Ctrl-C. Everywhere else (a script, pinsh -c, output that is not a
terminal) page prints its input as if it were not there: it never waits
for a key in a script. The PINs set_pin generates are never paged (a pager
quit early would lose them): set_pin | page is refused, before any PIN is
changed; end the pipeline at set_pin to print them.`,
		Examples: []lang.Example{
			{Code: `[{identity: "sip:ken@litwareinc.com", n: 1}, {identity: "sip:pilar@litwareinc.com", n: 2}] | page`,
				Output: "identity                  n\n--------                  -\nsip:ken@litwareinc.com    1\nsip:pilar@litwareinc.com  2"},
			{Code: `page(["a", "b"])`, Output: "a\nb"},
		},
		Run: sh.page,
	}}
}

// page is the page sink: see its Doc.
func (sh *Shell) page(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 0, 0, "no arguments"); err != nil {
		return nil, err
	}
	var w io.WriteCloser
	if sh.cfg.Pager != nil {
		var err error
		if w, err = sh.cfg.Pager(); err != nil {
			return nil, err
		}
	}
	if w == nil {
		return tengo.UndefinedValue, env.PrintStream(nil, in)
	}
	err := env.PrintStream(w, in)
	if cerr := w.Close(); cerr != nil && !errors.Is(err, ErrPagerQuit) {
		err = errors.Join(err, fmt.Errorf("pager: %w", cerr))
	}
	return tengo.UndefinedValue, err
}
