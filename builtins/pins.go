package builtins

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// joins the scan, and count counts without records.
func (sh *Shell) pinScan(env *lang.Env, q store.UserQuery) *lang.Stream {
	return pinScanOrigin{sh: sh, q: q}.stream(env)
}

// pinScanOrigin marks the stream of pinScan, for where and count to join.
type pinScanOrigin struct {
	sh *Shell
	q  store.UserQuery
	// test, when not nil, must hold too: where functions that Go judges
	// (lang.FieldTest) but the store cannot, because they read the
	// user's fields (PinQuery.Func); judged on each PIN info the store
	// returns.
	test func(p *store.PinInfo, now time.Time) bool
	// tests are every pushed-down where function, in q.Pin.Func or in
	// test, whose Err is checked after each chunk.
	tests []*lang.FieldTest
}

// stream returns the records of the scan.
func (o pinScanOrigin) stream(env *lang.Env) *lang.Stream {
	var now time.Time
	q := o.q
	pull := chunks(func(ctx context.Context, buf []store.PinInfo, after store.UserID) ([]store.PinInfo, store.UserID, error) {
		now = o.sh.cfg.Clock.Now()
		q.Pin.Now = now
		return store.AppendPinInfos(ctx, o.sh.cfg.Store, buf, q, after, scanChunk)
	}, func(infos []store.PinInfo, out []tengo.Object) []tengo.Object {
		for i := range infos {
			// q.Pin is matched again: cheap, and right on a backend
			// that does not evaluate it.
			if o.keep(&q.Pin, &infos[i], now) {
				out = append(out, pinInfoRecord(infos[i], now))
			}
		}
		return out
	})
	return env.Source(func(ctx context.Context) ([]tengo.Object, error) {
		out, err := pull(ctx)
		if err == nil {
			err = o.testErr()
		}
		return out, err
	}).WithOrigin(o)
}

// keep reports whether the scan keeps p, judged by pq (o.q.Pin at now).
func (o *pinScanOrigin) keep(pq *store.PinQuery, p *store.PinInfo, now time.Time) bool {
	return pq.Match(p) && (o.test == nil || o.test(p, now))
}

// testErr returns the error of a pushed-down where function, which
// lang.FieldTest proves cannot happen.
func (o *pinScanOrigin) testErr() error {
	for _, t := range o.tests {
		if err := t.Err(); err != nil {
			return err
		}
	}
	return nil
}

// counter returns the function that counts the records of the scan a
// chunk at a time without making them (see streamCount): it returns a
// chunk's count and whether the scan is done.
func (o pinScanOrigin) counter() func(ctx context.Context) (int, bool, error) {
	q := o.q
	var after store.UserID
	var buf []store.PinInfo
	return func(ctx context.Context) (int, bool, error) {
		now := o.sh.cfg.Clock.Now()
		q.Pin.Now = now
		var n int
		var next store.UserID
		var err error
		if o.test == nil {
			n, next, err = store.CountPinInfos(ctx, o.sh.cfg.Store, q, after, countChunk)
		} else {
			buf, next, err = store.AppendPinInfos(ctx, o.sh.cfg.Store, buf[:0], q, after, scanChunk)
			for i := range buf {
				if o.keep(&q.Pin, &buf[i], now) {
					n++
				}
			}
		}
		if err == nil {
			err = o.testErr()
		}
		after = next
		return n, next == 0, err
	}
}

// countChunk is how many users a count examines per read of the store: a
// count makes nothing per user, so its chunks are the store's limit of
// one read transaction (see boltstore's scanBudget).
const countChunk = 1 << 16

// fuseTest returns the scan of o that also applies the where function fn,
// as where(fn) after it would, or nil when fn is not a plain test of
// fields that Go can judge (lang.FieldTest): where then calls it on each
// record. A test of PIN fields only goes to the store (PinQuery.Func),
// which then need not read users that cannot match.
func (o pinScanOrigin) fuseTest(env *lang.Env, fn tengo.Object) *lang.Stream {
	t := env.FieldTest(fn, pinInfoSchema, pinInfoKinds)
	if t == nil {
		return nil
	}
	f := pinTable(t)
	if f == nil {
		view := &pinInfoView{}
		f = func(p *store.PinInfo, now time.Time) bool {
			view.p, view.now = p, now
			return t.Test(view)
		}
	}
	o.tests = append(slices.Clip(o.tests), t)
	user := false
	for i := range pinInfoUserFields {
		user = user || t.Reads(i)
	}
	if user {
		o.test = both(o.test, f)
	} else {
		o.q.Pin.Func = both(o.q.Pin.Func, f)
	}
	return o.stream(env)
}

// pinTable returns t as a table of its outcomes when it reads only
// pin_info's fields of few values (is_pin_set, is_locked_out,
// is_pin_expired: true or false; locked_by: undefined, "admin" or
// "system"): a test then costs a lookup. The table is filled by t itself,
// on the very values pinInfoField gives those fields, so it holds what t
// gives; nil for any other t.
func pinTable(t *lang.FieldTest) func(*store.PinInfo, time.Time) bool {
	for i := range pinInfoKinds {
		if t.Reads(i) && i != 2 && i != 3 && i != 4 && i != 5 {
			return nil
		}
	}
	var table [2 * 2 * 2 * 3]bool
	var f tableFields
	for i := range table {
		f[2], f[3], f[5] = boolean(i&1 != 0), boolean(i&2 != 0), boolean(i&4 != 0)
		f[4] = optStr(store.LockSource(i / 8).String())
		table[i] = t.Test(&f)
		if t.Err() != nil {
			return nil
		}
	}
	expired := t.Reads(5)
	return func(p *store.PinInfo, now time.Time) bool {
		i := 0
		if p.IsSet {
			i |= 1
		}
		if p.IsLockedOut() {
			i |= 2
		}
		if expired && p.IsExpired(now) {
			i |= 4
		}
		switch p.LockedBy {
		case store.LockedByAdmin, store.LockedBySystem:
			i += 8 * int(p.LockedBy)
		}
		return table[i]
	}
}

// tableFields are the fields of a pin_info record as pinTable sets them.
type tableFields [10]tengo.Object

func (f *tableFields) Field(i int) tengo.Object { return f[i] }

// both is the test that a and b hold, a first (nil holds always).
func both(a, b func(*store.PinInfo, time.Time) bool) func(*store.PinInfo, time.Time) bool {
	if a == nil {
		return b
	}
	return func(p *store.PinInfo, now time.Time) bool { return a(p, now) && b(p, now) }
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
	o.q.Pin = pq
	return o.stream(env)
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
