package builtins

import (
	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/lang"
)

// formatBuiltins returns format_table and format_list, the stages that
// choose how a pipeline's records are shown (lang.View).
func formatBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name:       "format_table",
			Cmdlets:    []string{"Format-Table"},
			PowerShell: `Format-Table Identity, IsLockedOut -> format_table("identity", "is_locked_out"); ft works too in pinsh --ps`,
			Kind:       lang.Sink,
			Keeps:      true, // it shows every record it reads
			Sig:        "format_table([field...])",
			Doc: `Format-Table: show the records as a table with these columns.
The columns are the fields named, in that order; with none, the columns
the record type shows by default. Even one record, or a one-line summary,
prints as a table. Fields are named as the records name them or by their
PowerShell names, ignoring case (IsPinSet is is_pin_set); a field the
record type lacks is an error naming it and the closest fields, raised
before its record prints. A key a map lacks shows as empty.
It makes a view, which is for display only (as PowerShell's Format-*
output is): put it last, or before page. Piping it into another stage or
sink (where, lock_pin, export_csv...) is an error; use select(...) to
narrow records for those.
Like any table it is printed as it is read: its column widths come from
the first 50 rows, so a million users print in constant memory. With
pinsh --output json, jsonl or csv, it writes the records with only the
named fields, as data; without --output it prints a table even where the
default output is JSON Lines (a script, a pipe).`,
			Examples: []lang.Example{
				{Code: `pin_info(["kenmyer@litwareinc.com", "davidlongmuir@litwareinc.com"]) | format_table("display_name", "IsPinExpired", "pin_expiration_time")`,
					Output: "display_name    is_pin_expired  pin_expiration_time\n" +
						"------------    --------------  -------------------\n" +
						"Ken Myer        false           2010-10-02T12:00:00Z\n" +
						"David Longmuir  true            2010-09-01T12:00:00Z"},
				{Code: `[{n: "a", x: 1}, {n: "b"}] | format_table("x", "n")`, Output: "x  n\n-  -\n1  a\n   b"},
				{Code: `[{changed: 3, skipped: 1, failed: 0}] | format_table`, Output: "changed  failed  skipped\n-------  ------  -------\n3        0       1"},
			},
			Bind: bindFields,
			Run:  formatRun("format_table", lang.TableView),
		},
		{
			Name:       "format_list",
			Cmdlets:    []string{"Format-List"},
			PowerShell: `Format-List Identity, PinExpirationTime -> format_list("identity", "pin_expiration_time"); fl works too in pinsh --ps`,
			Kind:       lang.Sink,
			Keeps:      true,
			Sig:        "format_list([field...])",
			Doc: `Format-List: show each record as "field : value" lines.
One block per record, a blank line between blocks, with the fields named
in that order, or every field with none. A long value wraps at the
terminal's width instead of being cut (an identity is never broken).
Fields are named as for format_table, and the same rules apply: it makes
a view for display, to put last; --output json, jsonl or csv write the
records with only the named fields.`,
			Examples: []lang.Example{
				{Code: `pin_info("tonysmith@litwareinc.com") | format_list("identity", "IsLockedOut", "locked_by")`,
					Output: "identity      : sip:tonysmith@litwareinc.com\nis_locked_out : true\nlocked_by     : system"},
				{Code: `get_users() | first(2) | format_list("display_name", "Title")`,
					Output: "display_name : Ken Myer\ntitle        : Manager\n\ndisplay_name : Pilar Ackerman\ntitle        : Supervisor"},
			},
			Bind: bindFields,
			Run:  formatRun("format_list", lang.ListView),
		},
	}
}

// bindFields checks the field names of a bound format stage where it is
// written.
func bindFields(args []tengo.Object) error {
	_, err := fieldArgs(args)
	return err
}

func formatRun(name string, kind lang.ViewKind) func(*lang.Env, *lang.Stream, []tengo.Object) (tengo.Object, error) {
	return func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
		fields, err := fieldArgs(args)
		if err != nil {
			return nil, err
		}
		if len(fields) == 0 {
			fields = nil // the kind's default fields
		}
		return env.View(name, kind, in, fields), nil
	}
}
