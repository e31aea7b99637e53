package main

import (
	"testing"

	"github.com/pinsh/pinsh/store/boltstore"
)

// TestPSPrompt runs the PowerShell prompt: its PS prompt, a pipeline
// continued after a trailing |, a variable kept for the next entry, an
// error at a PowerShell position, help and exit.
func TestPSPrompt(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--demo", "--ps")
	p.expect(`database demo`)
	p.expect(`PS [^\n]*@demo> `)
	p.send("Get-CsUser |" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("  Where-Object { $_.DisplayName -like '* smith' } | Measure-Object" + keyEnter)
	p.expect(`count: 2`)
	p.expect(`PS [^\n]*@demo> `)
	p.send("$n = (Get-CsUser).Count" + keyEnter)
	p.expect(`PS [^\n]*@demo> `)
	p.send(`"users: $n"` + keyEnter)
	p.expect(`users: 7`)
	p.expect(`PS [^\n]*@demo> `)
	p.send("Get-CsUser | Where-Object {$_.IsPinSet == $true}" + keyEnter)
	p.expect(`<prompt>:1:40: '==' is not a PowerShell operator; compare with -eq`)
	p.expect(`PS [^\n]*@demo> `)
	p.send("help Lock-CsClientPin" + keyEnter)
	p.expect(`Lock-CsClientPin is lock_pin in pinsh`)
	p.expect(`PS [^\n]*@demo> `)
	p.send("exit" + keyEnter)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after exit, want 0", code)
	}
}

// TestPSPromptCompletion: Tab at the PowerShell prompt completes cmdlets,
// their parameters, properties and identities, and what it completes runs.
func TestPSPromptCompletion(t *testing.T) {
	const cols = 120
	p := startPtySize(t, cols, 30, pinshEnv(t.TempDir()), "--demo", "--ps")
	p.expect(`PS [^\n]*@demo> `)
	prompt := "PS " + boltstore.Operator() + "@demo> "
	p.expectTabs(cols, prompt, []tabCase{
		{"Get-CsU", "Get-CsUser"},
		{"Get-CsUser | Get-CsClientPinI", "Get-CsUser | Get-CsClientPinInfo"},
		{"Get-CsUser -Ld", "Get-CsUser -LdapFilter"},
		{"Get-CsUser | Get-CsClientPinInfo | Where-Object {$_.IsLo", "Get-CsUser | Get-CsClientPinInfo | Where-Object {$_.IsLockedOut"},
		{`Get-CsClientPinInfo -Identity "tonys`, `Get-CsClientPinInfo -Identity "tonysmith@litwareinc.com"`},
	})
	p.send("Get-CsUser | Get-CsClientPinInfo | Where-Object {$_.IsLo" + keyTab + " -eq $true} | Measure-Object" + keyEnter)
	p.expect(`count: \d+`)
}
