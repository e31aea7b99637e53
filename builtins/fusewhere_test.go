package builtins

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// loadPinStates adds a user for each kind of PIN state a field map can
// tell apart: no PIN, one that never expires, has expired (also at this
// very instant), will expire, locked by an admin or the system, cleared.
func loadPinStates(t *testing.T, ts *testShell) {
	t.Helper()
	states := []store.PinState{
		{},
		{LastChange: testNow.Add(-time.Hour)}, // cleared: a change time, no PIN
		{IsSet: true},
		{IsSet: true, Expires: testNow.Add(-time.Hour)},
		{IsSet: true, Expires: testNow},
		{IsSet: true, Expires: testNow.Add(time.Hour)},
		{IsSet: true, LockedBy: store.LockedByAdmin},
		{IsSet: true, LockedBy: store.LockedBySystem, Expires: testNow.Add(-time.Hour), GlobalFailures: 100},
		{IsSet: true, TempLockUntil: testNow.Add(time.Hour), LocalFailures: 5},
	}
	rows := func(yield func(store.LoadRow) bool) {
		for i, st := range states {
			r := store.LoadRow{Line: i + 1, State: st, User: store.User{
				SipAddress: fmt.Sprintf("state%d@litwareinc.com", i), DisplayName: fmt.Sprintf("State %d", i), Enabled: true}}
			if st.IsSet {
				r.Pin = "48151"
			}
			if !yield(r) {
				return
			}
		}
	}
	rep, err := ts.st.LoadUsers(context.Background(), store.Op{Operator: testAdmin, Now: testNow}, rows, nil)
	if err != nil || rep.Imported != len(states) {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
}

// identities returns the identities of the records of the stream code
// makes, as a JSON array.
func identities(ts *testShell, code string) string {
	ts.t.Helper()
	return ts.value(`(func() { out := []; ` + code + ` | each(func(p) { out = append(out, p.identity) }); return out })()`)
}

// TestWhereFused: a field map the store can evaluate joins the scan of
// get_users() | pin_info, and selects exactly the records the same map
// selects from records of a plain array, and the closure written for it
// selects: with PINs that never expire, fields a record leaves undefined,
// and strings compared with and without case. A map the store cannot
// evaluate is left to where, with its own results and errors.
func TestWhereFused(t *testing.T) {
	ts := newTestShell(t)
	loadPinStates(t, ts)
	ts.must(`all := get_users() | pin_info | collect`)
	ids := func(code string) string { t.Helper(); return identities(ts, code) }
	fused := func(pred string) bool {
		t.Helper()
		ts.must(`s := get_users() | pin_info | where(` + pred + `)`)
		v, _ := ts.sess.Lookup("s")
		s, ok := v.(*lang.Stream)
		if !ok {
			t.Fatalf("where(%s) returned %T", pred, v)
		}
		o, ok := s.Origin().(pinScanOrigin)
		return ok && !o.q.Pin.IsZero()
	}
	for _, tc := range []struct {
		pred, closure string
		fused         bool
		none          bool // selects nobody
	}{
		{`{is_pin_set: true, is_locked_out: false}`, `func(p) { return p.is_pin_set && !p.is_locked_out }`, true, false},
		{`{is_pin_set: false}`, `func(p) { return !p.is_pin_set }`, true, false},
		{`{is_locked_out: true}`, `func(p) { return p.is_locked_out }`, true, false},
		// A PIN that never expires has pin_expiration_time never, after
		// every time; a user without a PIN is never expired.
		{`{is_pin_expired: true}`, `func(p) { return p.pin_expiration_time <= now() }`, true, false},
		{`{is_pin_expired: false, is_pin_set: true}`, `func(p) { return p.is_pin_set && p.pin_expiration_time > now() }`, true, false},
		// locked_by is undefined when no one locked the PIN.
		{`{locked_by: "ADMIN"}`, `func(p) { return p.locked_by == "admin" }`, true, false},
		{`{locked_by: "system"}, {case_sensitive: true}`, `func(p) { return !is_undefined(p.locked_by) && p.locked_by == "system" }`, true, false},
		{`{locked_by: "System"}, {case_sensitive: true}`, `func(p) { return p.locked_by == "System" }`, false, true},
		{`{locked_by: "nobody"}`, `func(p) { return false }`, false, true},
		{`{is_locked_out: false, locked_by: "admin"}`, `func(p) { return false }`, true, true},
		// Fields the store does not evaluate stay with where.
		{`{is_pin_set: true, display_name: "state 2"}`, `func(p) { return p.identity == "sip:state2@litwareinc.com" }`, false, false},
		{`{failed_attempts: 100}`, `func(p) { return p.failed_attempts == 100 }`, false, false},
	} {
		t.Run(tc.pred, func(t *testing.T) {
			want := ids(`all | where(` + tc.pred + `)`)
			if got := ids(`get_users() | pin_info | where(` + tc.pred + `)`); got != want {
				t.Errorf("after the scan: %s\nover records: %s", got, want)
			}
			if got := ids(`get_users() | pin_info | where(` + tc.closure + `)`); got != want {
				t.Errorf("closure %s: %s\nmap: %s", tc.closure, got, want)
			}
			if got := fused(tc.pred); got != tc.fused {
				t.Errorf("joined the scan: %v, want %v", got, tc.fused)
			}
			if (want == "[]") != tc.none {
				t.Errorf("selects %s", want)
			}
		})
	}
	// Chained maps join one scan; a contradiction is left to where.
	if got, want := ids(`get_users() | pin_info | where({is_pin_set: true}) | where({is_locked_out: false})`),
		ids(`all | where({is_pin_set: true, is_locked_out: false})`); got != want {
		t.Errorf("chained: %s, want %s", got, want)
	}
	if got := ids(`get_users() | pin_info | where({is_pin_set: true}) | where({is_pin_set: false})`); got != "[]" {
		t.Errorf("contradiction: %s", got)
	}
	// Expiry is judged at the clock's time, read for each chunk.
	ts.sh.cfg.Clock.Advance(2 * time.Hour)
	ts.must(`all = get_users() | pin_info | collect`)
	if got, want := ids(`get_users() | pin_info | where({is_pin_expired: true})`), ids(`all | where({is_pin_expired: true})`); got != want || !strings.Contains(got, "state5") {
		t.Errorf("two hours later: %s, want %s with state5", got, want)
	}
	// The errors of where are the same whether the map could join or not.
	for _, pred := range []string{`{is_pin_set: "true"}`, `{is_pin_set: undefined}`, `{is_pin_sett: true}`, `{}`} {
		_, _, errScan := ts.run(`get_users() | pin_info | where(` + pred + `) | count`)
		_, _, errAll := ts.run(`all | where(` + pred + `) | count`)
		// Both are reported at where, whose column differs.
		msg := func(err error) string { _, m, _ := strings.Cut(fmt.Sprint(err), ": where: "); return m }
		if errScan == nil || errAll == nil || msg(errScan) == "" || msg(errScan) != msg(errAll) {
			t.Errorf("where(%s): after the scan %v, over records %v", pred, errScan, errAll)
		}
	}
}
