package builtins

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
)

// TestExamples runs every documented example of every builtin on a fresh
// sample directory and checks its output where the example gives one: help
// text that is executed, as elvish does.
func TestExamples(t *testing.T) {
	for _, b := range New(Config{}).Builtins() {
		for i, ex := range b.Examples {
			t.Run(b.Name, func(t *testing.T) {
				t.Chdir(t.TempDir()) // for the examples that write files
				ts := newTestShell(t)
				out, stderr, err := ts.run(ex.Code)
				if err != nil {
					t.Fatalf("example %d %q: %v\nstderr: %s", i, ex.Code, err, stderr)
				}
				if ex.Output != "" && strings.TrimRight(out, "\n") != strings.TrimRight(ex.Output, "\n") {
					t.Errorf("example %d %q printed\n%q\nwant\n%q", i, ex.Code, out, ex.Output)
				}
			})
		}
	}
}

func TestRecordFields(t *testing.T) {
	if got := RecordFields("pin_info"); !slices.Contains(got, "is_pin_set") || !slices.Contains(got, "pin_expiration_time") {
		t.Errorf("RecordFields(pin_info) = %v", got)
	}
	if got := RecordFields("count"); got != nil {
		t.Errorf("RecordFields(count) = %v, want nil", got)
	}
	// Every record-making builtin named there exists.
	names := map[string]bool{}
	for _, b := range New(Config{}).Builtins() {
		names[b.Name] = true
	}
	for name := range recordSchemas {
		if !names[name] {
			t.Errorf("recordSchemas names %q, which is not a builtin", name)
		}
	}
}

func TestHelpListsEverything(t *testing.T) {
	extra := &lang.Builtin{Name: "exit", Kind: lang.Func, Sig: "exit([status])", Doc: "Leave pinsh.",
		Call: func(*lang.Env, []tengo.Object) (tengo.Object, error) { return nil, nil }}
	ts := newTestShell(t)
	var out bytes.Buffer
	sess, err := lang.NewSession(lang.Options{Stdout: &out, Builtins: ts.sh.Builtins(extra)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Eval(context.Background(), "t", []byte(`help()`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"exit([status])", "help([name])", "lock_pin([opts]) | lock_pin(target[, opts])", "where(pred[, opts])"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help() lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := sess.Eval(context.Background(), "t", []byte(`help(lock_pin)`)); err != nil || !strings.Contains(out.String(), "Lock-CsClientPin") {
		t.Errorf("help(lock_pin): %v\n%s", err, out.String())
	}
	if err := sess.Eval(context.Background(), "t", []byte(`help("nope")`)); err == nil || !strings.Contains(err.Error(), `no builtin "nope"`) {
		t.Errorf("help(nope): %v", err)
	}
	if err := sess.Eval(context.Background(), "t", []byte(`help("Lock-CsClientPn")`)); err == nil ||
		!strings.Contains(err.Error(), `no builtin "Lock-CsClientPn"; did you mean Lock-CsClientPin`) {
		t.Errorf("help(Lock-CsClientPn): %v", err)
	}
}

// TestHelpForCmdlets checks that help finds a builtin by its PowerShell
// command in any case, says which builtin it is and how the form maps, and
// that help() lists every command beside its builtin.
func TestHelpForCmdlets(t *testing.T) {
	ts := newTestShell(t)
	var out bytes.Buffer
	list := ts.sh.Builtins()
	sess, err := lang.NewSession(lang.Options{Stdout: &out, Builtins: list})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, first, builtin string }{
		{"Lock-CsClientPin", "Lock-CsClientPin is lock_pin in pinsh.", "lock_pin"},
		{"get-csclientpininfo", "Get-CsClientPinInfo is pin_info in pinsh.", "pin_info"},
		{"Where-Object", "Where-Object is where in pinsh.", "where"},
		{"Get-CsUser", "Get-CsUser is get_users in pinsh.", "get_users"},
	} {
		out.Reset()
		if err := sess.Eval(context.Background(), "t", []byte(`help("`+tc.name+`")`)); err != nil {
			t.Fatalf("help(%s): %v", tc.name, err)
		}
		var b *lang.Builtin
		for _, x := range list {
			if x.Name == tc.builtin {
				b = x
			}
		}
		want := tc.first + "\n\n" + b.Sig + "\n\n" + b.Doc + "\n\nPowerShell: " + b.PowerShell + "\n"
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("help(%q) starts\n%s\nwant\n%s", tc.name, out.String(), want)
		}
	}
	out.Reset()
	if err := sess.Eval(context.Background(), "t", []byte(`help()`)); err != nil {
		t.Fatal(err)
	}
	index := out.String()
	for _, b := range list {
		for _, c := range b.Cmdlets {
			if !regexp.MustCompile(`(?m)^  ` + c + ` +` + b.Name + `$`).MatchString(index) {
				t.Errorf("help() does not list %s beside %s", c, b.Name)
			}
		}
	}
}

// TestCmdletMapping pins the PowerShell commands of the main builtins,
// which the PowerShell front end and the prompt's "did you mean" rely on.
func TestCmdletMapping(t *testing.T) {
	list := New(Config{}).Builtins()
	for cmd, want := range map[string]string{
		"Get-CsUser": "get_users", "Get-CsClientPinInfo": "pin_info", "Lock-CsClientPin": "lock_pin",
		"Unlock-CsClientPin": "unlock_pin", "Set-CsClientPin": "set_pin",
		"Where-Object": "where", "Select-Object": "select", "Sort-Object": "sort_by", "Measure-Object": "count",
		"Export-Csv": "export_csv", "Get-CsPinPolicy": "get_pin_policy", "New-CsPinPolicy": "new_pin_policy",
		"Set-CsPinPolicy": "set_pin_policy", "Remove-CsPinPolicy": "remove_pin_policy",
		"Grant-CsPinPolicy": "grant_pin_policy", "Get-CsAdminRole": "admin_roles", "Get-Help": "help",
	} {
		b := lang.ByCmdlet(list, cmd)
		if b == nil || b.Name != want {
			t.Errorf("ByCmdlet(%s) = %v, want %s", cmd, b, want)
		}
		if b != nil && !strings.Contains(b.PowerShell, cmd) {
			t.Errorf("%s: PowerShell line %q does not name %s", want, b.PowerShell, cmd)
		}
	}
}

func TestSummaryOf(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"Get-CsUser: a stream of user records. With no argument, every user.", "Get-CsUser: a stream of user records"},
		{"Take operator out of role.", "Take operator out of role"},
		{"One line\nwrapped over\ntwo.", "One line wrapped over two"},
		{strings.Repeat("word ", 30), strings.TrimSpace(strings.Repeat("word ", 14)) + "…"},
		{strings.Repeat("x", 100), strings.Repeat("x", 72) + "…"},
	}
	for _, tt := range tests {
		if got := summaryOf(tt.doc); got != tt.want {
			t.Errorf("summaryOf(%q) = %q, want %q", tt.doc, got, tt.want)
		}
	}
}
