package builtins

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pinsh/pinsh/internal/cut"
)

// Answer is an admin's reply to a Confirm prompt (facts §8).
type Answer int

// The four answers of PowerShell's Confirm prompt.
const (
	Yes      Answer = iota // this one
	YesToAll               // this one and every later one of this call
	No                     // skip this one
	NoToAll                // skip this one and every later one of this call
)

// Prompter asks the admin to confirm one action. Confirm returns an error when
// nobody can answer (no terminal, end of input): a Confirm is never answered
// yes silently.
type Prompter interface {
	Confirm(operation, target string) (Answer, error)
}

// ErrNoTerminal is returned by a Prompter that has no terminal to ask on.
var ErrNoTerminal = errors.New("confirm needs a terminal to ask on; run at the pinsh prompt, or drop confirm")

// WhatIfText is the line printed for each target in WhatIf mode.
func WhatIfText(operation, target string) string {
	return fmt.Sprintf("What if: Performing the operation %q on target %q.", operation, target)
}

// ConfirmText is the prompt asked for each target in Confirm mode, without
// a final newline.
func ConfirmText(operation, target string) string {
	return fmt.Sprintf("Confirm\nAre you sure you want to perform this action?\n"+
		"Performing the operation %q on target %q.\n"+
		`[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): `,
		operation, target)
}

const confirmHelp = `Y - Continue with only the next step of the operation.
A - Continue with all the steps of the operation.
N - Skip this operation and proceed with the next operation.
L - Skip this operation and all subsequent operations.
`

// LinePrompter asks on Out and reads one line per answer from In. It is what
// the shell uses on a terminal; tests drive it with scripted input.
type LinePrompter struct {
	In  *bufio.Reader
	Out io.Writer
}

// NewLinePrompter returns a LinePrompter reading r and writing w.
func NewLinePrompter(r io.Reader, w io.Writer) *LinePrompter {
	return &LinePrompter{In: bufio.NewReader(r), Out: w}
}

// Confirm shows the prompt until it reads a valid answer. An empty line is
// the default, Yes; "?" shows help. End of input is an error, never a yes.
func (p *LinePrompter) Confirm(operation, target string) (Answer, error) {
	for {
		if _, err := io.WriteString(p.Out, ConfirmText(operation, target)); err != nil {
			return No, fmt.Errorf("confirm: %w", err)
		}
		line, err := p.In.ReadString('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return No, fmt.Errorf("confirm: read answer: %w", err)
			}
			if line == "" {
				return No, errors.New("confirm: no answer (end of input); nothing was changed for this target")
			}
		}
		switch strings.ToUpper(strings.TrimSpace(line)) {
		case "", "Y", "YES":
			return Yes, nil
		case "A":
			return YesToAll, nil
		case "N", "NO":
			return No, nil
		case "L":
			return NoToAll, nil
		case "?":
			io.WriteString(p.Out, confirmHelp)
		default:
			fmt.Fprintf(p.Out, "%s is not an answer; type Y, A, N, L or ?\n", cut.Quote(strings.TrimSpace(line)))
		}
	}
}

// confirmer remembers "Yes to All" and "No to All" for the rest of one call
// of a mutating builtin.
type confirmer struct {
	prompter Prompter
	all      *bool // nil: ask; true: yes to all; false: no to all
}

// ok reports whether the action on target may go ahead.
func (c *confirmer) ok(operation, target string) (bool, error) {
	if c.all != nil {
		return *c.all, nil
	}
	if c.prompter == nil {
		return false, ErrNoTerminal
	}
	a, err := c.prompter.Confirm(operation, target)
	if err != nil {
		return false, err
	}
	switch a {
	case YesToAll, NoToAll:
		v := a == YesToAll
		c.all = &v
		return v, nil
	}
	return a == Yes, nil
}
