package builtins

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/lang"
)

// viewSession replaces the shell's session with one printing in format f,
// fitted to width, with f chosen by the user (pinsh --output) if explicit.
func (ts *testShell) viewSession(f lang.Format, width int, explicit, interactive bool) {
	ts.t.Helper()
	var err error
	ts.sess, err = lang.NewSession(lang.Options{
		Stdout: &ts.out, Stderr: &ts.err,
		Format: f, Width: width, FormatExplicit: explicit,
		Interactive: interactive,
		Builtins:    ts.sh.Builtins(),
		Now:         ts.now,
	})
	if err != nil {
		ts.t.Fatal(err)
	}
}

func TestFormatViews(t *testing.T) {
	const ken, tony = `"kenmyer@litwareinc.com"`, `"tonysmith@litwareinc.com"`
	tests := []struct {
		name     string
		code     string
		format   lang.Format
		explicit bool
		width    int
		script   bool // run as a script: only streams and views print
		want     string
	}{
		{name: "table columns in the order named, PowerShell names too",
			code: `pin_info([` + ken + `, ` + tony + `]) | format_table("IsLockedOut", "identity", "LOCKED_BY")`,
			want: "is_locked_out  identity                      locked_by\n" +
				"-------------  --------                      ---------\n" +
				"false          sip:kenmyer@litwareinc.com\n" +
				"true           sip:tonysmith@litwareinc.com  system\n"},
		{name: "table without fields: the type's columns, even for one record",
			code: `get_users(` + ken + `) | format_table`,
			want: "identity                    display_name  enabled  site     line_uri                  pin_policy\n" +
				"--------                    ------------  -------  ----     --------                  ----------\n" +
				"sip:kenmyer@litwareinc.com  Ken Myer      true     Redmond  tel:+14255550101;ext=101  Expire30\n"},
		{name: "a single record piped in is a one-row table",
			code: `pin_info(` + ken + `) | format_table("identity", "is_pin_set")`,
			want: "identity                    is_pin_set\n--------                    ----------\nsip:kenmyer@litwareinc.com  true\n"},
		{name: "maps: keys named exactly, a missing one empty, any key set one table",
			code: `[{a: 1, b: 2}, {a: 3}, {c: 4}] | format_table("b", "a")`,
			want: "b  a\n-  -\n2  1\n   3\n\n"},
		{name: "scalars print as lines without fields",
			code: `[1, "two"] | format_table`, want: "1\ntwo\n"},
		{name: "a script prints a view statement",
			code: `get_users() | first(1) | format_table("display_name")`, script: true,
			want: "display_name\n------------\nKen Myer\n"},
		{name: "list: every field without names, a blank line between records",
			code: `[{b: 1, a: 2}, {c: 3}] | format_list`, want: "a : 2\nb : 1\n\nc : 3\n"},
		{name: "list of named fields in order",
			code: `pin_info(` + ken + `) | format_list("PinExpirationTime", "identity")`,
			want: "pin_expiration_time : 2010-10-02T12:00:00Z\nidentity            : sip:kenmyer@litwareinc.com\n"},
		{name: "list wraps long values at the width, never the identity",
			code:  `[{identity: "sip:someone.with.a.long.name@litwareinc.com", note: "0123456789abcdefghijklmnopqrstuvwxyz"}] | format_list`,
			width: 30,
			want: "identity : sip:someone.with.a.long.name@litwareinc.com\n" +
				"note     : 0123456789abcdefghi\n" +
				"           jklmnopqrstuvwxyz\n"},
		{name: "table fits the width and never cuts the identity",
			code:  `[{identity: "sip:kenmyer@litwareinc.com", note: "a long note about this user"}] | format_table("identity", "note")`,
			width: 40,
			want:  "identity                    note\n--------                    ----\nsip:kenmyer@litwareinc.com  a long note…\n"},
		{name: "the default output of a script (JSON Lines) prints the view as text",
			code: `pin_info(` + ken + `) | format_list("identity")`, format: lang.JSONL,
			want: "identity : sip:kenmyer@litwareinc.com\n"},
		{name: "--output csv writes the named fields as data",
			code: `pin_info([` + ken + `, ` + tony + `]) | format_table("identity", "IsLockedOut")`, format: lang.CSV, explicit: true,
			want: "identity,is_locked_out\nsip:kenmyer@litwareinc.com,false\nsip:tonysmith@litwareinc.com,true\n"},
		{name: "--output jsonl: maps narrowed to the keys named, in order",
			code: `[{a: 1, b: 2}, {b: 3}] | format_list("b", "a")`, format: lang.JSONL, explicit: true,
			want: "{\"b\":2,\"a\":1}\n{\"b\":3,\"a\":null}\n"},
		{name: "--output json without fields: the records whole",
			code: `[{a: 1}] | format_table`, format: lang.JSON, explicit: true,
			want: "[\n  {\"a\":1}\n]\n"},
		{name: "page shows a view (here, without a pager, on the output)",
			code: `[{a: 1, b: 2}] | format_list("b") | page`, want: "b : 2\n"},
		{name: "page called on a view",
			code: `v := [{a: 1}] | format_table; page(v)`, want: "a\n-\n1\n"},
		{name: "page of a view in a data format the user chose",
			code: `[{a: 1, b: 2}] | format_table("b") | page`, format: lang.CSV, explicit: true, want: "b\n2\n"},
		{name: "--output table is a table",
			code: `[{a: 1}] | format_list`, format: lang.Table, explicit: true, want: "a : 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t)
			ts.viewSession(tt.format, tt.width, tt.explicit, !tt.script)
			out, stderr, err := ts.run(tt.code)
			if err != nil {
				t.Fatalf("%s: %v\n%s", tt.code, err, stderr)
			}
			if out != tt.want {
				t.Errorf("%s printed\n%s\nwant\n%s", tt.code, out, tt.want)
			}
		})
	}
}

func TestFormatViewErrors(t *testing.T) {
	const last = "a view is for display and nothing reads it; put format_table last in the pipeline"
	tests := []struct {
		code    string
		printed string // printed before the error
		err     string // a regular expression
	}{
		{`get_users() | pin_info | format_table("identity", "IsPinSt", "identiy")`, "",
			`format_table: pin_info record has no field "IsPinSt"; did you mean is_pin_set\?`},
		{`get_users() | pin_info | format_list("identiy")`, "",
			`format_list: pin_info record has no field "identiy"; did you mean identity\?`},
		{`get_users() | format_table("identity") | where({enabled: true})`, "",
			`cannot pipe the view format_table makes into where: ` + last},
		{`get_users() | format_table | lock_pin`, "", `cannot pipe the view format_table makes into lock_pin: `},
		{`get_users() | format_table | export_csv("u.csv")`, "", `into export_csv: ` + last},
		{`v := get_users() | format_table; lock_pin(v)`, "", `lock_pin: cannot give the view format_table makes to lock_pin`},
		{`v := get_users() | format_table; count(v)`, "", `count: cannot give the view format_table makes to count`},
		{`v := get_users() | format_table; for u in v {}`, "", `cannot iterate over the view format_table makes`},
		{`v := get_users() | format_table; v.identity`, "", `cannot read fields of the view format_table makes`},
		{`v := [{a: 1}] | format_table; v; v`, "a\n-\n1\n", `this view of format_table was shown already`},
		{`format_table("identity") | count`, "", `format_table is a sink: it ends a pipeline`},
		{`[1] | format_table("a")`, "", `format_table: cannot show fields of int 1: format_table shows the fields of records and maps`},
		{`get_users() | format_list("identity", "Identity")`, "",
			`format_list: "identity" and "Identity" name the same field identity of a user record: name it once`},
		{`format_table(1)`, "", `format_table: field 1: a field name is a string, not int`},
		{`format_list("a", "")`, "", `format_list: field 2: a field name cannot be empty`},
		{`[{a: 1}] | format_table("a", "a")`, "", `format_table: field "a" is named twice`},
		// Records of a second type are checked when the first of them comes.
		{`collect(select([{a: 1}], "a")) + collect(select([{b: 2}], "b")) | format_table("a")`, "a\n-\n1\n",
			`format_table: record has no field "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			ts := newTestShell(t)
			out, _, err := ts.run(tt.code)
			if err == nil {
				t.Fatalf("%s: no error; printed\n%s", tt.code, out)
			}
			if !regexp.MustCompile(tt.err).MatchString(err.Error()) {
				t.Errorf("%s: error\n%v\nwant /%s/", tt.code, err, tt.err)
			}
			if out != tt.printed {
				t.Errorf("%s printed\n%q\nwant\n%q", tt.code, out, tt.printed)
			}
		})
	}
}

// TestFormatViewPINs: a view of set_pin's records shows each PIN once, or,
// when its fields leave the PIN out, the PINs come at the end of the input
// as for any reader that did not show them.
func TestFormatViewPINs(t *testing.T) {
	ts := newTestShell(t)
	out, stderr, err := ts.run(`set_pin(["kenmyer@litwareinc.com", "pilar@litwareinc.com"]) | format_table("identity", "pin")`)
	if err != nil || stderr != "" || !regexp.MustCompile(`(?m)^sip:pilar@litwareinc.com +\d{5,}$`).MatchString(out) {
		t.Errorf("with pin: %v\nout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	out, stderr, err = ts.run(`set_pin(["kenmyer@litwareinc.com"]) | format_list("identity")`)
	if err != nil || !strings.HasPrefix(out, "identity : sip:kenmyer@litwareinc.com\n") ||
		!strings.Contains(stderr, "never shown") || !regexp.MustCompile(`(?m)^sip:kenmyer@litwareinc.com +Ken Myer +\d{5,}$`).MatchString(out) {
		t.Errorf("without pin: %v\nout:\n%s\nstderr:\n%s", err, out, stderr)
	}
}
