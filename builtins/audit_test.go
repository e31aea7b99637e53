package builtins

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/lang"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 30, 0, 0, time.UTC)
	midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	str := func(s string) tengo.Object { return &tengo.String{Value: s} }
	for _, tc := range []struct {
		name     string
		v        tengo.Object
		endOfDay bool
		want     time.Time
		err      string
	}{
		{"today", str("today"), false, midnight, ""},
		{"today as until", str("Today"), true, midnight.AddDate(0, 0, 1), ""},
		{"yesterday", str("yesterday"), false, midnight.AddDate(0, 0, -1), ""},
		{"yesterday as until", str("yesterday"), true, midnight, ""},
		{"now", str("now"), true, now, ""},
		{"date", str("2026-12-01"), false, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), ""},
		{"date as until", str(" 2026-12-01 "), true, midnight, ""},
		{"RFC 3339", str("2026-12-01T08:00:00Z"), true, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), ""},
		{"RFC 3339 with zone", str("2026-12-01T08:00:00-08:00"), false, time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), ""},
		{"RFC 3339 fraction", str("2026-12-01T08:00:00.5Z"), false, time.Date(2026, 12, 1, 8, 0, 0, 5e8, time.UTC), ""},
		{"no zone is UTC", str("2026-12-01T08:00:00"), false, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), ""},
		{"space and minutes", str("2026-12-01 08:15"), false, time.Date(2026, 12, 1, 8, 15, 0, 0, time.UTC), ""},
		{"offset", str("-7d"), false, now.AddDate(0, 0, -7), ""},
		{"offset hours", str("-12h"), true, now.Add(-12 * time.Hour), ""},
		{"time value", lang.NewTime(now.Add(-time.Hour)), false, now.Add(-time.Hour), ""},
		{"tengo time", &tengo.Time{Value: now.In(time.FixedZone("PST", -8*3600))}, false, now, ""},
		{"never", lang.Never(), false, time.Time{}, "must be a date or time, not never"},
		{"int", &tengo.Int{Value: 5}, false, time.Time{}, "must be a date or time, not int; write \"today\""},
		{"bad month", str("2026-13-02"), false, time.Time{}, `"2026-13-02" is not a date or time; write "today", "yesterday", a date "2026-12-02"`},
		{"US order", str("12/02/2026"), false, time.Time{}, `"12/02/2026" is not a date or time`},
		{"offset without sign", str("7d"), false, time.Time{}, `"7d" is not a date or time`},
		{"bad offset", str("-7x"), false, time.Time{}, `"-7x" is not a date or time`},
		{"empty", str(""), false, time.Time{}, `"" is not a date or time`},
	} {
		got, err := parseWhen(tc.v, now, tc.endOfDay)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestAuditLogDates filters the audit log by dates as admins type them.
func TestAuditLogDates(t *testing.T) {
	ts := newTestShell(t)                                                     // the clock is frozen at 2010-09-02 12:00 UTC; the seed's entries are at that instant
	ts.must(`advance_clock("24h"); s := lock_pin("kenmyer@litwareinc.com")`)  // 2010-09-03 12:00
	ts.must(`advance_clock("1h"); s := unlock_pin("kenmyer@litwareinc.com")`) // 2010-09-03 13:00
	seed := ts.value(`audit_log({until: "2010-09-02"}) | count`)
	if seed == "0" {
		t.Fatal("the seed left no audit entries")
	}
	for _, tc := range []struct{ filter, want string }{
		{`{since: "today"}`, "2"},
		{`{since: "today", action: "lock_pin"}`, "1"},
		{`{since: "yesterday", until: "yesterday"}`, seed},
		{`{until: "yesterday"}`, seed},
		{`{since: "2010-09-03"}`, "2"},
		{`{since: "2010-09-03", until: "2010-09-03"}`, "2"},
		{`{since: "2010-09-03T12:30:00Z"}`, "1"},
		{`{since: "2010-09-03T05:30:00-07:00"}`, "1"},
		{`{since: "-30m"}`, "1"},
		{`{since: now("-7d")}`, "2 + " + seed},
		{`{since: "2010-09-04"}`, "0"},
	} {
		want := tc.want
		if strings.Contains(want, "+") {
			want = ts.value(want)
		}
		if got := ts.value(`audit_log(` + tc.filter + `) | count`); got != want {
			t.Errorf("audit_log(%s): %s entries, want %s", tc.filter, got, want)
		}
	}
	for _, tc := range []struct{ filter, want string }{
		{`{since: "2010-9-3"}`, `audit_log: since "2010-9-3" is not a date or time; write "today", "yesterday", a date "2026-12-02"`},
		{`{until: 20100903}`, `audit_log: until must be a date or time, not int`},
		{`{target: {}.tagret}`, `audit_log: filter target is undefined (a misspelt variable or field?); leave target out to not filter on it`},
		{`{since: undefined}`, `audit_log: filter since is undefined`},
	} {
		if _, _, err := ts.run(`audit_log(` + tc.filter + `)`); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("audit_log(%s): err = %v, want %q", tc.filter, err, tc.want)
		}
	}
}

// FuzzParseWhen: any string is a time in UTC or an error that quotes it
// and lists the accepted forms; a day as until is the day after it as
// since.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"today", "yesterday", "now", "2026-12-02", "2026-12-02T15:04:05Z",
		"2026-12-02T15:04:05+14:00", "2026-12-02 15:04", "-7d", "-1d12h", "+90m", "7d", "", "2026-02-30", "\xff"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		since, err := parseWhen(&tengo.String{Value: s}, now, false)
		until, err2 := parseWhen(&tengo.String{Value: s}, now, true)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("%q: since err %v, until err %v", s, err, err2)
		}
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) || !strings.Contains(err.Error(), whenForms) {
				t.Fatalf("%q: error %q does not quote it and list the forms", s, err)
			}
			return
		}
		if since.Location() != time.UTC || until.Location() != time.UTC {
			t.Fatalf("%q: not UTC: %v, %v", s, since, until)
		}
		if d := until.Sub(since); d != 0 && d != 24*time.Hour {
			t.Fatalf("%q: until %v is %v after since %v", s, until, d, since)
		}
	})
}
