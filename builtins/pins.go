package builtins

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// lookupBatch is how many users pin_info reads in one store call.
const lookupBatch = 1024

func (sh *Shell) pinBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "pin_info", Kind: lang.Stage, Targets: true, Bind: digitsBind("pin_info", 0), Options: pinInfoOptionKeys,
			Cmdlets:    []string{"Get-CsClientPinInfo"},
			PowerShell: `Get-CsClientPinInfo -Identity X -> pin_info("X"); Get-CsUser | Get-CsClientPinInfo -> get_users() | pin_info`,
			Sig:        "pin_info([opts]) | pin_info(target[, opts])",
			Doc: `Get-CsClientPinInfo: the PIN state of each target user (an identity in any
form, a user or pin_info record, an array or a stream of them). Fields:
identity, display_name, is_pin_set, is_locked_out, locked_by ("admin",
"system" or undefined), is_pin_expired, last_pin_change_time,
pin_expiration_time (never for a PIN that never expires: it prints empty
and is after every time, so "p.pin_expiration_time < now()" selects only
expired PINs), failed_attempts (failures since the last admin unlock) and
temporarily_locked_until. The PIN itself can never be read back.
Called on one target it returns one record. opts: {error_action: ...}.`,
			Examples: []lang.Example{
				{Code: `pin_info("kenmyer@litwareinc.com").is_pin_set`, Output: "true\n"},
				{Code: `pin_info("litwareinc\\tonysmith").locked_by`, Output: "system\n"},
				{Code: `get_users() | pin_info | where({is_locked_out: true}) | count`, Output: "2\n"},
			},
			Run: sh.pinInfo,
		},
		{
			Name: "lock_pin", Kind: lang.Sink, Targets: true, Bind: digitsBind("lock_pin", 0), Options: mutationOptionKeys,
			Cmdlets:    []string{"Lock-CsClientPin"},
			PowerShell: `Lock-CsClientPin -Identity X -WhatIf -Confirm -Force -> lock_pin("X", {whatif: true, confirm: true, force: true}); ... | Lock-CsClientPin -> ... | lock_pin`,
			Sig:        "lock_pin([opts]) | lock_pin(target[, opts])",
			Doc: `Lock-CsClientPin: lock the PIN of each target user, so that the PIN can no
longer be used to sign in or join a dial-in conference (the user can still
sign in with user name and password). Only an admin unlock (unlock_pin)
undoes it. Users without a PIN, or whose PIN is already locked, are
skipped with a message. Returns a summary: changed, skipped, failed (with
whatif, changed counts the targets it would try; their state is not
checked). A target string with the * wildcard is refused before anything
is locked, here and in every mutating builtin: select the users first,
get_users("* Smith") | lock_pin. force hides the messages, as Lync's
-Force does, but a failed item (no such user) still makes the exit status
1. opts: {whatif, confirm, force, error_action} as in PowerShell.`,
			Examples: []lang.Example{
				{Code: `lock_pin("kenmyer@litwareinc.com")`, Output: "action: lock_pin  changed: 1  skipped: 0  failed: 0  whatif: false\n"},
				{Code: `lock_pin("Ken Myer", {whatif: true})`, Output: "What if: Performing the operation \"lock_pin\" on target \"sip:kenmyer@litwareinc.com\".\naction: lock_pin  changed: 1  skipped: 0  failed: 0  whatif: true\n"},
				{Code: `get_users() | pin_info | where(func(p) { return p.is_pin_set && !p.is_locked_out }) | lock_pin`},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return sh.runMutation(env, in, "lock_pin", args, sh.lockPins)
			},
		},
		{
			Name: "unlock_pin", Kind: lang.Sink, Targets: true, Bind: digitsBind("unlock_pin", 0), Options: mutationOptionKeys,
			Cmdlets:    []string{"Unlock-CsClientPin"},
			PowerShell: `Unlock-CsClientPin -Identity X -WhatIf -Confirm -> unlock_pin("X", {whatif: true, confirm: true}); ... | Unlock-CsClientPin -> ... | unlock_pin`,
			Sig:        "unlock_pin([opts]) | unlock_pin(target[, opts])",
			Doc: `Unlock-CsClientPin: unlock the PIN of each target user, whether an admin or
the system locked it, and reset its failure counters. Users whose PIN is not
locked are skipped with a message. Returns a summary.
opts: {whatif, confirm, force, error_action}.`,
			Examples: []lang.Example{
				{Code: `unlock_pin("tonysmith@litwareinc.com")`, Output: "action: unlock_pin  changed: 1  skipped: 0  failed: 0  whatif: false\n"},
				{Code: `get_users() | pin_info | where({locked_by: "system"}) | unlock_pin`},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return sh.runMutation(env, in, "unlock_pin", args, sh.unlockPins)
			},
		},
	}
}

// lockPins locks a batch, leanly when the store can (store.LeanChanger).
func (sh *Shell) lockPins(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	if l, ok := sh.cfg.Store.(store.LeanChanger); ok {
		return l.LockPinsLean(ctx, op, ids)
	}
	return reportAll(sh.cfg.Store.LockPins)(ctx, op, ids)
}

// unlockPins unlocks a batch, leanly when the store can.
func (sh *Shell) unlockPins(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	if l, ok := sh.cfg.Store.(store.LeanChanger); ok {
		return l.UnlockPinsLean(ctx, op, ids)
	}
	return reportAll(sh.cfg.Store.UnlockPins)(ctx, op, ids)
}

// runMutation parses the options of a lock-style builtin and runs it.
func (sh *Shell) runMutation(env *lang.Env, in *lang.Stream, name string, args []tengo.Object, apply applyFunc) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions(name, args, mutationOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %s; %s takes its targets and an options map", rest[0].TypeName(), name)
	}
	return sh.mutate(env, in, name, opts, apply)
}

// pinInfo is the pin_info stage: it reads PIN state for lookupBatch targets
// per store call.
func (sh *Shell) pinInfo(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions("pin_info", args, pinInfoOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %s; pin_info takes its targets and an options map", rest[0].TypeName())
	}
	if err := sh.authorizeInput(env.Context(), "pin_info", in); err != nil {
		return nil, err
	}
	if o, ok := in.Origin().(userScanOrigin); ok {
		return sh.pinScan(env, o.q), nil
	}
	rep := sh.reporter(env, "pin_info", opts)
	return env.Batch(in, lookupBatch, func(ctx context.Context, batch []tengo.Object) ([]tengo.Object, error) {
		targets, errs, err := sh.resolve(ctx, "pin_info", batch)
		if err != nil {
			return nil, err
		}
		for _, e := range errs {
			if err := rep.report(e); err != nil {
				return nil, err
			}
		}
		return sh.pinInfoRecords(ctx, targets, rep)
	}), nil
}

// pinScan is get_users() | pin_info as one scan of the store: the PIN
// info of the users q selects. The clock is read once per chunk, and the
// chunk's records and q.Pin's expiry are judged at that time. Its stream
// is marked with a pinScanOrigin, so a where that the store can evaluate
// joins the scan.
func (sh *Shell) pinScan(env *lang.Env, q store.UserQuery) *lang.Stream {
	var now time.Time
	return env.Source(chunks(func(ctx context.Context, buf []store.PinInfo, after store.UserID) ([]store.PinInfo, store.UserID, error) {
		now = sh.cfg.Clock.Now()
		q.Pin.Now = now
		return store.AppendPinInfos(ctx, sh.cfg.Store, buf, q, after, scanChunk)
	}, func(infos []store.PinInfo, out []tengo.Object) []tengo.Object {
		for i := range infos {
			// Matched again: cheap, and right on a backend that does
			// not evaluate q.Pin.
			if q.Pin.Match(&infos[i]) {
				out = append(out, pinInfoRecord(infos[i], now))
			}
		}
		return out
	})).WithOrigin(pinScanOrigin{sh, q})
}

// pinScanOrigin marks the stream of pinScan, for where to join.
type pinScanOrigin struct {
	sh *Shell
	q  store.UserQuery
}

// fuseWhere returns the scan of o that also applies the field map want, as
// where(want, opts) after it would, or nil when the map has a field or
// value the store cannot evaluate (where then filters the records itself,
// with its own messages). Only fields whose values can never make the map
// predicate fail qualify: bools for the flags, "admin" or "system" for
// locked_by.
func (o pinScanOrigin) fuseWhere(env *lang.Env, want map[string]tengo.Object, opts lang.MatchOptions) *lang.Stream {
	pq := o.q.Pin
	set := func(w *store.Want, v tengo.Object) bool {
		b, ok := v.(*tengo.Bool)
		if !ok {
			return false
		}
		x := store.WantFalse
		if !b.IsFalsy() {
			x = store.WantTrue
		}
		if *w != store.WantAny && *w != x {
			return false // where(...) | where(...) asking for both: leave it to the filter
		}
		*w = x
		return true
	}
	for k, v := range want {
		ok := false
		switch k {
		case "is_pin_set":
			ok = set(&pq.IsSet, v)
		case "is_locked_out":
			ok = set(&pq.IsLockedOut, v)
		case "is_pin_expired":
			ok = set(&pq.IsExpired, v)
		case "locked_by":
			var by store.LockSource
			if s, isStr := v.(*tengo.String); isStr {
				for _, l := range []store.LockSource{store.LockedByAdmin, store.LockedBySystem} {
					if s.Value == l.String() || !opts.CaseSensitive && strings.EqualFold(s.Value, l.String()) {
						by = l
					}
				}
			}
			ok = by != store.NotLocked && (pq.LockedBy == store.NotLocked || pq.LockedBy == by)
			pq.LockedBy = by
		}
		if !ok {
			return nil
		}
	}
	q := o.q
	q.Pin = pq
	return o.sh.pinScan(env, q)
}

func (sh *Shell) pinInfoRecords(ctx context.Context, targets []target, rep *reporter) ([]tengo.Object, error) {
	ids := make([]store.UserID, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	infos, err := sh.cfg.Store.PinInfos(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := sh.cfg.Clock.Now()
	out := make([]tengo.Object, 0, len(infos))
	for i, p := range infos {
		if p.Identity == "" { // removed since the record was read
			if err := rep.report(&itemError{input: targets[i].identity, err: errNoSuchUser}); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, pinInfoRecord(p, now))
	}
	return out, nil
}

// errNeedsTerminal is returned by builtins that must ask on a terminal.
var errNeedsTerminal = errors.New("needs a terminal; run it at the pinsh prompt")
