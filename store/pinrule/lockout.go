package pinrule

import (
	"time"

	"github.com/pinsh/pinsh/store"
)

// Lockout durations of facts §6.
const (
	// ObservationWindow is how long a window opened by a failed attempt
	// collects failures on the local counter.
	ObservationWindow = 30 * time.Minute
	// TempLockDuration is how long reaching the local limit inside a window
	// locks the PIN.
	TempLockDuration = time.Hour
)

// Reason is the outcome of a PIN logon attempt, as verify_pin reports it.
type Reason string

const (
	OK                Reason = "ok"
	WrongPin          Reason = "wrong_pin"
	TemporarilyLocked Reason = "temporarily_locked"
	Locked            Reason = "locked"
	Expired           Reason = "expired"
	NoPin             Reason = "no_pin"
	Disabled          Reason = "disabled"
	// NoSuchUser is the store's reason for an identity that names no user;
	// Attempt never returns it.
	NoSuchUser Reason = "no_such_user"
)

// Limits returns the local (per observation window) and global (until an
// admin unlock) failure limits for a PIN of pinLength digits under p.
//
// The global limit follows the PIN length: 4 digits or fewer 100, 5 digits
// 1,000, 6 or more 5,000. The local limit is p.MaximumLogonAttempts when it
// is set (above 0), else it follows the length too: 4 digits or fewer 10,
// 5 or more 25. MaximumLogonAttempts never changes the global limit. Lengths
// below 4 (a PIN set before pinsh enforced the minimum) get the strictest
// tier.
func Limits(p store.Policy, pinLength int) (local, global int) {
	switch {
	case pinLength <= 4:
		local, global = 10, 100
	case pinLength == 5:
		local, global = 25, 1000
	default:
		local, global = 25, 5000
	}
	if p.MaximumLogonAttempts > 0 {
		local = p.MaximumLogonAttempts
	}
	return local, global
}

// Attempt applies one PIN logon attempt at now to st, the PIN state of a user
// whose effective policy is p and whose account is enabled or not. It returns
// the new state and the reason, deciding in this order:
//
//  1. no PIN set (!st.IsSet): NoPin;
//  2. the user is disabled: Disabled;
//  3. locked by an admin or the system (st.LockedBy): Locked;
//  4. temporarily locked (now before st.TempLockUntil): TemporarilyLocked;
//     even the correct PIN is refused;
//  5. expired (st.Expires set and not after now): Expired.
//
// In these five cases check is not called, no counter changes and st is
// returned unchanged: such attempts are neither verified nor counted.
// Otherwise check is called once to compare the PIN, and a temporary lock
// that has ended is cleared:
//
//   - correct: OK. The local counter goes back to 0 and the observation
//     window closes; the global counter is untouched (only an admin unlock
//     resets it).
//   - wrong: WrongPin. If no observation window is open, or the open one
//     started ObservationWindow or more before now, a new window opens at
//     now with the local counter at 0. Then both counters count the failure.
//     If the global counter reaches the global limit (Limits for st.Length),
//     the PIN is locked by the system until an admin unlocks it. Else, if
//     the local counter reaches the local limit, the PIN is locked until
//     now+TempLockDuration, the local counter goes back to 0 and the window
//     closes, so that the first failure after the lock opens a fresh window.
//
// check must not be nil.
func Attempt(st store.PinState, p store.Policy, enabled bool, now time.Time, check func() bool) (store.PinState, Reason) {
	switch {
	case !st.IsSet:
		return st, NoPin
	case !enabled:
		return st, Disabled
	case st.LockedBy != store.NotLocked:
		return st, Locked
	case now.Before(st.TempLockUntil):
		return st, TemporarilyLocked
	case !st.Expires.IsZero() && !st.Expires.After(now):
		return st, Expired
	}
	st.TempLockUntil = time.Time{}
	if check() {
		st.LocalFailures = 0
		st.WindowStart = time.Time{}
		return st, OK
	}
	if st.WindowStart.IsZero() || !now.Before(st.WindowStart.Add(ObservationWindow)) {
		st.WindowStart = now
		st.LocalFailures = 0
	}
	st.LocalFailures++
	st.GlobalFailures++
	local, global := Limits(p, st.Length)
	switch {
	case st.GlobalFailures >= global:
		st.LockedBy = store.LockedBySystem
	case st.LocalFailures >= local:
		st.TempLockUntil = now.Add(TempLockDuration)
		st.LocalFailures = 0
		st.WindowStart = time.Time{}
	}
	return st, WrongPin
}

// Unlock returns st as an admin unlock leaves it (Unlock-CsClientPin): not
// locked by anyone, no temporary lock, no open observation window and both
// failure counters at 0. The PIN itself, its expiry and history are kept.
func Unlock(st store.PinState) store.PinState {
	st.LockedBy = store.NotLocked
	st.TempLockUntil = time.Time{}
	st.WindowStart = time.Time{}
	st.LocalFailures = 0
	st.GlobalFailures = 0
	return st
}

// AdminLock locks st as an admin lock does (Lock-CsClientPin), or says why
// there is nothing to lock: store.ErrNoPin without a PIN,
// store.ErrAlreadyLocked when it is locked already. Every backend's
// LockPins applies it.
func AdminLock(st *store.PinState) error {
	switch {
	case !st.IsSet:
		return store.ErrNoPin
	case st.LockedBy != store.NotLocked:
		return store.ErrAlreadyLocked
	}
	st.LockedBy = store.LockedByAdmin
	return nil
}

// AdminUnlock unlocks st at now as Unlock does, or returns
// store.ErrNotLocked when it is neither locked nor temporarily locked.
// Every backend's UnlockPins applies it.
func AdminUnlock(st *store.PinState, now time.Time) error {
	if st.LockedBy == store.NotLocked && !now.Before(st.TempLockUntil) {
		return store.ErrNotLocked
	}
	*st = Unlock(*st)
	return nil
}
