package main

import (
	"fmt"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
)

// exitRequest is what exit() raises: the run ends with status code, after
// msg (if any) is shown on standard error.
type exitRequest struct {
	code int
	msg  string
}

func (e *exitRequest) Error() string {
	if e.msg != "" {
		return fmt.Sprintf("exit status %d: %s", e.code, e.msg)
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// shellBuiltins are the builtins of the pinsh command itself, on top of the
// domain builtins.
func shellBuiltins() []*lang.Builtin {
	return []*lang.Builtin{{
		Name: "exit",
		Kind: lang.Func,
		Sig:  "exit([status[, message]])",
		Doc: "Ends the script, or the pinsh prompt, with the exit status (0 to 125, default 0), " +
			"after showing message on standard error. Automation scripts use it to report " +
			"wrong arguments: exit(2, \"usage: report.tengo [DAYS]\").",
		Call: exitBuiltin,
	}}
}

func exitBuiltin(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) > 2 {
		return nil, tengo.ErrWrongNumArguments
	}
	req := &exitRequest{}
	if len(args) > 0 {
		n, ok := args[0].(*tengo.Int)
		if !ok || n.Value < 0 || n.Value > 125 {
			return nil, fmt.Errorf("status must be a whole number from 0 to 125, not %s", args[0])
		}
		req.code = int(n.Value)
	}
	if len(args) > 1 {
		s, ok := args[1].(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("message must be a string, not %s", args[1].TypeName())
		}
		req.msg = s.Value
	}
	return nil, lang.Fatal(req) // try does not catch it
}
