package pslang

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/builtins"
)

// FuzzParse feeds any input to the parser and the translator: no panic, no
// hang; a refusal is a *SyntaxError at a position inside the input, with a
// message of bounded size; a translation maps every Tengo line to a
// PowerShell position inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`Get-CsUser | Get-CsClientPinInfo | Where-Object {$_.PinExpirationTime -lt (Get-Date)} | Lock-CsClientPin`,
		`$x = New-CsPinPolicy -Identity "site:Redmond" -InMemory; $x.MinPasswordLength = 10; Set-CsPinPolicy -Instance $x`,
		"foreach ($u in Get-CsUser) { if ($u.Enabled -and $u.Site -like 'R*') { Write-Host \"$($u.DisplayName)\" } else { continue } }",
		"try { Set-CsClientPin -Identity $r.SipAddress -Pin $r.Pin -ErrorAction Stop } catch { $_.Exception.Message }",
		`Get-CsUser -Filter {PinPolicy -eq $Null} | Grant-CsPinPolicy -PolicyName X`,
		"Get-CsUser `\n | Select-Object -First 2 -Property DisplayName, SipAddress | Format-Table",
		`@{ a = @(1, 2, 3); b = "x" } | ConvertTo-Json`, `"$(" `, `$(`, `{`, "<#", `"` + "`",
	} {
		f.Add(s)
	}
	tr := NewTranslator(builtins.New(builtins.Config{}).Builtins())
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		lines := strings.Count(src, "\n") + 1
		res, err := tr.Translate("f.ps1", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: not a syntax error: %v", src, err)
			}
			if se.Pos.Line < 1 || se.Pos.Line > lines || se.Pos.Col < 1 {
				t.Fatalf("%q: error at %d:%d outside the input: %v", src, se.Pos.Line, se.Pos.Col, err)
			}
			if len(se.Msg) > 600+len(src) {
				t.Fatalf("%q: message of %d bytes", src, len(se.Msg))
			}
			return
		}
		if n := strings.Count(res.Tengo, "\n"); n != len(res.lines) {
			t.Fatalf("%q: %d Tengo lines, %d positions", src, n, len(res.lines))
		}
		for _, p := range res.lines {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("%q: Tengo line mapped to %d:%d", src, p.Line, p.Col)
			}
		}
	})
}
