package store

import (
	"testing"
	"time"
)

func TestPinQueryMatch(t *testing.T) {
	now := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	none := PinInfo{}
	never := PinInfo{IsSet: true}
	expired := PinInfo{IsSet: true, Expires: now}
	later := PinInfo{IsSet: true, Expires: now.Add(time.Nanosecond)}
	cleared := PinInfo{Expires: now.Add(-time.Hour)} // an expiry without a PIN is not an expired PIN
	admin := PinInfo{IsSet: true, LockedBy: LockedByAdmin}
	system := PinInfo{IsSet: true, LockedBy: LockedBySystem}
	failed := func(p *PinInfo, at time.Time) bool { return p.GlobalFailures > 0 && at.Equal(now) }
	for _, tc := range []struct {
		q    PinQuery
		p    PinInfo
		want bool
	}{
		{PinQuery{}, none, true},
		{PinQuery{IsSet: WantTrue}, none, false},
		{PinQuery{IsSet: WantFalse}, none, true},
		{PinQuery{IsSet: WantTrue, IsLockedOut: WantFalse}, never, true},
		{PinQuery{IsSet: WantTrue, IsLockedOut: WantFalse}, admin, false},
		{PinQuery{IsLockedOut: WantTrue}, system, true},
		{PinQuery{LockedBy: LockedByAdmin}, system, false},
		{PinQuery{LockedBy: LockedBySystem}, system, true},
		{PinQuery{LockedBy: LockedByAdmin}, none, false},
		{PinQuery{IsExpired: WantTrue, Now: now}, never, false},
		{PinQuery{IsExpired: WantFalse, Now: now}, never, true},
		{PinQuery{IsExpired: WantTrue, Now: now}, expired, true},
		{PinQuery{IsExpired: WantTrue, Now: now}, later, false},
		{PinQuery{IsExpired: WantTrue, Now: now}, cleared, false},
		{PinQuery{IsExpired: WantFalse, Now: now}, none, true},
		{PinQuery{Func: failed, Now: now}, PinInfo{IsSet: true, GlobalFailures: 2}, true},
		{PinQuery{Func: failed, Now: now.Add(time.Second)}, PinInfo{IsSet: true, GlobalFailures: 2}, false}, // judged at Now
		{PinQuery{Func: failed, Now: now}, never, false},
		{PinQuery{IsSet: WantFalse, Func: failed, Now: now}, PinInfo{IsSet: true, GlobalFailures: 2}, false},
	} {
		if got := tc.q.Match(&tc.p); got != tc.want {
			t.Errorf("%+v.Match(%+v) = %v, want %v", tc.q, tc.p, got, tc.want)
		}
		zero := tc.q.IsSet == WantAny && tc.q.IsLockedOut == WantAny && tc.q.IsExpired == WantAny &&
			tc.q.LockedBy == NotLocked && tc.q.Func == nil
		if tc.q.IsZero() != zero {
			t.Errorf("%+v.IsZero() = %v", tc.q, tc.q.IsZero())
		}
	}
}
