package builtins

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// pushedDown reports whether the stream of pipeline (ending in a where)
// judges its where functions in Go (pinScanOrigin.tests), and whether
// one went to the store (PinQuery.Func).
func pushedDown(t *testing.T, ts *testShell, pipeline string) (inGo, inStore bool) {
	t.Helper()
	ts.must(`s__ := ` + pipeline)
	v, _ := ts.sess.Lookup("s__")
	s, ok := v.(*lang.Stream)
	if !ok {
		t.Fatalf("%s returned %T", pipeline, v)
	}
	o, ok := s.Origin().(pinScanOrigin)
	return ok && len(o.tests) > 0, ok && o.q.Pin.Func != nil
}

// TestWhereFunctionPushedDown pins the where functions Go judges itself
// (lang.FieldTest, in the scan of get_users() | pin_info) to Tengo's
// results for the same function over the same records, collected first so
// that where calls it on each: PINs that never expire, have expired at
// this very instant or will, fields a record leaves undefined (locked_by,
// last_pin_change_time, temporarily_locked_until), strings compared with
// == (case-sensitive), every comparison operator, and the users' own
// fields, which the store cannot judge. count gives the same number.
func TestWhereFunctionPushedDown(t *testing.T) {
	ts := newTestShell(t)
	loadPinStates(t, ts)
	ts.must(`all := get_users() | pin_info | collect`)
	ids := func(code string) string { t.Helper(); return identities(ts, code) }
	for _, tc := range []struct {
		fn      string
		inStore bool // reads PIN fields only
	}{
		{`func(p) { return p.is_pin_set && !p.is_locked_out }`, true},
		{`func(p) { return !p.is_pin_set }`, true}, // users without a PIN match
		{`func(p) { return p.is_locked_out || p.is_pin_expired }`, true},
		{`func(p) { return p.is_pin_set == true && p.is_locked_out != true }`, true},
		{`func(p) { return p.locked_by == "admin" }`, true},
		{`func(p) { return p.locked_by == "Admin" }`, true}, // == is case-sensitive: nobody
		{`func(p) { return p.locked_by != "system" }`, true},
		{`func(p) { return p.locked_by == undefined }`, true},
		{`func(p) { return p.locked_by }`, true},
		{`func(p) { return p.failed_attempts > 3 }`, true},
		{`func(p) { return p.failed_attempts >= 100 && p.failed_attempts <= 100.0 }`, true},
		{`func(p) { return p.failed_attempts == 0 }`, true},
		{`func(p) { return p.pin_expiration_time }`, true}, // never is falsy
		{`func(p) { return !p.pin_expiration_time }`, true},
		{`func(p) { return p.pin_expiration_time == undefined }`, true}, // never is not undefined
		{`func(p) { return p.pin_expiration_time < p.temporarily_locked_until }`, true},
		{`func(p) { return p.pin_expiration_time > p.last_pin_change_time }`, true},
		{`func(p) { return p.pin_expiration_time >= p.pin_expiration_time }`, true},
		{`func(p) { return p.last_pin_change_time == undefined }`, true},
		{`func(p) { return p.temporarily_locked_until != undefined }`, true},
		{`func(p) { if p.is_pin_set { return p.is_pin_expired }; return p.last_pin_change_time }`, true},
		{`func(p) { return p.is_pin_set ? !p.is_locked_out : p.last_pin_change_time != undefined }`, true},
		{`func(p) { return p.identity == "sip:state2@litwareinc.com" || p.is_locked_out }`, false},
		{`func(p) { return p.display_name == "State 3" }`, false},
		{`func(p) { return p.identity < "sip:state5" && p.is_pin_set }`, false},
		{`func(p) { return p.display_name != undefined && !p.is_pin_set }`, false},
		{`func(p) { return p["is_pin_set"] && p["identity"] >= "sip:state4" }`, false},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			want := ids(`all | where(` + tc.fn + `)`)
			if got := ids(`get_users() | pin_info | where(` + tc.fn + `)`); got != want {
				t.Errorf("in the scan: %s\nTengo over records: %s", got, want)
			}
			if got, want := ts.value(`get_users() | pin_info | where(`+tc.fn+`) | count`), ts.value(`all | where(`+tc.fn+`) | count`); got != want {
				t.Errorf("count: %s, want %s", got, want)
			}
			inGo, inStore := pushedDown(t, ts, `get_users() | pin_info | where(`+tc.fn+`)`)
			if !inGo || inStore != tc.inStore {
				t.Errorf("judged in Go %v, by the store %v (want %v)", inGo, inStore, tc.inStore)
			}
		})
	}
	// The table selects users of every kind: it is not all empty.
	if got := ids(`get_users() | pin_info | where(func(p) { return p.failed_attempts > 3 })`); !strings.Contains(got, "state7") {
		t.Errorf("failed_attempts > 3: %s", got)
	}
	// A function and field maps chain into one scan, in either order.
	want := ids(`all | where({is_pin_set: true}) | where(func(p) { return p.pin_expiration_time > p.last_pin_change_time }) | where({is_locked_out: false})`)
	for _, p := range []string{
		`get_users() | pin_info | where({is_pin_set: true}) | where(func(p) { return p.pin_expiration_time > p.last_pin_change_time }) | where({is_locked_out: false})`,
		`get_users() | pin_info | where(func(p) { return p.pin_expiration_time > p.last_pin_change_time }) | where({is_pin_set: true, is_locked_out: false})`,
		`get_users() | pin_info | where(func(p) { return p.display_name != "x" }) | where(func(p) { return p.pin_expiration_time > p.last_pin_change_time }) | where({is_pin_set: true, is_locked_out: false})`,
	} {
		if got := ids(p); got != want || want == "[]" {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	// Expiry is judged at the clock's time, read for each chunk.
	ts.sh.cfg.Clock.Advance(2 * time.Hour)
	ts.must(`all = get_users() | pin_info | collect`)
	fn := `func(p) { return p.is_pin_expired && p.temporarily_locked_until == undefined }`
	if got, want := ids(`get_users() | pin_info | where(`+fn+`)`), ids(`all | where(`+fn+`)`); got != want || !strings.Contains(got, "state5") {
		t.Errorf("two hours later: %s, want %s with state5", got, want)
	}
}

// TestWhereFunctionNotPushedDown: functions that are more than a test of
// fields run in Tengo as before, with the same results and errors.
func TestWhereFunctionNotPushedDown(t *testing.T) {
	ts := newTestShell(t)
	loadPinStates(t, ts)
	ts.must(`all := get_users() | pin_info | collect; cutoff := now(); wanted := "admin"`)
	for _, fn := range []string{
		`func(p) { return p.pin_expiration_time < now() }`,                  // a call
		`func(p) { return p.pin_expiration_time < cutoff }`,                 // a global
		`func(p) { return p.locked_by == wanted }`,                          // a global
		`func(p) { return is_undefined(p.locked_by) }`,                      // a builtin
		`func(p) { x := p.failed_attempts; return x > 3 }`,                  // a local
		`func(p) { return p.failed_attempts + 1 > 3 }`,                      // arithmetic
		`func(p) { return p.display_name > "State" }`,                       // undefined > "State" would fail
		`func(p) { return p.locked_by > "a" }`,                              // and fails on the first unlocked PIN
		`func(p) { return p.last_pin_change_time > p.pin_expiration_time }`, // undefined on the left would fail
	} {
		if inGo, _ := pushedDown(t, ts, `get_users() | pin_info | where(`+fn+`)`); inGo {
			t.Errorf("%s: pushed down", fn)
		}
		_, _, errScan := ts.run(`n1 := get_users() | pin_info | where(` + fn + `) | count`)
		_, _, errAll := ts.run(`n2 := all | where(` + fn + `) | count`)
		if (errScan == nil) != (errAll == nil) {
			t.Errorf("%s: errors %v and %v", fn, errScan, errAll)
		}
		if errScan == nil && ts.value(`n1`) != ts.value(`n2`) {
			t.Errorf("%s: %s, want %s", fn, ts.value(`n1`), ts.value(`n2`))
		}
	}
	// A misspelt field is Tengo's error, named, whichever way.
	_, _, err := ts.run(`get_users() | pin_info | where(func(p) { return p.is_pin_sett }) | count`)
	if err == nil || !strings.Contains(err.Error(), "is_pin_sett") {
		t.Errorf("misspelt field: %v", err)
	}
}

// plainStore hides every optional interface of a Store (PinCounter,
// PinInfoAppender, LeanChanger), as a backend that has none.
type plainStore struct{ store.Store }

// cancelOnCount is a store whose counts cancel the run after the first
// chunk, as a Ctrl-C during a long count would.
type cancelOnCount struct {
	store.Store
	cancel func()
	chunks int
}

func (c *cancelOnCount) CountPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) (int, store.UserID, error) {
	c.chunks++
	c.cancel()
	return store.CountPinInfos(ctx, c.Store, q, after, 1) // chunks of one user: the count has more to do
}

// failCount is a store whose counts fail.
type failCount struct{ store.Store }

var errDiskOnFire = errors.New("disk on fire")

func (failCount) CountPinInfos(context.Context, store.UserQuery, store.UserID, int) (int, store.UserID, error) {
	return 0, 0, errDiskOnFire
}

// TestCountFused: count after get_users() | pin_info and the wheres that
// join it counts in the store, without records, the same number as
// counting the records; on a backend that cannot count, by its chunks of
// PIN infos; it stops when the run is interrupted, and a store error is
// the scan's, named after the stage.
func TestCountFused(t *testing.T) {
	pipelines := []string{
		`get_users()`,
		`get_users({ou: "OU=Redmond,DC=litwareinc,DC=com"})`,
		`get_users() | pin_info`,
		`get_users({ou: "OU=Redmond,DC=litwareinc,DC=com"}) | pin_info`,
		`get_users({ldap_filter: "(department=Finance)"}) | pin_info`,
		`get_users() | pin_info | where({is_pin_set: true, is_locked_out: false})`,
		`get_users() | pin_info | where({is_pin_set: false})`,
		`get_users() | pin_info | where(func(p) { return p.is_pin_set && !p.is_locked_out })`,
		`get_users() | pin_info | where(func(p) { return !p.is_pin_set || p.locked_by == "system" })`,
		`get_users() | pin_info | where(func(p) { return p.identity < "sip:state4" })`,
		`get_users({ou: "OU=Redmond,DC=litwareinc,DC=com"}) | pin_info | where(func(p) { return p.is_pin_set })`,
	}
	for _, wrap := range []struct {
		name string
		opts []shellOption
	}{
		{"bbolt", nil},
		{"no PinCounter", []shellOption{func(c *Config) { c.Store = plainStore{c.Store} }}},
	} {
		ts := newTestShell(t, wrap.opts...)
		loadPinStates(t, ts)
		for _, p := range pipelines {
			counted, collected := ts.value(p+` | count`), ts.value(`len(`+p+` | collect)`)
			if counted != collected || counted == "0" {
				t.Errorf("%s: %s | count = %s, %s collected", wrap.name, p, counted, collected)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc := &cancelOnCount{cancel: cancel}
	ts := newTestShell(t, func(c *Config) { cc.Store = c.Store; c.Store = cc })
	err := ts.sess.Eval(ctx, "test", []byte(`get_users() | pin_info | count`))
	var le *lang.Error
	if !errors.As(err, &le) || le.Kind != lang.Interrupted || cc.chunks != 1 {
		t.Errorf("count interrupted after its first chunk: %v, %d chunks", err, cc.chunks)
	}

	ts = newTestShell(t, func(c *Config) { c.Store = failCount{c.Store} })
	_, _, err = ts.run(`get_users() | pin_info | where({is_pin_set: true}) | count`)
	if err == nil || !strings.Contains(err.Error(), "where: disk on fire") {
		t.Errorf("a store error: %v", err)
	}
}

// TestPinInfoKinds: the kinds pin_info declares for FieldTest are the
// kinds its fields hold, for every kind of PIN state; a kind left out
// would let Go judge a comparison that fails in Tengo.
func TestPinInfoKinds(t *testing.T) {
	if len(pinInfoKinds) != len(pinInfoSchema.Fields()) {
		t.Fatalf("%d kinds for %d fields", len(pinInfoKinds), len(pinInfoSchema.Fields()))
	}
	ts := newTestShell(t)
	loadPinStates(t, ts)
	noName := func(yield func(store.LoadRow) bool) {
		yield(store.LoadRow{Line: 1, User: store.User{SipAddress: "noname@litwareinc.com", Enabled: true}})
	}
	if rep, err := ts.st.LoadUsers(context.Background(), store.Op{Operator: testAdmin, Now: testNow}, noName, nil); err != nil || rep.Imported != 1 {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	var infos []store.PinInfo
	for after := store.UserID(0); ; {
		chunk, next, err := ts.st.ScanPinInfos(context.Background(), store.UserQuery{}, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, chunk...)
		if after = next; next == 0 {
			break
		}
	}
	seen := make([]lang.Kinds, len(pinInfoKinds))
	for _, now := range []time.Time{testNow, testNow.Add(2 * time.Hour)} {
		for i := range infos {
			for f := range pinInfoKinds {
				v := pinInfoField(&infos[i], now, f)
				k := lang.KindUndefined
				if v != nil {
					k = lang.KindOf(v)
				}
				if k == 0 || k&^pinInfoKinds[f] != 0 {
					t.Errorf("%s of %s is a %s", pinInfoSchema.Fields()[f], infos[i].Identity, v.TypeName())
				}
				seen[f] |= k
			}
		}
	}
	for f, k := range seen {
		if k != pinInfoKinds[f] {
			t.Errorf("%s: declared kinds %b, seen %b: the states above miss some", pinInfoSchema.Fields()[f], pinInfoKinds[f], k)
		}
	}
}

// TestWhereFunctionPushedDownProperty generates where functions over
// pin_info's fields (comparisons with constants and with each other, !,
// &&, ||, ?:) and checks that the scan selects what Tengo selects from
// the collected records, or fails as Tengo does; and that many of them
// were judged in Go, so that the property says something.
func TestWhereFunctionPushedDownProperty(t *testing.T) {
	ts := newTestShell(t)
	loadPinStates(t, ts)
	ts.must(`all := get_users() | pin_info | collect`)
	r := rand.New(rand.NewPCG(5, 6))
	fields := []string{"identity", "display_name", "is_pin_set", "is_locked_out", "locked_by", "is_pin_expired",
		"last_pin_change_time", "pin_expiration_time", "failed_attempts", "temporarily_locked_until"}
	consts := []string{`"admin"`, `"Admin"`, `"system"`, `""`, `"sip:state3@litwareinc.com"`, "0", "5", "100", "2.5", "true", "false", "undefined"}
	ops := []string{"==", "!=", "<", "<=", ">", ">="}
	leaf := func() string {
		if r.IntN(3) > 0 {
			return "p." + fields[r.IntN(len(fields))]
		}
		return consts[r.IntN(len(consts))]
	}
	var expr func(depth int) string
	expr = func(depth int) string {
		if depth == 0 {
			return leaf()
		}
		switch r.IntN(6) {
		case 0:
			return "!" + expr(depth-1)
		case 1:
			return "(" + expr(depth-1) + " && " + expr(depth-1) + ")"
		case 2:
			return "(" + expr(depth-1) + " || " + expr(depth-1) + ")"
		case 3:
			return "(" + expr(depth-1) + " ? " + expr(depth-1) + " : " + expr(depth-1) + ")"
		default:
			return "(" + leaf() + " " + ops[r.IntN(len(ops))] + " " + leaf() + ")"
		}
	}
	n := 200
	if testing.Short() {
		n = 60
	}
	inGoCount := 0
	for range n {
		fn := "func(p) { return " + expr(3) + " }"
		want, _, errWant := ts.run(`out := []; all | where(` + fn + `) | each(func(p) { out = append(out, p.identity) }); out`)
		got, _, errGot := ts.run(`out := []; get_users() | pin_info | where(` + fn + `) | each(func(p) { out = append(out, p.identity) }); out`)
		if (errWant == nil) != (errGot == nil) || got != want {
			t.Fatalf("%s: the scan gave %q (%v), Tengo over records %q (%v)", fn, got, errGot, want, errWant)
		}
		if errWant == nil {
			if c1, c2 := ts.value(`get_users() | pin_info | where(`+fn+`) | count`), ts.value(`all | where(`+fn+`) | count`); c1 != c2 {
				t.Fatalf("%s: count %s, want %s", fn, c1, c2)
			}
		}
		if inGo, _ := pushedDown(t, ts, `get_users() | pin_info | where(`+fn+`)`); inGo {
			inGoCount++
			if errWant != nil {
				t.Fatalf("%s: judged in Go, but Tengo fails: %v", fn, errWant)
			}
		}
	}
	t.Logf("%d of %d judged in Go", inGoCount, n)
	if inGoCount < n/4 {
		t.Errorf("only %d of %d generated functions judged in Go", inGoCount, n)
	}
}
