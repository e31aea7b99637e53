package lang

import (
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/token"
)

func TestNeverComparisons(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	// fake_pins(6): expiration never (0, 3), expired a day ago (1, 4), in 30 days (2, 5).
	h.must(`pins := fake_pins(6) | collect; never := pins[0].pin_expiration_time; past := pins[1].pin_expiration_time; future := pins[2].pin_expiration_time; times := import("times")`)
	for _, tc := range []struct{ src, want string }{
		// the seed's Example 3, written either way round
		{`pins | where(func(p) { return p.pin_expiration_time < now() }) | count`, "2\n"},
		{`pins | where(func(p) { return now() > p.pin_expiration_time }) | count`, "2\n"},
		{`pins | where(func(p) { return p.pin_expiration_time <= now() }) | count`, "2\n"},
		{`pins | where(func(p) { return now() >= p.pin_expiration_time }) | count`, "2\n"},
		{`pins | where(func(p) { return p.pin_expiration_time > now() }) | count`, "4\n"},
		{`pins | where(func(p) { return now() < p.pin_expiration_time }) | count`, "4\n"},
		{`(pins | where(func(p) { return p.pin_expiration_time < now() }) | collect)[0].identity`, "sip:user1@litwareinc.com\n"},
		// never against never, itself and instants
		{`[never == never, never < never, never <= never, never > past, never >= future]`, "[true, false, true, true, true]\n"},
		{`[past < never, future < never, now() < never, never == now(), never != past]`, "[true, true, true, false, true]\n"},
		{`[past < now(), now() < future, past == past, past != future]`, "[true, true, true, true]\n"},
		// undefined on the right compares like never
		{`[now() < undefined, now() > undefined]`, "[true, false]\n"},
		// Tengo's times module: on the right of a pinsh time, and its results are pinsh times
		{`[now() == times.date(2010, 9, 2, 12, 0, 0, 0, "UTC"), past < times.now(), type_name(times.now())]`, "[true, true, \"time\"]\n"},
		{`times.time_year(now())`, "2010\n"},
		{`times.date(2010, 1, 1, 0, 0, 0, 0) < now()`, "true\n"},
		{`times.since(past) / times.hour`, "24\n"},
		{`times.until(future) / times.hour`, "720\n"},
		{`is_time(now()) && is_time(never) && is_time(time(0)) && !is_time(1)`, "true\n"},
		{`time(now()) == now()`, "true\n"},
		// arithmetic
		{`now() + times.hour > now()`, "true\n"},
		{`now() - times.hour < now()`, "true\n"},
		{`(now() - past) / times.hour`, "24\n"},
		{`never + times.hour == never`, "true\n"},
		{`now() + 0 == now()`, "true\n"},
		// falsiness and printing
		{`[!never, !now()]`, "[true, false]\n"},
		{`never`, "\n"},
		{`past`, "2010-09-01T12:00:00Z\n"},
		{`[past, never]`, "[2010-09-01T12:00:00Z, never]\n"},
	} {
		got, err := h.run(tc.src)
		if err != nil {
			t.Errorf("%s\n error: %v", tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`never - now()`, "never comes"},
		{`now() - never`, "never comes"},
		{`times.time_year(never)`, "times.time_year: the time never comes"},
		{`times.since(never)`, "times.since: the time never comes"},
		{`times.since()`, "wrong number of arguments"},
		{`times.since(1)`, "expected time, found int"},
		{`now() * 2`, "invalid operation: time * int"},
		{`now() < 1`, "invalid operation: time < int"},
		{`now() + now()`, "invalid operation: time + time"},
	} {
		_, err := h.run(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestTimeGoAPI(t *testing.T) {
	now := NewTime(testNow)
	if tm, ok := now.Time(); !ok || !tm.Equal(testNow) || now.IsNever() {
		t.Error("NewTime")
	}
	if _, ok := Never().Time(); ok || !Never().IsNever() || Never() != Never() {
		t.Error("Never")
	}
	if !now.Equals(&tengo.Time{Value: testNow}) || now.Equals(num(1)) || Never().Equals(now) {
		t.Error("Equals")
	}
	if now.Copy() != now || now.TypeName() != "time" || !NewTime(time.Time{}).IsFalsy() {
		t.Error("Copy/TypeName/IsFalsy")
	}
	if _, err := now.BinaryOp(token.Add, str("x")); err != tengo.ErrInvalidOperator {
		t.Errorf("time + string: %v", err)
	}
}

// TestTimeLayoutEveryFormat checks that a time with a fraction of a second
// prints alike in every format: RFC 3339 to the second.
func TestTimeLayoutEveryFormat(t *testing.T) {
	at := time.Date(2010, 9, 2, 12, 0, 0, 123456789, time.UTC)
	rec := &tengo.Map{Value: map[string]tengo.Object{"at": NewTime(at), "t": &tengo.Time{Value: at}}}
	for _, f := range []Format{Table, JSON, JSONL, CSV} {
		h := newHarness(t, Options{Format: f})
		if err := h.s.Print(t.Context(), &tengo.Array{Value: []tengo.Object{rec}}); err != nil {
			t.Fatal(err)
		}
		got := h.out.String()
		if strings.Count(got, "2010-09-02T12:00:00Z") != 2 || strings.Contains(got, ".123") {
			t.Errorf("%s: %q, want both times as 2010-09-02T12:00:00Z", f, got)
		}
	}
}
