// Package builtins holds pinsh's domain builtins: get_users, pin_info,
// lock_pin and the rest of design §3, each declared once in a lang.Builtin
// table entry with its help text and examples. Builtins act on a store.Store
// and never on bbolt directly.
package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// Config is what the builtins act on.
type Config struct {
	Store    store.Store
	Clock    *Clock
	Operator string // checked against admin roles, written to the audit log
	// ActedBy is the account acting for Operator (pinsh --as on a real
	// database), written to the audit log with it; "" when they are one.
	ActedBy string
	// WhatIf makes every mutating builtin behave as if called with
	// {whatif: true} (--whatif).
	WhatIf bool
	// Prompter asks Confirm questions; nil when there is no terminal, which
	// makes {confirm: true} an error.
	Prompter Prompter
	// ReadPin reads a PIN from the terminal without echo (read_pin); nil
	// when there is no terminal.
	ReadPin func(prompt string) (string, error)
	// Pager starts the pager the page sink writes to, and returns its
	// input; nil (or a nil writer) when page prints on standard output
	// instead: in scripts, and when output is not a terminal. A write
	// fails with an error wrapping ErrPagerQuit once the admin has quit
	// the pager; Close waits for the pager to exit and restores the
	// terminal.
	Pager func() (io.WriteCloser, error)
}

// Shell is the set of builtins bound to one Config.
type Shell struct {
	cfg   Config
	shown atomic.Int64 // per-item errors shown on standard error
	// hiddenFailures counts per-item failures whose message force hid.
	hiddenFailures atomic.Int64

	mu   sync.Mutex
	errs []string // recent per-item errors, newest last (last_errors)
}

// New returns the builtins for cfg. cfg.Store and cfg.Clock must be set.
func New(cfg Config) *Shell {
	if cfg.Clock == nil {
		cfg.Clock = NewClock()
	}
	return &Shell{cfg: cfg}
}

// ErrorsShown returns how many per-item errors were shown on standard error
// so far; the shell exits with status 1 when it is not 0 (design §2).
func (sh *Shell) ErrorsShown() int { return int(sh.shown.Load()) }

// FailuresHidden returns how many per-item failures {force: true} kept off
// standard error so far (a skip, such as an already locked PIN, is not a
// failure); like a shown error, each makes the exit status 1.
func (sh *Shell) FailuresHidden() int { return int(sh.hiddenFailures.Load()) }

// Clock returns the shell's clock.
func (sh *Shell) Clock() *Clock { return sh.cfg.Clock }

// op is the store.Op of a change made now by the operator.
func (sh *Shell) op() store.Op {
	return store.Op{Operator: sh.cfg.Operator, ActedBy: sh.cfg.ActedBy, Now: sh.cfg.Clock.Now()}
}

// DeniedError is returned when the operator's roles do not allow a builtin.
type DeniedError struct {
	Operator string
	Builtin  string
	Allowed  []string // roles that may run it
}

func (e *DeniedError) Error() string {
	who := "no role"
	if len(e.Allowed) > 0 {
		who = strings.Join(e.Allowed, ", ")
	}
	return fmt.Sprintf("operator %s may not run %s; roles that may: %s (ask a CsAdministrator to add you with add_role_member)",
		cut.Quote(e.Operator), e.Builtin, who)
}

// Authorize checks that the operator may run builtin (or the command the
// embedding program gates on it, such as pinsh generate), and records a
// denial in the audit log. A denial is a *DeniedError.
func (sh *Shell) Authorize(ctx context.Context, builtin string) error {
	return sh.authorize(ctx, builtin)
}

// authorize checks that the operator may run builtin, and audits a denial.
func (sh *Shell) authorize(ctx context.Context, builtin string) error {
	return sh.authorizeOn(ctx, builtin, "")
}

// authorizeOn is authorize for a call acting on target, as the admin named
// it ("" for none): the audit entry of a denial has the builtin as its
// action and target as its target.
func (sh *Shell) authorizeOn(ctx context.Context, builtin, target string) error {
	return sh.check(ctx, builtin, target, "not in a role that may run it")
}

// authorizeInput is authorize for a builtin acting on the targets of in. A
// call on one target (lock_pin("kenmyer@litwareinc.com")) audits a denial
// with that target; a refused stream or array of targets is not read (its
// stages would run for nothing), so its denial has no target and says so.
func (sh *Shell) authorizeInput(ctx context.Context, builtin string, in *lang.Stream) error {
	if one, ok := in.Origin().(lang.SingleTarget); ok {
		return sh.authorizeOn(ctx, builtin, describeItem(one.Value))
	}
	return sh.check(ctx, builtin, "", "not in a role that may run it; its targets (a stream or an array) were not read")
}

// maxAuditTarget bounds the target of a denial's audit entry, which is as
// the admin typed it.
const maxAuditTarget = 256

func (sh *Shell) check(ctx context.Context, builtin, target, detail string) error {
	mine, err := sh.cfg.Store.RolesOf(ctx, sh.cfg.Operator)
	if err != nil {
		return fmt.Errorf("check roles of %s: %w", cut.Quote(sh.cfg.Operator), err)
	}
	for _, r := range mine {
		if r.Allows(builtin) {
			return nil
		}
	}
	all, err := sh.cfg.Store.Roles(ctx)
	if err != nil {
		return fmt.Errorf("check roles of %s: %w", cut.Quote(sh.cfg.Operator), err)
	}
	denied := &DeniedError{Operator: sh.cfg.Operator, Builtin: builtin}
	for _, r := range all {
		if r.Allows(builtin) {
			denied.Allowed = append(denied.Allowed, r.Identity)
		}
	}
	if r := []rune(target); len(r) > maxAuditTarget {
		target = string(r[:maxAuditTarget-1]) + "…"
	}
	if err := sh.cfg.Store.Audit(ctx, sh.op(), store.AuditEntry{
		Action: builtin, Target: target, Outcome: "denied", Detail: detail,
	}); err != nil {
		return errors.Join(denied, fmt.Errorf("audit the denial: %w", err))
	}
	return denied
}

// all returns the builtins of every group, in help order.
func (sh *Shell) all() []lang.Builtin {
	var out []lang.Builtin
	for _, group := range [][]lang.Builtin{
		sh.userBuiltins(),
		sh.pinBuiltins(),
		sh.setPinBuiltins(),
		sh.exportBuiltins(),
		streamBuiltins(),
		formatBuiltins(),
		sh.pageBuiltins(),
		sh.policyBuiltins(),
		sh.roleBuiltins(),
		sh.auditBuiltins(),
		sh.miscBuiltins(),
	} {
		out = append(out, group...)
	}
	for i := range out {
		if out[i].Options != nil {
			out[i].Bind = bindOptions(&out[i])
		}
	}
	return out
}

// maxRecordedErrors bounds the per-item errors last_errors() keeps.
const maxRecordedErrors = 100

// recordError keeps a per-item error for last_errors(), PowerShell's $Error.
func (sh *Shell) recordError(builtin string, err error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.errs = append(sh.errs, builtin+": "+err.Error())
	// Trim only now and then: a bulk run may record a hundred thousand.
	if n := len(sh.errs); n >= 2*maxRecordedErrors {
		sh.errs = append(sh.errs[:0], sh.errs[n-maxRecordedErrors:]...)
	}
}
