package pslang

import (
	"strings"
	"testing"
)

// TestSemantics checks PowerShell's meaning of the operators, properties
// and values, each expression printed as the prompt prints it.
func TestSemantics(t *testing.T) {
	s := newShell(t)
	tests := []struct{ ps, want string }{
		// comparisons ignore case unless -c...; -i... is the default
		{`"ABC" -eq "abc"`, "true"},
		{`"ABC" -ceq "abc"`, "false"},
		{`"ABC" -ieq "abc"`, "true"},
		{`"b" -gt "A"`, "true"},
		{`"b" -cgt "A"`, "true"},
		// the right operand converts to the left one's kind
		{`5 -eq "5"`, "true"},
		{`"5" -eq 5`, "true"},
		{`$true -eq "False"`, "true"},
		{`10 -gt "9"`, "true"},
		{`"10" -gt 9`, "false"},
		// $null sorts before everything
		{`$null -lt (Get-Date)`, "true"},
		{`(Get-Date) -gt $null`, "true"},
		{`$null -eq $null`, "true"},
		{`$null -lt $null`, "false"},
		{`$null -le $null`, "true"},
		{`0 -eq $null`, "false"},
		// a PIN that never expires has no expiration time
		{`(Get-CsClientPinInfo "Pilar Ackerman").PinExpirationTime -eq $null`, "true"},
		{`(Get-CsClientPinInfo "Ken Myer").PinExpirationTime -gt (Get-Date).AddDays(29)`, "true"},
		{`(Get-CsClientPinInfo "Ken Myer").PinExpirationTime -gt (Get-Date).AddDays(31)`, "false"},
		// wildcards and regular expressions
		{`"Ken Myer" -like "k* m?ER"`, "true"},
		{`"Ken Myer" -clike "k*"`, "false"},
		{`"Ken Myer" -notlike "*Smith"`, "true"},
		{"\"a[b\" -like 'a`[b'", "true"},
		{`"site:Redmond" -like "site:[qr]*"`, "true"},
		{`"Lock-CsClientPin" -match "^lock-cs"`, "true"},
		{`"Lock-CsClientPin" -cmatch "^lock-cs"`, "false"},
		{`"Set-CsUserX" -match "Set-CsUser\b"`, "false"},
		{`"abc" -notmatch "d"`, "true"},
		// a list on the left filters it
		{`@(1, 2, 3) -gt 1`, "2\n3"}, // a list is output item by item, a line each
		{`@("a", "B", "c") -eq "b"`, `B`},
		{`(@(1, 2) -eq 3).Count`, "0"},
		{`@("a", "B") -contains "b"`, "true"},
		{`@("a", "B") -ccontains "b"`, "false"},
		{`"b" -in "a", "B"`, "true"},
		{`"c" -notin "a", "B"`, "true"},
		{`5 -contains 5`, "true"},
		// logic and truth
		{`-not $null`, "true"},
		{`!"x"`, "false"},
		{`$true -and 0`, "false"},
		{`$false -or "x"`, "true"},
		{`$true -xor $true`, "false"},
		// arithmetic and +
		{`1 + 2 * 3`, "7"},
		{`"a" + 1`, `a1`},
		{`$null + 5`, "5"},
		{`@(1) + 2 + @(3, 4)`, "1\n2\n3\n4"},
		{`1.5 + 1`, "2.5"},
		// properties by their PowerShell names, any case; Count
		{`(Get-CsUser "Ken Myer").SIPADDRESS`, `sip:kenmyer@litwareinc.com`},
		{`(Get-CsClientPinInfo "Ken Myer").ispinset`, "true"},
		{`(Get-CsUser).Count`, "7"},
		{`(Get-CsUser | Where-Object Site -eq "nowhere").Count`, "0"},
		{`@{ Name = "x" }.NAME`, `x`},
		{`"abc".Length`, "3"},
		{`(Get-CsAdminRole CsHelpDesk).Cmdlets -contains "Lock-CsClientPin"`, "true"},
		{`(Get-CsAdminRole CsHelpDesk).UserScopes`, `Global`},
		// methods
		{`"  Ab ".Trim().ToLower()`, `ab`},
		{`"Ken".StartsWith("K")`, "true"},
		{`(Get-Date).AddHours(1).ToString()`, `2010-09-02T13:00:00Z`},
		// strings
		{`$n = 3; "n=$n, twice $($n * 2), ` + "`$n" + `"`, `n=3, twice 6, $n`},
		{`"$(Get-CsUser 'Ken Myer')"`, `sip:kenmyer@litwareinc.com`},
		{`$a = 1, 2; "$a"`, `1 2`},
		{`$a = @(5, 6, 7); $a[-1]`, "7"},
		{`$a = @(5); $a[3]`, ""},
		// control flow
		{"$r = 'none'; foreach ($u in Get-CsUser) { if ($u.DisplayName -like 'J*') { $r = $u.DisplayName; break } }; $r", `Jeff Hay`},
		{"$c = 0; Get-CsUser | ForEach-Object { $c += 1 }; $c", "7"},
		{"$x = 2; if ($x -gt 5) { 'big' } elseif ($x -gt 1) { 'medium' } else { 'small' }", `medium`},
		{"try { throw 'boom' } catch { \"caught: $($_.Exception.Message)\" }", `caught: boom`},
		{"try { Lock-CsClientPin nobody -ErrorAction Stop } catch { $_.Exception.Message -like '*nobody*' }", "true"},
		{`Get-CsUser | Group-Object Enabled | Select-Object -ExpandProperty Count`, "6\n1"},
		// one record's list expands to one value per line, as for many records
		{`Get-CsAdminRole CsHelpDesk | Select-Object -ExpandProperty Cmdlets`, "Get-CsUser\nGet-CsClientPinInfo\nGet-CsPinPolicy\nGet-CsAdminRole\nLock-CsClientPin\nUnlock-CsClientPin"},
		{`Get-CsUser "Ken Myer" | ForEach-Object { $_.SipAddress; $_.DisplayName }`, "sip:kenmyer@litwareinc.com\nKen Myer"},
		{`$c = Get-CsAdminRole CsHelpDesk | Select-Object -ExpandProperty Cmdlets; $c.Count`, "6"},
		{`(Get-CsUser | Measure-Object).Count`, "7"},
		// Format-Table and Format-List choose the view; what follows them is refused
		{`Get-CsClientPinInfo "Ken Myer" | fl Identity, IsPinSet`, "identity   : sip:kenmyer@litwareinc.com\nis_pin_set : true"},
		{`Get-CsClientPinInfo "Ken Myer" | Format-Table -Property Identity, IsPinSet`, "identity                    is_pin_set\n--------                    ----------\nsip:kenmyer@litwareinc.com  true"},
		{`Get-CsUser | Where-Object Site -eq nowhere | ft`, ""},
		// a view in a stream (each item's own Format-List) shows in its place
		{`Get-CsUser | Select-Object -First 2 | ForEach-Object { $_ | fl SipAddress }; "after"`, "sip_address : sip:kenmyer@litwareinc.com\n\nsip_address : sip:pilar@litwareinc.com\nafter"},
		{`Get-CsUser | Select-Object -First 2 | ForEach-Object { "user"; $_ | ft DisplayName }`, "user\n\ndisplay_name\n------------\nKen Myer\n\nuser\n\ndisplay_name\n------------\nPilar Ackerman"},
		{`try { "a"; Get-CsUser | Select-Object -First 1 | ft DisplayName; "b" } catch { "x" }`, "a\ndisplay_name\n------------\nKen Myer\nb"},
		{`Get-CsPinPolicy global | ConvertTo-Json`, `{"identity":"global","min_password_length":5,"pin_history_count":0,"pin_lifetime":0,"allow_common_patterns":false,"maximum_logon_attempts":null,"description":null}`},
	}
	for _, tt := range tests {
		out, errOut, err := s.ps(tt.ps)
		if err != nil {
			t.Errorf("%s: %v\n%s", tt.ps, err, errOut)
			continue
		}
		if got := strings.TrimSpace(out); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.ps, got, tt.want)
		}
	}
}

// TestRuntimeErrors checks the errors of PowerShell values at run time,
// reported at the PowerShell position.
func TestRuntimeErrors(t *testing.T) {
	s := newShell(t)
	tests := []struct{ ps, want string }{
		{`5 -lt "x"`, `test.ps1:1:3: cannot compare the number 5 with "x" (string): it is not a number`},
		{`(Get-Date) -lt "soon"`, `cannot compare the time`},
		{`"a" -match "("`, "bad regular expression"},
		{`"a" -like "[a"`, "has [ without ]"},
		{`$x = $null; $x.AddDays(1)`, "cannot call .AddDays() on $null"},
		{`"x".AddDays(1)`, ".AddDays() is a method of a time"},
		{`(Get-Date).AddDays("x")`, ".AddDays() takes a number"},
		{`"x".StartsWith()`, ".StartsWith() takes 1 argument(s), got 0"},
		{`$x = $null; $x[0]`, "cannot index into $null"},
		{`$x = 5; $x.Name = 1`, "has no properties to set"},
		{`$x = $null; $x.Name = 1`, "the property of $null cannot be set"},
		{`(Get-CsPinPolicy global).Colour`, `pin_policy record has no field "Colour"`},
		{`Get-CsUser | Format-Table Identity | Lock-CsClientPin`, `cannot pipe the view format_table makes into lock_pin: a view is for display`},
		{`Get-CsUser | Get-CsClientPinInfo | Format-List IsPinSett`, `format_list: pin_info record has no field "IsPinSett"; did you mean is_pin_set?`},
		{"Get-CsUser |\n  Where-Object { $_.Nmae -eq 1 }", `test.ps1:2:3: user record has no field "Nmae"; its fields are identity`},
		{`5 + "x"`, `cannot add "x" (string) to a number`},
		{`throw "stopped here"`, "test.ps1:1:1: stopped here"},
		{`Import-Csv /nonexistent/file.csv`, "Import-Csv: open /nonexistent/file.csv"},
		{`Get-CsUser | Set-CsClientPin | Out-Null`, "Out-Null would drop the generated PINs"},
	}
	for _, tt := range tests {
		_, _, err := s.ps(tt.ps)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\ngot  %v\nwant %s", tt.ps, err, tt.want)
		}
	}
}
