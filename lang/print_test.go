package lang

import (
	"errors"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func TestPrintGolden(t *testing.T) {
	const pins3table = "" +
		"identity                  is_pin_set  is_locked_out  pin_expiration_time\n" +
		"--------                  ----------  -------------  -------------------\n" +
		"sip:user0@litwareinc.com  true        true\n" +
		"sip:user1@litwareinc.com  false       false          2010-09-01T12:00:00Z\n" +
		"sip:user2@litwareinc.com  true        false          2010-10-02T12:00:00Z\n"
	const (
		rec0 = `{"identity":"sip:user0@litwareinc.com","display_name":"User 0","is_pin_set":true,"is_locked_out":true,` +
			`"locked_by":"admin","is_pin_expired":false,"last_pin_change_time":"2010-09-02T12:00:00Z","pin_expiration_time":null}`
		rec1 = `{"identity":"sip:user1@litwareinc.com","display_name":"User 1","is_pin_set":false,"is_locked_out":false,` +
			`"locked_by":null,"is_pin_expired":true,"last_pin_change_time":"2010-09-02T11:00:00Z","pin_expiration_time":"2010-09-01T12:00:00Z"}`
		csvHeader = "identity,display_name,is_pin_set,is_locked_out,locked_by,is_pin_expired,last_pin_change_time,pin_expiration_time\n"
		csv0      = "sip:user0@litwareinc.com,User 0,true,true,admin,false,2010-09-02T12:00:00Z,\n"
		csv1      = "sip:user1@litwareinc.com,User 1,false,false,,true,2010-09-02T11:00:00Z,2010-09-01T12:00:00Z\n"
		mixed     = `[(fake_pins(1) | collect)[0], {a: 1}, {a: 2}, 3, "four", lock_pin("x"), (fake_pins(2) | collect)[1]]`
	)
	for _, tc := range []struct {
		format Format
		width  int
		src    string
		want   string
	}{
		{Table, 0, `fake_pins(3)`, pins3table},
		{Table, 0, `fake_pins(3) | collect`, pins3table},
		{Table, 60, `fake_pins(3)`, "" +
			"identity                  is_pin_set  is_locked…  pin_expir…\n" +
			"--------                  ----------  ----------  ----------\n" +
			"sip:user0@litwareinc.com  true        true\n" +
			"sip:user1@litwareinc.com  false       false       2010-09-0…\n" +
			"sip:user2@litwareinc.com  true        false       2010-10-0…\n"}, // the identity is never cut
		{Table, 0, `(fake_pins(1) | collect)[0]`, "" +
			"identity             : sip:user0@litwareinc.com\n" +
			"display_name         : User 0\n" +
			"is_pin_set           : true\n" +
			"is_locked_out        : true\n" +
			"locked_by            : admin\n" +
			"is_pin_expired       : false\n" +
			"last_pin_change_time : 2010-09-02T12:00:00Z\n" +
			"pin_expiration_time  :\n"},
		{Table, 30, `(fake_pins(1) | collect)[0].identity`, "sip:user0@litwareinc.com\n"},
		{Table, 0, `lock_pin("sip:a")`, "changed: 1  skipped: 0  failed: 0\n"},
		{Table, 0, `[{b: 1, a: "x,y"}, {a: 2, b: undefined}]`, "a    b\n-    -\nx,y  1\n2\n"},
		{Table, 0, `[{a: "two\nlines"}]`, "a\n-\ntwo lines\n"},
		{Table, 0, `[{roles: ["lock_pin", "unlock_pin"], m: {x: 1}}]`, "m       roles\n-       -----\n{x: 1}  lock_pin, unlock_pin\n"},
		{Table, 0, mixed, "" +
			"identity                  is_pin_set  is_locked_out  pin_expiration_time\n" +
			"--------                  ----------  -------------  -------------------\n" +
			"sip:user0@litwareinc.com  true        true\n" +
			"\n" +
			"a\n-\n1\n2\n" +
			"\n" +
			"3\nfour\nchanged: 1  skipped: 0  failed: 0\n" +
			"\n" +
			"identity                  is_pin_set  is_locked_out  pin_expiration_time\n" +
			"--------                  ----------  -------------  -------------------\n" +
			"sip:user1@litwareinc.com  false       false          2010-09-01T12:00:00Z\n"},
		{Table, 0, `fake_pins(0)`, ""},
		{Table, 0, `"str"`, "str\n"},
		{Table, 0, `[1, "a", [2], 'c']`, `[1, "a", [2], 'c']` + "\n"},
		{Table, 0, `{b: [1], a: "x"}`, `{a: "x", b: [1]}` + "\n"},
		{JSON, 0, `fake_pins(2)`, "[\n  " + rec0 + ",\n  " + rec1 + "\n]\n"},
		{JSON, 0, `fake_pins(0)`, "[]\n"},
		{JSON, 0, `(fake_pins(1) | collect)[0]`, rec0 + "\n"},
		{JSON, 0, `[1, "a\"b", [2.5, 'c'], {k: undefined}, bytes("hi"), error("e")]`,
			"[\n  1,\n  \"a\\\"b\",\n  [2.5,99],\n  {\"k\":null},\n  \"aGk=\",\n  {\"error\":\"e\"}\n]\n"},
		{JSON, 0, `"tab\there"`, `"tab\there"` + "\n"},
		{JSONL, 0, `fake_pins(2)`, rec0 + "\n" + rec1 + "\n"},
		{JSONL, 0, `[{a: 1}, 2]`, "{\"a\":1}\n2\n"},
		{JSONL, 0, `lock_pin("sip:a")`, `{"changed":1,"skipped":0,"failed":0}` + "\n"},
		{JSONL, 0, `fake_pins(0)`, ""},
		{CSV, 0, `fake_pins(2)`, csvHeader + csv0 + csv1},
		{CSV, 0, `[{b: 1, a: "x,y"}, {a: 2, b: undefined}]`, "a,b\n\"x,y\",1\n2,\n"},
		{CSV, 0, mixed, csvHeader + csv0 + "\na\n1\n2\n\nvalue\n3\nfour\n\nchanged,skipped,failed\n1,0,0\n\n" + csvHeader + csv1},
		{CSV, 0, `"str"`, "value\nstr\n"},
		// An array of scalars is one cell joined with ';', as csvde writes
		// a multi-valued attribute; an array of arrays stays a literal.
		{CSV, 0, `[{a: ["CN=x,DC=y", "CN=z"], b: []}, {a: [[1], 2], b: 3}]`, "a,b\n\"CN=x,DC=y;CN=z\",\n\"[[1], 2]\",3\n"},
		{CSV, 0, `["p", "q"]`, "value\np\nq\n"},
		{Table, 0, `[{a: ["CN=x", "CN=z"]}]`, "a\n-\nCN=x, CN=z\n"},
		{CSV, 0, `lock_pin("sip:a")`, "changed,skipped,failed\n1,0,0\n"},
	} {
		h := newHarness(t, Options{Interactive: true, Format: tc.format, Width: tc.width})
		got, err := h.run(tc.src)
		if err != nil {
			t.Errorf("%v %s: %v", tc.format, tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%v width %d %s\n got:\n%s\nwant:\n%s", tc.format, tc.width, tc.src, got, tc.want)
		}
	}
}

func TestSetFormat(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	if got := h.must(`lock_pin("a")`); got != "changed: 1  skipped: 0  failed: 0\n" {
		t.Errorf("table: %q", got)
	}
	h.s.SetFormat(JSONL, 0)
	if got := h.must(`lock_pin("a")`); got != `{"changed":1,"skipped":0,"failed":0}`+"\n" {
		t.Errorf("jsonl: %q", got)
	}
}

func TestPrintErrors(t *testing.T) {
	for _, f := range []Format{Table, JSON, JSONL, CSV} {
		h := newHarness(t, Options{Format: f})
		_, err := h.run(`bad_source(2)`)
		if err == nil || !strings.Contains(err.Error(), "the store went away") {
			t.Errorf("%v: stream error while printing: %v", f, err)
		}
	}
	h := newHarness(t, Options{Format: JSON, Interactive: true})
	for _, src := range []string{`[func() {}]`, `[fake_pins(1)]`, `[0.0/0.0]`, `len`} {
		if _, err := h.run(src); err == nil || !strings.Contains(err.Error(), "JSON") && !strings.Contains(err.Error(), "float") {
			t.Errorf("%s: %v", src, err)
		}
	}
	// Writes that fail stop the printing.
	s, err := NewSession(Options{Stdout: failWriter{}, Format: JSONL, Builtins: new(world).builtins()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Eval(t.Context(), "w", []byte(`fake_pins(100000)`))
	if err == nil || !strings.Contains(err.Error(), "write output: disk full") {
		t.Errorf("failing writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFormatNames(t *testing.T) {
	for _, f := range []Format{Table, JSON, JSONL, CSV} {
		g, err := ParseFormat(f.String())
		if err != nil || g != f {
			t.Errorf("%v: %v %v", f, g, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "use table, json, jsonl or csv") {
		t.Errorf("ParseFormat(yaml): %v", err)
	}
	if Format(9).String() != "Format(9)" || DefaultFormat(true) != Table || DefaultFormat(false) != JSONL {
		t.Error("String/DefaultFormat")
	}
}

func TestSessionPrintFromGo(t *testing.T) {
	h := newHarness(t, Options{Format: JSONL})
	arr := &tengo.Array{Value: []tengo.Object{pinRecord(0), str("x")}}
	if err := h.s.Print(t.Context(), arr); err != nil {
		t.Fatal(err)
	}
	h.s.out.Flush()
	if got := h.out.String(); !strings.HasSuffix(got, "\"x\"\n") || strings.Count(got, "\n") != 2 {
		t.Errorf("got %q", got)
	}
}

func TestStdoutStderrOrder(t *testing.T) {
	var both strings.Builder
	s, err := NewSession(Options{Stdout: &both, Stderr: &both, Format: JSONL, Builtins: new(world).builtins()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Eval(t.Context(), "o", []byte(`y := ["a", "nobody", "b"] | pin_info | count`)); err != nil {
		t.Fatal(err)
	}
	err = s.Eval(t.Context(), "o", []byte(`fmt := import("fmt"); fmt.println("before"); x := pin_info(["nobody"]) | count; fmt.println("after")`))
	if err != nil {
		t.Fatal(err)
	}
	if got := both.String(); got != "pin_info: nobody: no such user\nbefore\npin_info: nobody: no such user\nafter\n" {
		t.Errorf("got %q", got)
	}
}
