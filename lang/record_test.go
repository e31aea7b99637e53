package lang

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

// TestRecordFieldRule checks the field rule: a field a record's type has
// reads as its value (undefined when this record leaves it unset); any other
// name is an error that names the type, the field and the closest fields.
func TestRecordFieldRule(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`r := (fake_pins(2) | collect)[1]`) // user1: locked_by unset
	for _, tc := range []struct {
		name, src, want, err string
	}{
		{"field", `r.is_pin_set`, "false\n", ""},
		{"index", `r["display_name"]`, "User 1\n", ""},
		{"unset field is undefined", `is_undefined(r.locked_by)`, "true\n", ""},
		{"unset field compares", `r.locked_by == undefined`, "true\n", ""},
		{"PowerShell name", `r.IsPinSet`, "",
			`test.tengo:1:3: pin_info record has no field "IsPinSet"; did you mean is_pin_set?`},
		{"PowerShell name by index", `r["PinExpirationTime"]`, "",
			`pin_info record has no field "PinExpirationTime"; did you mean pin_expiration_time?`},
		{"PowerShell DisplayName", `r.DisplayName`, "", `did you mean display_name?`},
		{"PowerShell LockedBy", `r.LockedBy`, "", `did you mean locked_by?`},
		{"swapped letters", `r.is_locekd_out`, "", `pin_info record has no field "is_locekd_out"; did you mean is_locked_out?`},
		{"missing letter", `r.is_pin_st`, "", `did you mean is_pin_set?`},
		{"shared word", `r.expiry`, "", `did you mean is_pin_expired or pin_expiration_time?`},
		{"nothing close lists the fields", `r.zzz`, "",
			`pin_info record has no field "zzz"; its fields are identity, display_name, is_pin_set, is_locked_out, locked_by, is_pin_expired, last_pin_change_time, pin_expiration_time`},
		{"is_undefined does not hide it", `is_undefined(r.IsPinSet)`, "", `did you mean is_pin_set?`},
		{"non-string index", `r[true]`, "", `a pin_info record is indexed by a field name (a string), not bool`},
		{"in a closure, naming the item", `fake_pins(3) | where(func(p) { return !p.IsPinSet }) | count`, "",
			`test.tengo:1:42: pin_info record has no field "IsPinSet"; did you mean is_pin_set? (processing sip:user0@litwareinc.com)`},
		{"in a field map, at its |", `fake_pins(3) | where({IsLockedOut: true}) | count`, "",
			`test.tengo:1:14: where: pin_info record has no field "IsLockedOut"; did you mean is_locked_out?`},
		{"in a field map on the next line", "n := fake_pins(3) |\n  where({IsLockedOut: true}) |\n  count", "",
			`test.tengo:1:19: where: pin_info record has no field "IsLockedOut"`},
		{"in a composed stage, at the | that applies it", `f := noop | where({IsLockedOut: true}); fake_pins(3) | f | count`, "",
			`test.tengo:1:54: where: pin_info record has no field "IsLockedOut"`},
		{"called with its input, at the sink", `count(where(fake_pins(3), {IsLockedOut: true}))`, "",
			`test.tengo:1:1: where: pin_info record has no field "IsLockedOut"`},
		{"field map of a known field", `fake_pins(5) | where({locked_by: "admin"}) | count`, "1\n", ""},
		// issue 8 M2: an undefined value would select every record leaving the field unset
		{"field map undefined value", `fake_pins(5) | where({locked_by: undefined}) | count`, "",
			"where: field locked_by: the value is undefined (a misspelt variable or field?); a field map never selects unset fields; " +
				"to select records whose locked_by is unset write func(r) { return is_undefined(r.locked_by) }"},
		{"field map undefined from a misspelt field", `cfg := {by: "admin"}; fake_pins(5) | where({is_pin_set: true, locked_by: cfg.bye}) | count`, "",
			"field locked_by: the value is undefined"},
		{"immutable field map undefined value", `fake_pins(5) | where(immutable({locked_by: undefined})) | count`, "", "field locked_by: the value is undefined"},
		{"field map undefined in plain maps", `[{a: 1}, {b: 2}] | where({a: undefined}) | count`, "", "field a: the value is undefined"},
		{"unset fields by a function", `fake_pins(5) | where(func(p) { return is_undefined(p.locked_by) }) | count`, "4\n", ""},
		// issue 8 L5: a value of the wrong kind would silently match nothing
		{"field map string for a bool", `fake_pins(3) | where({is_pin_set: "false"}) | count`, "",
			`where: field is_pin_set is true or false, not the string "false"; write {is_pin_set: false} without quotes`},
		{"field map int for a bool", `fake_pins(3) | where({is_locked_out: 1}) | count`, "", `field is_locked_out is true or false, not the int 1`},
		{"field map int for a string", `fake_pins(3) | where({display_name: 5}) | count`, "", `field display_name is a string, not the int 5`},
		{"field map bool for a string", `fake_pins(6) | where({locked_by: true}) | count`, "", `field locked_by is a string, not the bool true`},
		{"field map string for a time", `fake_pins(3) | where({last_pin_change_time: "2010-09-02"}) | count`, "",
			`field last_pin_change_time is a time, not the string "2010-09-02"`},
		{"field map right kinds", `fake_pins(6) | where({is_pin_set: true, display_name: "user 0"}) | count`, "1\n", ""},
		{"field map kinds of plain maps are free", `[{a: 1}, {a: "x"}] | where({a: "x"}) | count`, "1\n", ""},
		{"to_map is an ordinary map", `m := to_map(r); [is_undefined(m.nosuch), is_undefined(m.locked_by), m.identity]`,
			`[true, true, "sip:user1@litwareinc.com"]` + "\n", ""},
		{"to_map is mutable", `m := to_map(r); m.note = "x"; m.is_pin_set = true; [m.note, m.is_pin_set, r.is_pin_set]`,
			`["x", true, false]` + "\n", ""},
		{"a stream has no fields", `fake_pins(1).is_pin_set`, "", `cannot read field "is_pin_set" of a stream: a stream is a sequence of items`},
		{"a stream has no elements", `fake_pins(1)[0]`, "", `cannot read int of a stream`},
		{"maps keep Tengo's rule", `m := {a: 1}; is_undefined(m.b)`, "true\n", ""},
		{"field map on maps", `[{a: 1}, {b: 2}] | where({a: 1}) | count`, "1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.run(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s\n got %v, %q\nwant error %q", tc.src, err, got, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%s\n got %q, %v\nwant %q", tc.src, got, err, tc.want)
			}
		})
	}
}

// TestStageErrorTrace checks that a stage's own error points at its | and
// lists the sink that was reading it as the call it came from.
func TestStageErrorTrace(t *testing.T) {
	h := newHarness(t, Options{})
	_, err := h.run("n := fake_pins(3) | where({IsPinSet: true}) | count")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Pos.Line != 1 || e.Pos.Col != 19 || len(e.Trace) != 1 || e.Trace[0].Col != 45 || e.Kind != RuntimeError {
		t.Errorf("pos %v, trace %v, kind %v", e.Pos, e.Trace, e.Kind)
	}
	if !strings.Contains(e.Detail(), "n := fake_pins(3) | where({IsPinSet: true}) | count\n                      ^\n") {
		t.Errorf("detail:\n%s", e.Detail())
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "IsPinSet" {
		t.Errorf("the FieldError is not kept: %v", err)
	}
}

// TestFieldErrorStopsThePipeline checks that a misspelt field fails the
// first record, before any later stage sees one.
func TestFieldErrorStopsThePipeline(t *testing.T) {
	h := newHarness(t, Options{})
	_, err := h.run(`fake_pins(5000) | where(func(p) { return !p.IsPinSet }) | each(func(p) {}) | count`)
	if err == nil || !strings.Contains(err.Error(), `did you mean is_pin_set?`) {
		t.Fatalf("err = %v", err)
	}
	if h.w.invoked != 0 {
		t.Errorf("the stage after where saw %d items", h.w.invoked)
	}
	if h.w.pulls != 1 {
		t.Errorf("the source was read %d times", h.w.pulls)
	}
}

func TestMapPredicateCase(t *testing.T) {
	h := newHarness(t, Options{})
	env := h.s.Env()
	recs := []*Record{pinRecord(0), pinRecord(1)} // display names "User 0", "User 1"
	mapItem := &tengo.Map{Value: map[string]tengo.Object{"display_name": str("USER 1")}}
	for _, tc := range []struct {
		name string
		want map[string]tengo.Object
		o    MatchOptions
		hits []bool // recs[0], recs[1], mapItem
	}{
		{"ignores case", map[string]tengo.Object{"display_name": str("user 1")}, MatchOptions{}, []bool{false, true, true}},
		{"exact", map[string]tengo.Object{"display_name": str("user 1")}, MatchOptions{CaseSensitive: true}, []bool{false, false, false}},
		{"exact match", map[string]tengo.Object{"display_name": str("User 1")}, MatchOptions{CaseSensitive: true}, []bool{false, true, false}},
		{"non-strings as ==", map[string]tengo.Object{"is_pin_set": tengo.TrueValue}, MatchOptions{}, []bool{true, false, false}},
		{"string never equals undefined", map[string]tengo.Object{"locked_by": str("")}, MatchOptions{}, []bool{false, false, false}},
		{"two fields", map[string]tengo.Object{"display_name": str("USER 0"), "locked_by": str("ADMIN")}, MatchOptions{}, []bool{true, false, false}},
	} {
		keep, err := env.PredicateWith(&tengo.Map{Value: tc.want}, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		for i, item := range []tengo.Object{recs[0], recs[1], mapItem} {
			got, err := keep(context.Background(), item)
			if err != nil || got != tc.hits[i] {
				t.Errorf("%s: item %d: got %v, %v; want %v", tc.name, i, got, err, tc.hits[i])
			}
		}
	}
}

func TestFieldErrorText(t *testing.T) {
	for _, tc := range []struct {
		schema *Schema
		field  string
		want   string
	}{
		{NewSchema("user", "identity", "display_name"), "DisplayName", `user record has no field "DisplayName"; did you mean display_name?`},
		{NewSchema("record", "identity"), "site", `record has no field "site"; its fields are identity`},
	} {
		err := tc.schema.NoField(tc.field)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Type != tc.schema.Name() || err.Error() != tc.want {
			t.Errorf("NoField(%q) = %v, want %q", tc.field, err, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	pin := []string{"identity", "display_name", "is_pin_set", "is_locked_out", "locked_by", "is_pin_expired",
		"last_pin_change_time", "pin_expiration_time", "failed_attempts", "temporarily_locked_until"}
	user := []string{"identity", "sip_address", "display_name", "user_principal_name", "sam_account_name",
		"domain", "distinguished_name", "enabled", "registrar_pool", "line_uri", "enterprise_voice_enabled", "site", "pin_policy"}
	for _, tc := range []struct {
		name  string
		known []string
		want  []string
	}{
		{"IsPinSet", pin, []string{"is_pin_set"}},
		{"PinExpirationTime", pin, []string{"pin_expiration_time"}},
		{"LastPinChangeTime", pin, []string{"last_pin_change_time"}},
		{"LockedBy", pin, []string{"locked_by"}},
		{"IsLockedOut", pin, []string{"is_locked_out"}},
		{"is_locekd_out", pin, []string{"is_locked_out"}},
		{"dispaly_name", user, []string{"display_name"}},
		{"LineURI", user, []string{"line_uri"}},
		{"SipAddress", user, []string{"sip_address"}},
		{"UserPrincipalName", user, []string{"user_principal_name"}},
		{"EnterpriseVoiceEnabled", user, []string{"enterprise_voice_enabled"}},
		{"sites", user, []string{"site"}},
		{"expiry", pin, []string{"is_pin_expired", "pin_expiration_time"}},
		{"locked", pin, []string{"locked_by"}},
		{"Locked", pin, []string{"locked_by"}},
		{"lock", pin, []string{"is_locked_out", "locked_by", "temporarily_locked_until"}},
		{"zzz", pin, nil},
		{"", pin, nil},
		{"__", pin, nil},
	} {
		if got := Suggest(tc.name, tc.known); !slices.Equal(got, tc.want) {
			t.Errorf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"IsPinSet", "did you mean is_pin_set?"},
		{"expiry", "did you mean is_pin_expired or pin_expiration_time?"},
		{"lock", "did you mean is_locked_out, locked_by or temporarily_locked_until?"},
		{"zzz", "its fields are " + strings.Join(pin, ", ")},
	} {
		if got := Hint(tc.name, pin, "its fields are"); got != tc.want {
			t.Errorf("Hint(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
