package pslang

import (
	"strconv"
	"strings"
)

// genericCmdlet is one of PowerShell's own pipeline cmdlets (Where-Object,
// Select-Object, ...), which pinsh's PowerShell maps onto the builtins'
// stages and a few ps_ helpers.
type genericCmdlet struct {
	spec
	fn func(x *tr, b *bound, stage bool) (string, error)
}

var compareSwitches = func() []string {
	var out []string
	for _, op := range []string{"EQ", "NE", "GT", "GE", "LT", "LE", "Like", "NotLike", "Match", "NotMatch", "Contains", "NotContains", "In", "NotIn"} {
		out = append(out, op, "C"+op)
	}
	return out
}()

// generic maps lower-case cmdlet names and aliases to their cmdlet;
// genericNames gives each name's proper spelling. cmdletTables makes them.
var generic map[string]genericCmdlet
var genericNames map[string]string

func genericCmdlets() (map[string]genericCmdlet, map[string]string) {
	generic, genericNames := map[string]genericCmdlet{}, map[string]string{}
	add := func(g genericCmdlet, name string, aliases ...string) {
		generic[strings.ToLower(name)] = g
		genericNames[strings.ToLower(name)] = name
		for _, a := range aliases {
			generic[a] = g
		}
	}
	add(genericCmdlet{spec: spec{params: []string{"FilterScript", "Property", "Value"}, switches: compareSwitches,
		positional: []string{"Property", "Value"}}, fn: whereObject}, "Where-Object", "where", "?")
	add(genericCmdlet{spec: spec{params: []string{"Process", "MemberName"}, positional: []string{"Process"},
		refused: map[string]string{"begin": "use one script block", "end": "use one script block", "parallel": "pinsh runs one item at a time"}},
		fn: foreachObject}, "ForEach-Object", "foreach", "%")
	add(genericCmdlet{spec: spec{params: []string{"Property", "First", "ExpandProperty"}, positional: []string{"Property"},
		refused: map[string]string{"last": "sort the other way (Sort-Object -Descending) and take -First", "skip": "filter with Where-Object",
			"unique": "group with Group-Object", "excludeproperty": "name the properties to keep with -Property"}},
		fn: selectObject}, "Select-Object", "select")
	add(genericCmdlet{spec: spec{params: []string{"Property"}, switches: []string{"Descending"}, positional: []string{"Property"},
		refused: map[string]string{"unique": "group with Group-Object", "casesensitive": "sorting ignores case"}}, fn: sortObject}, "Sort-Object", "sort")
	add(genericCmdlet{spec: spec{refused: map[string]string{"property": "pinsh's Measure-Object counts; use ForEach-Object to add up values",
		"sum": "use ForEach-Object to add up values", "average": "use ForEach-Object to add up values",
		"maximum": "sort with Sort-Object -Descending and take -First 1", "minimum": "sort with Sort-Object and take -First 1"}},
		fn: measureObject}, "Measure-Object", "measure")
	add(genericCmdlet{spec: spec{params: []string{"Property"}, switches: []string{"NoElement"}, positional: []string{"Property"}}, fn: groupObject}, "Group-Object", "group")
	add(genericCmdlet{spec: spec{params: []string{"Property"}, switches: []string{"AutoSize", "Wrap"}, positional: []string{"Property"},
		refused: map[string]string{"hidetableheaders": "pinsh's tables have their headers; for data without them use --output csv"}},
		fn: formatObject("table")}, "Format-Table", "ft")
	add(genericCmdlet{spec: spec{params: []string{"Property"}, positional: []string{"Property"}}, fn: formatObject("list")}, "Format-List", "fl")
	add(genericCmdlet{spec: spec{params: []string{"Path"}, switches: []string{"NoTypeInformation", "Force", "UseQuotes"}, positional: []string{"Path"},
		refused: map[string]string{"append": "write a new file; pinsh never appends to one", "delimiter": "pinsh writes commas",
			"encoding": "pinsh writes UTF-8", "noclobber": "pinsh never replaces a file unless you give -Force",
			"literalpath": "use -Path"}}, fn: exportCsv}, "Export-Csv", "epcsv")
	add(genericCmdlet{spec: spec{params: []string{"Path"}, positional: []string{"Path"},
		refused: map[string]string{"delimiter": "pinsh reads commas", "header": "give the file a header line", "encoding": "pinsh reads UTF-8"}},
		fn: importCsv}, "Import-Csv", "ipcsv")
	add(genericCmdlet{spec: spec{params: []string{"Depth"}, switches: []string{"Compress"}}, fn: convertToJSON}, "ConvertTo-Json")
	add(genericCmdlet{spec: spec{refused: map[string]string{"date": "Get-Date gives the session's time (pinsh --now); shift it with .AddDays()",
		"format": "use .ToString()", "uformat": "use .ToString()"}}, fn: getDate}, "Get-Date", "date")
	add(genericCmdlet{spec: spec{params: []string{"Object"}, switches: []string{"NoNewline"}, positional: []string{"Object"},
		refused: map[string]string{"foregroundcolor": "pinsh writes plain text", "backgroundcolor": "pinsh writes plain text", "separator": "build the string with \"$a $b\""}},
		fn: writeHost}, "Write-Host")
	add(genericCmdlet{spec: spec{params: []string{"InputObject"}, positional: []string{"InputObject"}}, fn: writeOutput}, "Write-Output", "echo", "write")
	add(genericCmdlet{spec: spec{switches: []string{"Paging"}}, fn: outHost}, "Out-Host", "oh")
	add(genericCmdlet{fn: func(x *tr, b *bound, stage bool) (string, error) { return "page", needStage(x, b, stage) }}, "more")
	return generic, genericNames
}

// outHost translates Out-Host: with -Paging, the page sink (a pager at the
// prompt); without, nothing, as the pipeline's output is shown anyway.
func outHost(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if b.has("Paging") {
		return "page", nil
	}
	return "", nil
}

func isWrite(name string) bool {
	switch strings.ToLower(name) {
	case "write-host", "write-output", "echo", "write":
		return true
	}
	return false
}

func needStage(x *tr, b *bound, stage bool) error {
	if !stage {
		return x.errf(b.c.Pos, "%s reads the pipeline: put it after |, as in Get-CsUser | %s ...", b.c.Name, b.c.Name)
	}
	return nil
}

// propName returns a property name given as a bare word or a string.
func (x *tr) propName(e Expr, what string) (string, error) {
	if s, ok := e.(*StringLit); ok {
		return s.Value, nil
	}
	return "", x.errf(e.At(), "%s takes property names written out (IsPinSet, DisplayName), not a computed value", what)
}

func (x *tr) propNames(e Expr, what string) ([]string, error) {
	items := []Expr{e}
	if a, ok := e.(*ArrayLit); ok {
		items = a.Items
	}
	var out []string
	for _, it := range items {
		if h, ok := it.(*HashLit); ok {
			return nil, x.errf(h.Pos, "calculated properties (@{Name=...; Expression={...}}) are not in pinsh's PowerShell; select properties by name")
		}
		n, err := x.propName(it, what)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(n, "*?") {
			return nil, x.errf(it.At(), "%s takes property names, not wildcards (%s)", what, n)
		}
		out = append(out, n)
	}
	return out, nil
}

func whereObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if sb, ok := b.vals["Property"].(*ScriptBlock); ok && !b.has("FilterScript") {
		b.vals["FilterScript"] = sb
		delete(b.vals, "Property")
	}
	if fs, ok := b.vals["FilterScript"]; ok {
		if b.has("Property") || b.has("Value") {
			return "", x.errf(b.c.Pos, "Where-Object takes a script block or a property comparison, not both")
		}
		sb, ok := fs.(*ScriptBlock)
		if !ok {
			return "", x.errf(fs.At(), "Where-Object takes a script block: Where-Object { $_.IsPinSet -eq $True }")
		}
		f, err := x.scriptBlock(sb)
		if err != nil {
			return "", err
		}
		return "where(" + f + ")", nil
	}
	if !b.has("Property") {
		return "", x.errf(b.c.Pos, "Where-Object needs a condition: Where-Object { $_.IsPinSet -eq $True } or Where-Object IsPinSet -eq $True")
	}
	prop, err := x.propName(b.vals["Property"], "Where-Object")
	if err != nil {
		return "", err
	}
	var op string
	for _, s := range compareSwitches {
		if b.has(s) {
			if op != "" {
				return "", x.errf(b.c.Pos, "Where-Object takes one comparison operator")
			}
			if b.vals[s] != nil {
				return "", x.errf(b.c.Pos, "-%s takes no value after a colon; write Where-Object %s -%s VALUE", s, prop, s)
			}
			op = "-" + strings.ToLower(s)
		}
	}
	pe := b.vals["Property"]
	left := &Member{Pos: pe.At(), X: &Var{Pos: pe.At(), Name: "_"}, Name: prop}
	var cond Expr = left
	if op != "" {
		if !b.has("Value") {
			return "", x.errf(b.c.Pos, "Where-Object %s %s needs a value to compare with", prop, op)
		}
		cond = &Binary{Pos: b.c.Pos, Op: op, L: left, R: b.vals["Value"]}
	} else if b.has("Value") {
		return "", x.errf(b.vals["Value"].At(), "Where-Object %s needs an operator before its value (-eq, -lt, -like, ...)", prop)
	}
	x.blocks++
	c, err := x.expr(cond)
	x.blocks--
	if err != nil {
		return "", err
	}
	return "where(func(psitem) { return " + c + " })", nil
}

func foreachObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if b.has("MemberName") {
		n, err := x.propName(b.vals["MemberName"], "ForEach-Object -MemberName")
		return "ps_expand(" + strconv.Quote(x.fieldName(n)) + ")", err
	}
	p, ok := b.vals["Process"]
	if !ok {
		return "", x.errf(b.c.Pos, "ForEach-Object needs a script block: ForEach-Object { ... $_ ... }")
	}
	if s, ok := p.(*StringLit); ok && s.Bare {
		return "ps_expand(" + strconv.Quote(x.fieldName(s.Value)) + ")", nil
	}
	sb, ok := p.(*ScriptBlock)
	if !ok {
		return "", x.errf(p.At(), "ForEach-Object takes a script block: ForEach-Object { ... $_ ... }")
	}
	f, err := x.scriptBlock(sb)
	if err != nil {
		return "", err
	}
	return "ps_foreach(" + f + ")", nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func (x *tr) fieldNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = x.fieldName(n)
	}
	return out
}

func selectObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	var parts []string
	if b.has("ExpandProperty") {
		if b.has("Property") {
			return "", x.errf(b.c.Pos, "give Select-Object -Property or -ExpandProperty, not both")
		}
		n, err := x.propName(b.vals["ExpandProperty"], "-ExpandProperty")
		if err != nil {
			return "", err
		}
		parts = append(parts, "ps_expand("+strconv.Quote(x.fieldName(n))+")")
	}
	if b.has("Property") {
		names, err := x.propNames(b.vals["Property"], "Select-Object")
		if err != nil {
			return "", err
		}
		parts = append(parts, "select("+quoteAll(x.fieldNames(names))+")")
	}
	if b.has("First") {
		n, err := x.expr(b.vals["First"])
		if err != nil {
			return "", err
		}
		parts = append([]string{"first(" + n + ")"}, parts...)
	}
	if len(parts) == 0 {
		return "", x.errf(b.c.Pos, "Select-Object needs -Property, -First or -ExpandProperty")
	}
	return strings.Join(parts, " | "), nil
}

func sortObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if !b.has("Property") {
		return "", x.errf(b.c.Pos, "Sort-Object needs a property to sort by: Sort-Object DisplayName")
	}
	names, err := x.propNames(b.vals["Property"], "Sort-Object")
	if err != nil {
		return "", err
	}
	if len(names) > 1 {
		return "", x.errf(b.c.Pos, "Sort-Object takes one property in pinsh; sort by the most important one")
	}
	desc := ""
	if b.has("Descending") {
		v, ok, err := x.switchValue(b.vals["Descending"])
		if err != nil {
			return "", err
		}
		if ok && v != "true" {
			return "", x.errf(b.c.Pos, "-Descending takes no value but $true or $false")
		}
		if ok {
			desc = `"desc"`
		}
	}
	return call("sort_by", strconv.Quote(x.fieldName(names[0])), desc), nil
}

func measureObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	return "ps_measure", nil
}

func groupObject(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if !b.has("Property") {
		return "", x.errf(b.c.Pos, "Group-Object needs a property: Group-Object Site")
	}
	n, err := x.propName(b.vals["Property"], "Group-Object")
	if err != nil {
		return "", err
	}
	return "ps_group(" + strconv.Quote(x.fieldName(n)) + ")", nil
}

// formatObject is Format-Table and Format-List: the builtins format_table
// and format_list, with the properties named or, without any, bare (the
// record type's columns; every field). -AutoSize and -Wrap are what pinsh
// does anyway (widths from the first rows; a list wraps); -HideTableHeaders
// is refused rather than ignored.
func formatObject(kind string) func(x *tr, b *bound, stage bool) (string, error) {
	return func(x *tr, b *bound, stage bool) (string, error) {
		if err := needStage(x, b, stage); err != nil {
			return "", err
		}
		builtin := "format_" + kind
		if !b.has("Property") {
			return builtin, nil
		}
		names, err := x.propNames(b.vals["Property"], "Format-"+strings.ToUpper(kind[:1])+kind[1:])
		if err != nil {
			return "", err
		}
		return builtin + "(" + quoteAll(x.fieldNames(names)) + ")", nil
	}
}

func exportCsv(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	if !b.has("Path") {
		return "", x.errf(b.c.Pos, "Export-Csv needs a path: Export-Csv pins.csv")
	}
	p, err := x.expr(b.vals["Path"])
	if err != nil {
		return "", err
	}
	opt := ""
	if b.has("Force") {
		v, ok, err := x.switchValue(b.vals["Force"])
		if err != nil {
			return "", err
		}
		if ok {
			opt = "{overwrite: " + v + "}"
		}
	}
	return call("export_csv", p, opt), nil
}

func importCsv(x *tr, b *bound, stage bool) (string, error) {
	if stage {
		return "", x.errf(b.c.Pos, "Import-Csv reads a file, not the pipeline; put it first")
	}
	if !b.has("Path") {
		return "", x.errf(b.c.Pos, "Import-Csv needs a path: Import-Csv users.csv")
	}
	p, err := x.expr(b.vals["Path"])
	return "ps_import_csv(" + p + ")", err
}

func convertToJSON(x *tr, b *bound, stage bool) (string, error) {
	if err := needStage(x, b, stage); err != nil {
		return "", err
	}
	return "ps_to_json", nil
}

func getDate(x *tr, b *bound, stage bool) (string, error) {
	if stage {
		return "", x.errf(b.c.Pos, "Get-Date does not read the pipeline; write (Get-Date)")
	}
	return "now()", nil
}

func writeHost(x *tr, b *bound, stage bool) (string, error) {
	if stage {
		return "", x.errf(b.c.Pos, "Write-Host does not read the pipeline in pinsh; use ForEach-Object { Write-Host ... }")
	}
	if b.has("NoNewline") {
		return "", x.errf(b.c.Pos, "-NoNewline is not in pinsh; build the line first, then write it")
	}
	x.needFmt = true
	v := `""`
	if b.has("Object") {
		var err error
		if v, err = x.expr(b.vals["Object"]); err != nil {
			return "", err
		}
	}
	if _, isStr := b.vals["Object"].(*ExpandString); isStr {
		return "fmt.println(" + v + ")", nil
	}
	return "fmt.println(ps_str(" + v + "))", nil
}

func writeOutput(x *tr, b *bound, stage bool) (string, error) {
	if stage {
		return "", x.errf(b.c.Pos, "Write-Output does not read the pipeline in pinsh; it is the end of the pipeline already")
	}
	if !b.has("InputObject") {
		return "", x.errf(b.c.Pos, "Write-Output needs a value")
	}
	v, err := x.expr(b.vals["InputObject"])
	if err != nil {
		return "", err
	}
	if x.funcs > 0 {
		return "out = ps_emit(out, " + v + ")", nil
	}
	return v, nil
}

// Test assertions (pinsh test): Assert-Equal EXPECTED ACTUAL, or
// ACTUAL | Assert-Equal EXPECTED; Assert-True COND; and Pester's
// ACTUAL | Should -Be EXPECTED, -BeTrue, -BeFalse, -BeNullOrEmpty.
var assertSpecs = map[string]spec{
	"assert-equal": {params: []string{"Expected", "Actual", "Message"}, positional: []string{"Expected", "Actual", "Message"}},
	"assert-true":  {params: []string{"Actual", "Message"}, positional: []string{"Actual", "Message"}},
	"should":       {params: []string{"Be", "ExpectedValue", "Because"}, switches: []string{"BeTrue", "BeFalse", "BeNullOrEmpty", "Not"}, positional: []string{"ExpectedValue"}},
}

func isAssert(name string) bool { _, ok := assertSpecs[strings.ToLower(name)]; return ok }

// assertion translates an assertion; input is the Tengo of what was piped
// into it, or "".
func (x *tr) assertion(c *Command, input string) (string, error) {
	name := strings.ToLower(c.Name)
	if !x.t.names["assert_eq"] {
		return "", x.errf(c.Pos, "%s is for test scripts: run the file with pinsh test (its name ending in _test.ps1)", c.Name)
	}
	b, err := x.bind(c, assertSpecs[name])
	if err != nil {
		return "", err
	}
	val := func(p string) (string, error) {
		if !b.has(p) {
			return "", nil
		}
		return x.expr(b.vals[p])
	}
	msg, err := val("Message")
	if err != nil {
		return "", err
	}
	actual := input
	if a, err := val("Actual"); err != nil {
		return "", err
	} else if a != "" {
		if input != "" {
			return "", x.errf(c.Pos, "%s takes the actual value from the pipeline or -Actual, not both", c.Name)
		}
		actual = a
	}
	switch name {
	case "assert-equal":
		want, err := val("Expected")
		if err != nil || want == "" || actual == "" {
			if err == nil {
				err = x.errf(c.Pos, "Assert-Equal needs the expected and the actual value: Assert-Equal 3 $n")
			}
			return "", err
		}
		return call("assert_eq", actual, want, msg), nil
	case "assert-true":
		if actual == "" {
			return "", x.errf(c.Pos, "Assert-True needs a condition")
		}
		return call("assert", "ps_bool("+actual+")", msg), nil
	}
	if input == "" {
		return "", x.errf(c.Pos, "Should reads the value to test from the pipeline: $n | Should -Be 3")
	}
	because, err := val("Because")
	if err != nil {
		return "", err
	}
	not := b.has("Not")
	var cond string
	switch {
	case b.has("Be") || b.has("ExpectedValue"):
		p := "Be"
		if !b.has("Be") {
			p = "ExpectedValue"
		}
		want, err := x.expr(b.vals[p])
		if err != nil {
			return "", err
		}
		if !not {
			return call("assert_eq", input, want, because), nil
		}
		cond = "!ps_op(" + input + ", \"-eq\", " + want + ")"
	case b.has("BeTrue"):
		cond = "ps_bool(" + input + ")"
	case b.has("BeFalse"):
		cond = "!ps_bool(" + input + ")"
	case b.has("BeNullOrEmpty"):
		cond = "!ps_bool(" + input + ")"
	default:
		return "", x.errf(c.Pos, "Should takes -Be VALUE, -BeTrue, -BeFalse or -BeNullOrEmpty in pinsh")
	}
	if not && !b.has("Be") && !b.has("ExpectedValue") {
		cond = "!(" + cond + ")"
	}
	return call("assert", cond, because), nil
}
