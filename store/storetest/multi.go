package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
)

// Hosts is what the contract tests of several instances on one database
// need of a backend, besides Run's open.
type Hosts struct {
	// Open returns a new, empty store, as Run's open does.
	Open func(t *testing.T) store.Store
	// Again returns another instance on the database of s, as a second
	// admin host would open it (same key file). A backend that serves one
	// host returns s itself: the bbolt backend's file is locked by the
	// process that opened it, so its "second host" is a second goroutine
	// on the same *Store, and the tests then check that its methods are
	// safe for concurrent use without lost updates. The caller closes
	// what Again returns only when it is not s.
	Again func(t *testing.T, s store.Store) store.Store
	// LoseReply makes the next commit of s ambiguous: the commit reaches
	// the database (committed) or not, and the store sees its reply lost,
	// as after a connection reset or a member killed. It reports false
	// when the backend cannot lose a reply that way: a local bbolt commit
	// cannot be committed with its reply lost (its outcome is known when
	// the call returns), so for it only committed false applies (a commit
	// that fails).
	LoseReply func(t *testing.T, s store.Store, committed bool) bool
}

// RunHosts runs the contract tests of several instances on one database
// (two hosts): concurrent verifies of one user, overlapping bulk locks,
// and ambiguous commits.
func RunHosts(t *testing.T, h Hosts) {
	t.Run("ConcurrentVerify", func(t *testing.T) { testConcurrentVerify(t, h) })
	t.Run("OverlappingLocks", func(t *testing.T) { testOverlappingLocks(t, h) })
	t.Run("AmbiguousCommit", func(t *testing.T) { testAmbiguousCommit(t, h) })
}

// hosts opens a store and its second instance.
func hosts(t *testing.T, h Hosts) (a, b store.Store) {
	t.Helper()
	a = h.Open(t)
	t.Cleanup(func() { a.Close() })
	b = h.Again(t, a)
	if b != a {
		t.Cleanup(func() { b.Close() })
	}
	return a, b
}

// testConcurrentVerify: eight goroutines, four on each instance, make
// wrong PIN attempts for one user at one (frozen) time. With a local
// limit of 3, exactly 3 attempts are counted as wrong_pin, the rest find
// the PIN temporarily locked: a lost counter update would let more
// through. With the local limit out of reach, exactly the global limit
// (100 for 4 digits) are counted, the last of which locks the PIN, and
// every attempt after finds it locked. Every attempt has its audit entry.
func testConcurrentVerify(t *testing.T, h Hosts) {
	a, b := hosts(t, h)
	for _, tc := range []struct {
		name        string
		maxAttempts int
		each        int // attempts per goroutine
		wrong       int // how many must count
		after       string
	}{
		{"local", 3, 4, 3, "temporarily_locked"},
		{"global", 999, 15, 100, "locked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "tag:verify-" + tc.name
			if _, err := a.NewPolicy(ctx, op(T0()), tag, store.PolicyChanges{MinPasswordLength: ptr(4), MaximumLogonAttempts: ptr(tc.maxAttempts)}); err != nil {
				t.Fatal(err)
			}
			u := litware("verify"+tc.name, "Verify "+tc.name)
			u.PinPolicy = tag
			u = create(t, a, u)
			if r := setPin(t, a, T0(), u.ID, "4815"); r.Err != nil {
				t.Fatal(r.Err)
			}
			now := T0().Add(time.Minute)
			reasons := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for g := range 8 {
				s := []store.Store{a, b}[g%2]
				wg.Go(func() {
					for range tc.each {
						v, err := s.VerifyPin(ctx, op(now), u.ID, "0000")
						mu.Lock()
						if err != nil {
							reasons["error: "+err.Error()]++
						} else {
							reasons[v.Reason]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			total := 8 * tc.each
			if reasons["wrong_pin"] != tc.wrong || reasons[tc.after] != total-tc.wrong {
				t.Errorf("%d concurrent wrong attempts: %v; want %d wrong_pin and %d %s", total, reasons, tc.wrong, total-tc.wrong, tc.after)
			}
			p := info(t, b, u.ID)
			if p.GlobalFailures != tc.wrong {
				t.Errorf("global failures %d after %d counted failures: %+v", p.GlobalFailures, tc.wrong, p)
			}
			if tc.after == "locked" && p.LockedBy != store.LockedBySystem || tc.after == "temporarily_locked" && !p.TempLockUntil.After(now) {
				t.Errorf("PIN state after the limit: %+v", p)
			}
			es := scanAudit(t, a, store.AuditQuery{Action: "verify_pin", Target: u.SipAddress}, 1000)
			if len(es) != total {
				t.Errorf("%d verify_pin audit entries for %d attempts", len(es), total)
			}
		})
	}
}

// testOverlappingLocks: the two instances lock overlapping sets of users
// at once (300 and 300 of 450, bigger than one etcd transaction), in
// rounds with an unlock between: every PIN ends locked once, by exactly
// one of the calls (the other skips it as already locked), with one
// lock_pin audit entry.
func testOverlappingLocks(t *testing.T, h Hosts) {
	a, b := hosts(t, h)
	const n = 450
	ids := loadWithPins(t, a, n)
	sets := [][]store.UserID{ids[:300], ids[150:]}
	for round := range 3 {
		at := T0().Add(time.Duration(round) * time.Hour)
		results := make([][]store.ItemResult, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range []store.Store{a, b} {
			wg.Go(func() { results[i], errs[i] = s.LockPins(ctx, op(at), sets[i]) })
		}
		wg.Wait()
		changed := map[store.UserID]int{}
		for i, rs := range results {
			if errs[i] != nil {
				t.Fatalf("round %d: LockPins on instance %d: %v", round, i, errs[i])
			}
			for _, r := range rs {
				switch {
				case r.Outcome == store.Changed:
					changed[r.ID]++
				case r.Outcome != store.Skipped || !errors.Is(r.Err, store.ErrAlreadyLocked):
					t.Fatalf("round %d: %+v", round, r)
				}
			}
		}
		for _, id := range ids {
			if changed[id] != 1 {
				t.Fatalf("round %d: user %d locked by %d calls, want 1", round, id, changed[id])
			}
		}
		es := scanAudit(t, b, store.AuditQuery{Action: "lock_pin", Since: at, Until: at.Add(time.Minute)}, 1000)
		targets := map[string]int{}
		for _, e := range es {
			targets[e.Target]++
		}
		if len(es) != n || len(targets) != n {
			t.Fatalf("round %d: %d lock_pin entries for %d targets; want %d, one each", round, len(es), len(targets), n)
		}
		ps, err := a.PinInfos(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.LockedBy != store.LockedByAdmin {
				t.Fatalf("round %d: %+v not locked", round, p)
			}
		}
		res, err := b.UnlockPins(ctx, op(at.Add(time.Minute)), ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != store.Changed {
				t.Fatalf("round %d: unlock %+v", round, r)
			}
		}
	}
}

// loadWithPins loads n users with the PIN 48151 and returns their IDs.
func loadWithPins(t *testing.T, s store.Store, n int) []store.UserID {
	t.Helper()
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			r := store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("many%04d@litwareinc.com", i), Enabled: true},
				Pin: "48151", State: store.PinState{LastChange: T0()}}
			if !yield(r) {
				return
			}
		}
	}
	if rep, err := s.LoadUsers(ctx, op(T0()), rows, nil); err != nil || rep.Imported != n {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	us, _, err := s.ScanUsers(ctx, store.UserQuery{}, 0, n+10)
	if err != nil || len(us) != n {
		t.Fatalf("ScanUsers = %d users, %v", len(us), err)
	}
	ids := make([]store.UserID, n)
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

// testAmbiguousCommit loses the reply of one commit of each kind of
// change, committed or not: the store must find out, so that the change is
// neither repeated nor dropped. A commit that went through is reported
// done (for a generated PIN: with the PIN, which verifies), with one audit
// entry; one that did not either is tried again and done once, or fails
// with an error and changes nothing.
func testAmbiguousCommit(t *testing.T, h Hosts) {
	s := h.Open(t)
	defer s.Close()
	for _, committed := range []bool{true, false} {
		t.Run(fmt.Sprintf("committed=%v", committed), func(t *testing.T) {
			if !h.LoseReply(t, s, committed) {
				t.Logf("this backend cannot lose the reply of a commit that went through; only a failed commit applies")
				return
			}
			// One step per kind of change: each loses its commit's reply.
			tag := fmt.Sprint(committed)
			at := T0().Add(time.Hour)
			u, err := s.CreateUser(ctx, op(at), litware("amb"+tag, "Amb "+tag))
			done := countEntries(t, s, "new_user", "sip:amb"+tag+"@litwareinc.com")
			if found := find(t, s, "Amb "+tag); !oneOutcome(t, "CreateUser", committed, err == nil, done, len(found)) {
				return
			}
			if err != nil {
				u = create(t, s, litware("amb"+tag, "Amb "+tag))
			}

			h.LoseReply(t, s, committed)
			res, err := s.SetPins(ctx, op(at), []store.SetPinRequest{{ID: u.ID}})
			done = countEntries(t, s, "set_pin", u.SipAddress)
			ok := err == nil && res[0].Outcome == store.Changed
			oneOutcome(t, "SetPins", committed, ok, done, boolInt(info(t, s, u.ID).IsSet))
			if ok {
				if v, _ := s.VerifyPin(ctx, op(at), u.ID, res[0].Pin); !v.OK {
					t.Errorf("the generated PIN reported after a lost reply does not verify: %+v", v)
				}
			} else {
				setPin(t, s, at, u.ID, "48151")
			}

			before := info(t, s, u.ID).GlobalFailures
			verifies := countEntries(t, s, "verify_pin", u.SipAddress)
			h.LoseReply(t, s, committed)
			v, err := s.VerifyPin(ctx, op(at), u.ID, "00000")
			ok = err == nil && v.Reason == "wrong_pin"
			oneOutcome(t, "VerifyPin", committed, ok, countEntries(t, s, "verify_pin", u.SipAddress)-verifies, info(t, s, u.ID).GlobalFailures-before)

			h.LoseReply(t, s, committed)
			rs, err := s.LockPins(ctx, op(at), []store.UserID{u.ID})
			ok = err == nil && rs[0].Outcome == store.Changed
			oneOutcome(t, "LockPins", committed, ok, countEntries(t, s, "lock_pin", u.SipAddress), boolInt(info(t, s, u.ID).IsLockedOut()))
		})
	}
}

// oneOutcome checks one change whose commit lost its reply: done says
// whether the call reported it done, entries and effects count its audit
// entries and its effect in the database. Done: exactly one of each. Not
// done (only allowed when the commit did not go through): none.
func oneOutcome(t *testing.T, what string, committed, done bool, entries, effects int) bool {
	t.Helper()
	switch {
	case committed && !done:
		t.Errorf("%s: a commit that went through was reported failed (%d audit entries): the store did not find out", what, entries)
	case done && (entries != 1 || effects != 1):
		t.Errorf("%s: reported done with %d audit entries and %d effects; want one of each (repeated?)", what, entries, effects)
	case !done && (entries != 0 || effects != 0):
		t.Errorf("%s: reported failed with %d audit entries and %d effects; want none", what, entries, effects)
	default:
		return true
	}
	return false
}

func countEntries(t *testing.T, s store.Store, action, target string) int {
	t.Helper()
	return len(scanAudit(t, s, store.AuditQuery{Action: action, Target: target}, 1000))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
