package pslang

import (
	"errors"
	"strings"
	"testing"
)

// TestTranslate pins the Tengo of every construct of the subset.
func TestTranslate(t *testing.T) {
	s := newShell(t)
	tests := []struct{ ps, tengo string }{
		{`Get-CsUser`, "get_users()"},
		{`get-csuser -identity 'Ken Myer'`, `ps_show(get_users("Ken Myer"))`},
		{`Get-CsUser -Ident "Ken Myer"`, `ps_show(get_users("Ken Myer"))`},
		{`Get-CsUser -ResultSize 2 -OU "OU=Redmond,DC=litwareinc,DC=com"`, `get_users({ou: "OU=Redmond,DC=litwareinc,DC=com", result_size: 2})`},
		{`Get-CsUser | Get-CsClientPinInfo`, "get_users() |\npin_info"},
		{"Get-CsUser |\n  Get-CsClientPinInfo", "get_users() |\npin_info"},
		{"Get-CsUser `\n  | Get-CsClientPinInfo", "get_users() |\npin_info"},
		{`Lock-CsClientPin kenmyer@litwareinc.com -WhatIf`, `ps_show(lock_pin("kenmyer@litwareinc.com", {whatif: true}))`},
		{`Lock-CsClientPin -Identity "Ken Myer" -Confirm:$false -Force`, `ps_show(lock_pin("Ken Myer", {force: true}))`},
		{`Lock-CsClientPin -Identity "Ken Myer" -Confirm -ErrorAction SilentlyContinue`, `ps_show(lock_pin("Ken Myer", {confirm: true, error_action: "silently_continue"}))`},
		{`Get-CsUser | Unlock-CsClientPin -ea Stop`, "ps_show(get_users() |\nunlock_pin({error_action: \"stop\"}))"},
		{`Set-CsClientPin "Ken Myer" 0481516`, `ps_show(set_pin("Ken Myer", "0481516"))`},
		{`Get-CsUser | Where-Object IsPinSet -eq $True`, "get_users() |\nwhere(func(psitem) { return ps_op(psitem.is_pin_set, \"-eq\", true) })"},
		{`Get-CsUser | ? {$PSItem.DisplayName -like "* Smith"}`, "get_users() |\nwhere(func(psitem) { return ps_op(psitem.display_name, \"-like\", \"* Smith\") })"},
		{`Get-CsUser | Where-Object {-not $_.Enabled -or !($_.Site -ceq "Redmond")}`, "get_users() |\nwhere(func(psitem) { return (!ps_bool(psitem.enabled) || !(ps_op(psitem.site, \"-ceq\", \"Redmond\"))) })"},
		{`Get-CsUser | Select-Object -First 2 -Property DisplayName, LineURI`, "get_users() |\nfirst(2) | select(\"display_name\", \"line_uri\")"},
		{`Get-CsUser | Sort-Object DisplayName -Descending`, "get_users() |\nsort_by(\"display_name\", \"desc\")"},
		{`Get-CsUser | Group-Object Site`, "get_users() |\nps_group(\"site\")"},
		{`Get-CsUser | Format-List`, "get_users() |\nformat_list"},
		{`Get-CsUser | ft DisplayName, isPinSet -AutoSize`, "get_users() |\nformat_table(\"display_name\", \"is_pin_set\")"},
		{`Get-CsClientPinInfo "Ken Myer" | Format-List -Property Identity, PinExpirationTime`, "ps_show(pin_info(\"Ken Myer\") |\nformat_list(\"identity\", \"pin_expiration_time\"))"},
		{`Get-CsUser | Out-Host -Paging`, "ps_show(get_users() |\npage)"},
		{`Get-CsUser | Out-Host`, "get_users()"},
		{`Get-CsUser | more`, "ps_show(get_users() |\npage)"},
		{`Get-CsUser | ForEach-Object { $_.SipAddress }`, "get_users() |\nps_foreach(func(psitem) { return psitem.sip_address })"},
		{`Get-CsUser | % SipAddress`, "get_users() |\nps_expand(\"sip_address\")"},
		{`$n = 0; Get-CsUser | ForEach-Object { $n += 1; "x" }`, "n := 0\nget_users() |\nps_foreach(func(psitem) { out := []; n = ps_plus(n, 1); out = ps_emit(out, \"x\"); return out })"},
		{`$d = (Get-Date).AddDays(-14)`, `d := ps_method((now()), "AddDays", -14)`},
		{`$x = "a $y b $($y.Count)"; $y = 1`, "y := undefined\nx := \"a \" + ps_str(y) + \" b \" + ps_str(ps_value(ps_prop(y, \"Count\")))\ny = 1"},
		{`'it''s'`, `ps_show("it's")`},
		{`"say ""hi""` + "`t" + `"`, `ps_show("say \"hi\"\t")`},
		{`@(1, 2) -contains 2`, `ps_show(ps_op(ps_array([1, 2]), "-contains", 2))`},
		{`$h = @{ SipAddress = "sip:a@b"; Pin = '1' }`, `h := {sip_address: "sip:a@b", pin: "1"}`},
		{`$a = @(); $a += 1; $a[-1]`, "a := []\na = ps_plus(a, 1)\nps_show(ps_index(a, -1))"},
		{"if ($x -gt 1) { 'a' } elseif ($x -eq 1) { 'b' } else { 'c' }\n$x = 2", "x := undefined\nif ps_op(x, \"-gt\", 1) {\n\tps_show(\"a\")\n} else if ps_op(x, \"-eq\", 1) {\n\tps_show(\"b\")\n} else {\n\tps_show(\"c\")\n}\nx = 2"},
		{"foreach ($u in Get-CsUser) { if ($u.Enabled) { continue } }", "for u in ps_array(get_users()) {\n\tif u.enabled {\n\t\tcontinue\n\t}\n}"},
		{"# a comment\n<# a\nblock #>\nGet-CsPinPolicy -Filter 'tag:*' # trailing", `get_pin_policy({filter: "tag:*"})`},
		{`Grant-CsPinPolicy -Identity "Ken Myer" -PolicyName $null`, `ps_show(grant_pin_policy("Ken Myer", undefined))`},
		{`Get-CsUser | Grant-CsPinPolicy Expire30`, "ps_show(get_users() |\ngrant_pin_policy(\"Expire30\"))"},
		{`Set-CsPinPolicy -MinPasswordLength 6`, `ps_show(set_pin_policy("global", {min_password_length: 6}))`},
		{`Get-CsUser | Export-Csv users.csv -NoTypeInformation -Force`, "ps_show(get_users() |\nexport_csv(\"users.csv\", {overwrite: true}))"},
		{`Import-Csv .\users.csv | ConvertTo-Json`, "ps_show(ps_import_csv(\".\\\\users.csv\") |\nps_to_json)"},
		{`Write-Host "n: $n"; $n = 1`, "fmt := import(\"fmt\")\nn := undefined\nfmt.println(\"n: \" + ps_str(n))\nn = 1"},
		{`Write-Output 3`, "ps_show(3)"},
		{`Get-CsUser -Filter {Site -eq "Redmond" -and PinPolicy -ne $null}`, `get_users() | where(func(psitem) { return (ps_op(psitem.site, "-eq", "Redmond") && ps_op(psitem.pin_policy, "-ne", undefined)) })`},
		{`Get-CsUser -LdapFilter "Title=Manager"`, `get_users({ldap_filter: "(Title=Manager)"})`},
		{`Get-CsAdminRole -Filter "*Help*"`, `ps_show(admin_roles() | where(func(r) { return ps_op(r.identity, "-like", "*Help*") }))`},
		{"try { Lock-CsClientPin nobody -ErrorAction Stop } catch { Write-Host $_.Exception.Message }",
			"fmt := import(\"fmt\")\nps_r := try(func() {\n\tout := []\n\tout = ps_emit(out, lock_pin(\"nobody\", {error_action: \"stop\"}))\n\treturn out\n})\nif !is_error(ps_r) { ps_show(ps_r) }\nif is_error(ps_r) {\n\tpsitem := ps_error(ps_r)\n\tfmt.println(ps_str(ps_prop(ps_prop(psitem, \"Exception\"), \"Message\")))\n}"},
		{`throw "stop here"`, `ps_throw("stop here")`},
	}
	for _, tt := range tests {
		tr, err := s.tr.Translate("t.ps1", tt.ps)
		if err != nil {
			t.Errorf("%s: %v", tt.ps, err)
			continue
		}
		if got := strings.TrimSpace(tr.Tengo); got != tt.tengo {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tt.ps, got, tt.tengo)
		}
	}
}

// TestRefused checks that every construct outside the subset is an error
// that names it, where it is, and what to write instead.
func TestRefused(t *testing.T) {
	s := newShell(t)
	tr := NewTranslator(s.sh.Builtins()) // no test builtins: Assert-Equal is refused
	tests := []struct{ ps, want string }{
		{"Get-CsUser | Where-Object {$_.IsPinSet == $true}", "1:40: '==' is not a PowerShell operator; compare with -eq"},
		{"Get-CsUser | Where-Object {$_.X != 1}", "1:33: '!=' is not a PowerShell operator; compare with -ne"},
		{"while ($true) { }", "1:1: while is not in pinsh's PowerShell; loop over a list with foreach ($x in ...) { }"},
		{"function f { 1 }", "1:1: function is not in pinsh's PowerShell"},
		{"switch ($x) { }", "1:1: switch is not in pinsh's PowerShell; use if / elseif / else"},
		{"[int]$x = 1", "1:1: type literals and casts ([int], [datetime]...) are not in pinsh's PowerShell"},
		{"[DateTime]::Now", "1:1: type literals and casts"},
		{"$x = 1..10", "1:7: the range operator .. is not in pinsh's PowerShell"},
		{`"{0}" -f 1`, "1:7: the operator -f is not in pinsh's PowerShell; use a double-quoted string"},
		{"$a -replace 'x','y'", "1:4: the operator -replace is not in pinsh's PowerShell"},
		{"$a -bogus 1", "1:4: -bogus is not an operator of pinsh's PowerShell"},
		{"Get-CsUser > users.txt", "1:12: redirection (>) is not in pinsh's PowerShell; write files with Export-Csv"},
		{"& Get-CsUser", "1:1: the call operator & is not in pinsh's PowerShell"},
		{"Get-CsUser | Lock-CsClientPin -Identity x", "1:14: Lock-CsClientPin after | takes its input from the pipeline; leave out -Identity"},
		{"Get-CsUsr", "1:1: Get-CsUsr is not a command of pinsh's PowerShell; did you mean Get-CsUser?"},
		{"Get-CsUser -Identty x", "1:12: Get-CsUser has no parameter -Identty; did you mean -Identity?"},
		{"Get-CsUser -DomainController dc1", "1:12: -DomainController of Get-CsUser is not in pinsh: pinsh reads its own directory"},
		{"Lock-CsClientPin -Identity", "1:18: -Identity needs a value: -Identity VALUE"},
		{"Lock-CsClientPin -Verbose x", "1:18: the common parameter -Verbose is not in pinsh"},
		{"Get-CsUser -Identity a -Identity b", "1:24: -Identity is given twice"},
		{"Get-CsUser a b", "1:14: Get-CsUser takes no more values by position"},
		{"$_.IsPinSet", "1:1: $_ is set only inside a script block of Where-Object or ForEach-Object, or in catch { }"},
		{"$nobody.Name", "1:1: $nobody is never set in this script (PowerShell would read $null); set it first, or check its spelling"},
		{"$true = 1", "1:1: $true cannot be assigned"},
		{"Get-CsUser | 3", "1:14: after | comes a command"},
		{"Get-CsUser |", "1:12: a command must follow |"},
		{"if ($x) { 'a' } else if ($y) { }", "1:22: 'else if' is not PowerShell; write elseif"},
		{"else { }", "1:1: else without an if before it"},
		{"try { 1 }", "try needs a catch { } block"},
		{"try { 1 } catch { } finally { }", "finally is not in pinsh's PowerShell"},
		{"foreach ($x in 1, 2) { try { break } catch { } }", "break inside try { } is not in pinsh's PowerShell"},
		{"break", "1:1: break outside a foreach loop"},
		{"return 1", "1:1: return outside a script block"},
		{"'abc", "1:1: string is not closed; end it with '"},
		{"\"abc", "1:1: string is not closed; end it with \""},
		{"<# abc", "1:1: block comment <# is not closed; end it with #>"},
		{"Get-CsUser | Where-Object { $_.X", "input ended inside a block; close it with '}'"},
		{"(1", "1:3: expected ')', found end of input"},
		{"$x = @\"\nhi\n\"@", "1:6: here-strings"},
		{"Get-CsUser @params", "1:12: splatting (@name) is not in pinsh's PowerShell"},
		{"$env:USERNAME", "1:1: scoped and drive variables ($env:...) are not in pinsh's PowerShell"},
		{"Get-CsUser | Select-Object @{Name='x';Expression={1}}", "calculated properties"},
		{"Get-CsUser | Select-Object -Last 1", "-Last of Select-Object is not in pinsh: sort the other way"},
		{"Get-CsUser | ft -HideTableHeaders", "1:17: -HideTableHeaders of ft is not in pinsh: pinsh's tables have their headers"},
		{"Get-CsUser | Format-List -Property Identity, @{Name='x'; Expression={1}}", "calculated properties"},
		{"Get-CsUser | Sort-Object A, B", "Sort-Object takes one property in pinsh"},
		{"$x.Foo()", "the method .Foo() is not in pinsh's PowerShell"},
		{"Where-Object { 1 }", "1:1: Where-Object reads the pipeline: put it after |"},
		{"Get-CsUser | Get-CsUser", "1:14: Get-CsUser does not read the pipeline; call it at the start of a pipeline"},
		{"Assert-Equal 1 1", "Assert-Equal is for test scripts: run the file with pinsh test"},
		{"Lock-CsClientPin -Identity x -ErrorAction Inquire", "-ErrorAction Inquire is not in pinsh"},
		{"./other.ps1", "1:1: running scripts or programs (./other.ps1) is not in pinsh's PowerShell"},
		{"Get-CsUser `x", "a backtick must end the line"},
		{"$x = 1 ++", "'++' is not in pinsh's PowerShell"},
		{"Get-CsUser -Filter {VoicePolicy -ne $null; 1}", "a -Filter script block holds one condition"},
		{"Set-CsPinPolicy -Identity global", "Set-CsPinPolicy changes nothing without a property to set"},
		{"New-CsPinPolicy -Identity x -Tenant 1", "-Tenant of New-CsPinPolicy is not in pinsh: pinsh has one directory, no tenants"},
		{"Get-CsUser | Where-Object", "Where-Object needs a condition"},
		{"Get-CsUser | Where-Object Site 1", "Where-Object Site needs an operator before its value"},
		{"@{ a = 1; A = 2 }", "the hashtable has \"a\" twice"},
		{"Lock-CsClientPin", "1:1: Lock-CsClientPin needs -Identity, or users piped into it"},
		{"Remove-CsPinPolicy", "1:1: Remove-CsPinPolicy needs -Identity, or policies piped into it"},
		{"Set-CsClientPin -Pin 1234", "1:1: Set-CsClientPin needs -Identity, or users piped into it"},
		{"Grant-CsPinPolicy -PolicyName x", "1:1: Grant-CsPinPolicy needs -Identity, or users piped into it"},
		{"New-CsPinPolicy -MinPasswordLength 6", "1:1: New-CsPinPolicy needs -Identity: site:NAME or a per-user policy's name"},
	}
	for _, tt := range tests {
		_, err := tr.Translate("t.ps1", tt.ps)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a syntax error", tt.ps, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\ngot  %v\nwant %s", tt.ps, err, tt.want)
		}
	}
}

// TestNothingRunsOnError checks that an error anywhere in a script stops
// it before its first statement runs.
func TestNothingRunsOnError(t *testing.T) {
	s := newShell(t)
	before := s.state()
	_, _, err := s.ps("Lock-CsClientPin -Identity kenmyer@litwareinc.com\nGet-CsUser | Where-Object {$_.X == 1}")
	if err == nil || !strings.Contains(err.Error(), "test.ps1:2:33: '==' is not a PowerShell operator") {
		t.Fatalf("got %v", err)
	}
	if s.state() != before {
		t.Error("the first line ran")
	}
}

func TestIncomplete(t *testing.T) {
	for src, want := range map[string]bool{
		"Get-CsUser |":                  true,
		"Get-CsUser `":                  true,
		"Get-CsUser | Where-Object {":   true,
		"if ($x) {\n 1":                 true,
		"'abc":                          true,
		"Get-CsUser":                    false,
		"":                              false,
		"Get-CsUser | Where-Object { }": false,
		"$x ==":                         false,
	} {
		if got := Incomplete(src); got != want {
			t.Errorf("Incomplete(%q) = %v, want %v", src, got, want)
		}
	}
}

// TestCmdlets: the commands completion offers are those the translator
// runs, with the parameters it binds.
func TestCmdlets(t *testing.T) {
	s := newShell(t)
	byName := map[string]Cmdlet{}
	for _, c := range s.tr.Cmdlets() {
		byName[c.Name] = c
		if _, err := s.tr.Translate("t.ps1", "Get-CsUser | "+c.Name+" -Nosuch"); err == nil || !strings.Contains(err.Error(), "Nosuch") {
			t.Errorf("%s: a wrong parameter: %v", c.Name, err)
		}
	}
	for name, want := range map[string]string{
		"Get-CsUser": "Identity OU Filter LdapFilter ResultSize | UnassignedUser", "Lock-CsClientPin": "Identity ErrorAction | WhatIf Confirm Force",
		"Where-Object": "FilterScript Property Value", "Out-Host": " | Paging",
	} {
		c, ok := byName[name]
		if got := strings.Join(c.Params, " ") + " | " + strings.Join(c.Switches, " "); !ok || !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if _, ok := byName["more"]; ok {
		t.Error("an alias is offered")
	}
	for field, want := range map[string]string{"is_pin_set": "IsPinSet", "identity": "Identity", "sip_address": "SipAddress", "a__b": "AB"} {
		if got := PropertyName(field); got != want {
			t.Errorf("PropertyName(%q) = %q, want %q", field, got, want)
		}
	}
}
