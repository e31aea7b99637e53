package pinrule

import (
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
)

var t0 = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

func TestLimits(t *testing.T) {
	tests := []struct {
		name          string
		max, length   int
		local, global int
	}{
		{"4 digits", 0, 4, 10, 100},
		{"5 digits", 0, 5, 25, 1000},
		{"6 digits", 0, 6, 25, 5000},
		{"8 digits", 0, 8, 25, 5000},
		{"24 digits", 0, 24, 25, 5000},
		{"shorter than 4", 0, 3, 10, 100},
		{"unknown length", 0, 0, 10, 100},
		{"policy 3, 4 digits", 3, 4, 3, 100},
		{"policy 3, 5 digits", 3, 5, 3, 1000},
		{"policy 3, 6 digits", 3, 6, 3, 5000},
		{"policy 999, 8 digits", 999, 8, 999, 5000},
		{"policy 1, 8 digits", 1, 8, 1, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, global := Limits(store.Policy{MaximumLogonAttempts: tt.max}, tt.length)
			if local != tt.local || global != tt.global {
				t.Errorf("Limits(max %d, length %d) = %d, %d; want %d, %d",
					tt.max, tt.length, local, global, tt.local, tt.global)
			}
		})
	}
}

// pinSet is a fresh, unlocked 5-digit PIN state.
func pinSet() store.PinState {
	return store.PinState{IsSet: true, Length: 5, LastChange: t0.Add(-24 * time.Hour)}
}

func TestAttemptRefusals(t *testing.T) {
	tests := []struct {
		name    string
		st      func(store.PinState) store.PinState
		enabled bool
		want    Reason
	}{
		{"no pin", func(s store.PinState) store.PinState { s.IsSet = false; return s }, true, NoPin},
		{"no pin beats disabled", func(s store.PinState) store.PinState { s.IsSet = false; return s }, false, NoPin},
		{"disabled", func(s store.PinState) store.PinState { return s }, false, Disabled},
		{"disabled beats locked", func(s store.PinState) store.PinState { s.LockedBy = store.LockedByAdmin; return s }, false, Disabled},
		{"locked by admin", func(s store.PinState) store.PinState { s.LockedBy = store.LockedByAdmin; return s }, true, Locked},
		{"locked by system", func(s store.PinState) store.PinState { s.LockedBy = store.LockedBySystem; return s }, true, Locked},
		{"locked beats temporary", func(s store.PinState) store.PinState {
			s.LockedBy = store.LockedByAdmin
			s.TempLockUntil = t0.Add(time.Minute)
			return s
		}, true, Locked},
		{"temporarily locked", func(s store.PinState) store.PinState { s.TempLockUntil = t0.Add(time.Nanosecond); return s }, true, TemporarilyLocked},
		{"temporary beats expired", func(s store.PinState) store.PinState {
			s.TempLockUntil = t0.Add(time.Minute)
			s.Expires = t0.Add(-time.Minute)
			return s
		}, true, TemporarilyLocked},
		{"expired now", func(s store.PinState) store.PinState { s.Expires = t0; return s }, true, Expired},
		{"expired yesterday", func(s store.PinState) store.PinState { s.Expires = t0.Add(-24 * time.Hour); return s }, true, Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st(pinSet())
			st.GlobalFailures, st.LocalFailures, st.WindowStart = 7, 2, t0.Add(-time.Minute)
			called := false
			got, reason := Attempt(st, store.Policy{}, tt.enabled, t0, func() bool { called = true; return true })
			if reason != tt.want {
				t.Fatalf("reason %s, want %s", reason, tt.want)
			}
			if called {
				t.Error("check was called on a refused attempt")
			}
			if !equalState(got, st) {
				t.Errorf("state changed on a refused attempt:\n got %+v\nwant %+v", got, st)
			}
		})
	}
}

func TestAttemptNotExpiredYet(t *testing.T) {
	st := pinSet()
	st.Expires = t0.Add(time.Nanosecond)
	if _, reason := Attempt(st, store.Policy{}, true, t0, func() bool { return true }); reason != OK {
		t.Fatalf("reason %s, want ok", reason)
	}
}

func equalState(a, b store.PinState) bool {
	return a.IsSet == b.IsSet && a.LockedBy == b.LockedBy && a.Length == b.Length &&
		a.LastChange.Equal(b.LastChange) && a.Expires.Equal(b.Expires) &&
		a.LocalFailures == b.LocalFailures && a.GlobalFailures == b.GlobalFailures &&
		a.WindowStart.Equal(b.WindowStart) && a.TempLockUntil.Equal(b.TempLockUntil)
}

// step is one attempt in a lockout scenario: at offset from t0, with the
// correct PIN or not, and what must come out.
type step struct {
	at      time.Duration
	correct bool
	want    Reason
	local   int // local counter afterwards
	global  int // global counter afterwards
	checked bool
}

func runScenario(t *testing.T, st store.PinState, p store.Policy, steps []step) store.PinState {
	t.Helper()
	for i, s := range steps {
		called := false
		var reason Reason
		st, reason = Attempt(st, p, true, t0.Add(s.at), func() bool { called = true; return s.correct })
		if reason != s.want || called != s.checked || st.LocalFailures != s.local || st.GlobalFailures != s.global {
			t.Fatalf("step %d at +%v (correct %v): got %s checked %v local %d global %d; want %s checked %v local %d global %d",
				i, s.at, s.correct, reason, called, st.LocalFailures, st.GlobalFailures, s.want, s.checked, s.local, s.global)
		}
	}
	return st
}

func TestAttemptTemporaryLock(t *testing.T) {
	p := store.Policy{MaximumLogonAttempts: 3}
	st := runScenario(t, pinSet(), p, []step{
		{0, false, WrongPin, 1, 1, true},
		{10 * time.Minute, false, WrongPin, 2, 2, true},
		// Third failure, inside the window: temporary lock from now.
		{29 * time.Minute, false, WrongPin, 0, 3, true},
	})
	lockedAt := t0.Add(29 * time.Minute)
	if !st.TempLockUntil.Equal(lockedAt.Add(TempLockDuration)) {
		t.Fatalf("TempLockUntil = %v, want %v", st.TempLockUntil, lockedAt.Add(TempLockDuration))
	}
	if !st.WindowStart.IsZero() || st.LockedBy != store.NotLocked {
		t.Fatalf("after a temporary lock: window %v, locked by %v; want no window, not locked", st.WindowStart, st.LockedBy)
	}
	st = runScenario(t, st, p, []step{
		// During the hour even the correct PIN is refused, not checked, not counted.
		{30 * time.Minute, true, TemporarilyLocked, 0, 3, false},
		{29*time.Minute + TempLockDuration - time.Nanosecond, true, TemporarilyLocked, 0, 3, false},
		// The lock ends exactly an hour later.
		{29*time.Minute + TempLockDuration, true, OK, 0, 3, true},
	})
	if !st.TempLockUntil.IsZero() {
		t.Errorf("ended temporary lock not cleared: %v", st.TempLockUntil)
	}
}

func TestAttemptAfterTemporaryLockOpensFreshWindow(t *testing.T) {
	p := store.Policy{MaximumLogonAttempts: 2}
	release := 5*time.Minute + TempLockDuration
	st := runScenario(t, pinSet(), p, []step{
		{0, false, WrongPin, 1, 1, true},
		{5 * time.Minute, false, WrongPin, 0, 2, true},
		{release, false, WrongPin, 1, 3, true},
	})
	if want := t0.Add(release); !st.WindowStart.Equal(want) {
		t.Errorf("window after the lock starts %v, want %v", st.WindowStart, want)
	}
	if !st.TempLockUntil.IsZero() {
		t.Errorf("ended temporary lock not cleared: %v", st.TempLockUntil)
	}
	// One more inside the fresh window reaches the limit again.
	runScenario(t, st, p, []step{{release + 29*time.Minute, false, WrongPin, 0, 4, true}})
}

func TestAttemptFailuresInTwoWindowsDoNotLock(t *testing.T) {
	p := store.Policy{MaximumLogonAttempts: 3}
	st := runScenario(t, pinSet(), p, []step{
		{0, false, WrongPin, 1, 1, true},
		{20 * time.Minute, false, WrongPin, 2, 2, true},
		// Exactly 30 minutes after the window opened: a new window.
		{30 * time.Minute, false, WrongPin, 1, 3, true},
		{50 * time.Minute, false, WrongPin, 2, 4, true},
		{59 * time.Minute, true, OK, 0, 4, true},
	})
	if !st.TempLockUntil.IsZero() || st.LockedBy != store.NotLocked {
		t.Fatalf("locked after failures spread over windows: %+v", st)
	}
}

func TestAttemptSuccessResetsOnlyLocal(t *testing.T) {
	st := runScenario(t, pinSet(), store.Policy{}, []step{
		{0, false, WrongPin, 1, 1, true},
		{time.Minute, false, WrongPin, 2, 2, true},
		{2 * time.Minute, true, OK, 0, 2, true},
	})
	if !st.WindowStart.IsZero() {
		t.Errorf("success left the window open at %v", st.WindowStart)
	}
	// The next failure opens a new window at its own time.
	st = runScenario(t, st, store.Policy{}, []step{{3 * time.Minute, false, WrongPin, 1, 3, true}})
	if want := t0.Add(3 * time.Minute); !st.WindowStart.Equal(want) {
		t.Errorf("window starts %v, want %v", st.WindowStart, want)
	}
}

// TestAttemptPermanentLock drives failures, paced so that the local limit is
// never reached in a window, until the global limit locks the PIN for good.
func TestAttemptPermanentLock(t *testing.T) {
	tests := []struct {
		length int
		max    int
		global int
	}{
		{4, 0, 100},
		{5, 0, 1000},
		{6, 0, 5000},
		{8, 0, 5000},
		{4, 999, 100}, // a local limit above the global one: the global wins
	}
	for _, tt := range tests {
		st := store.PinState{IsSet: true, Length: tt.length}
		p := store.Policy{MaximumLogonAttempts: tt.max}
		now := t0
		for i := 1; i <= tt.global; i++ {
			var reason Reason
			st, reason = Attempt(st, p, true, now, func() bool { return false })
			if reason != WrongPin {
				t.Fatalf("length %d: failure %d gave %s", tt.length, i, reason)
			}
			if locked := st.LockedBy == store.LockedBySystem; locked != (i == tt.global) {
				t.Fatalf("length %d: after failure %d locked by system = %v", tt.length, i, locked)
			}
			if !st.TempLockUntil.IsZero() {
				t.Fatalf("length %d: failure %d locked temporarily", tt.length, i)
			}
			now = now.Add(ObservationWindow) // each failure in its own window
		}
		if st.GlobalFailures != tt.global {
			t.Errorf("length %d: global counter %d, want %d", tt.length, st.GlobalFailures, tt.global)
		}
		// Locked until an admin unlocks: the correct PIN, much later, is refused.
		if _, reason := Attempt(st, p, true, now.Add(365*24*time.Hour), func() bool { return true }); reason != Locked {
			t.Errorf("length %d: a year later got %s, want locked", tt.length, reason)
		}
		st = Unlock(st)
		if st.LockedBy != store.NotLocked || st.GlobalFailures != 0 || st.LocalFailures != 0 {
			t.Errorf("length %d: after Unlock %+v", tt.length, st)
		}
		if _, reason := Attempt(st, p, true, now, func() bool { return true }); reason != OK {
			t.Errorf("length %d: after unlock got %s, want ok", tt.length, reason)
		}
	}
}

// TestAttemptLengthDerivedLocalLimit checks the local limit that follows
// from the PIN length when the policy sets none: the failure that reaches it
// (all inside one window) locks temporarily, the one before does not.
func TestAttemptLengthDerivedLocalLimit(t *testing.T) {
	tests := []struct{ length, max, local int }{
		{4, 0, 10},
		{5, 0, 25},
		{6, 0, 25},
		{8, 0, 25},
		{4, 5, 5},
		{8, 5, 5},
	}
	for _, tt := range tests {
		st := store.PinState{IsSet: true, Length: tt.length}
		p := store.Policy{MaximumLogonAttempts: tt.max}
		for i := 1; i <= tt.local; i++ {
			now := t0.Add(time.Duration(i) * time.Second)
			st, _ = Attempt(st, p, true, now, func() bool { return false })
			if locked := !st.TempLockUntil.IsZero(); locked != (i == tt.local) {
				t.Fatalf("length %d max %d: failure %d temporarily locked = %v", tt.length, tt.max, i, locked)
			}
		}
	}
}

func TestUnlockClearsTemporaryLock(t *testing.T) {
	st := pinSet()
	st.TempLockUntil = t0.Add(time.Hour)
	st.WindowStart = t0
	st.LocalFailures, st.GlobalFailures = 3, 40
	st.LockedBy = store.LockedByAdmin
	st.Expires = t0.Add(48 * time.Hour)
	got := Unlock(st)
	want := pinSet()
	want.Expires = st.Expires
	if !equalState(got, want) {
		t.Errorf("Unlock = %+v\nwant %+v", got, want)
	}
}
