package main

import (
	"slices"
	"testing"
)

// TestPSComplete completes PowerShell (pinsh --ps) in each context: cmdlet
// names, their parameters, properties and identities.
func TestPSComplete(t *testing.T) {
	r := testREPLFor(t, &config{demo: true, as: "admin", ps: true})
	c := &completer{r: r}
	for _, tc := range []struct {
		text string
		want []string
		n    int
	}{
		// Cmdlets where a command goes, ignoring case, keeping what was typed.
		{"Lock-Cs", []string{"ClientPin"}, 7},
		{"get-csclientp", []string{"inInfo"}, 13},
		{"Get-CsUser | Get-CsClientPinInfo | Where-O", []string{"bject"}, 7},
		{"Get-CsUser | Out-H", []string{"ost"}, 5},
		{"$x = Get-CsU", []string{"ser"}, 7},
		{"Get-CsU", []string{"ser"}, 7},
		{"Lock-", []string{"CsClientPin"}, 5},
		{"nosuch-cmdlet -", nil, 0},
		// Parameters after "-", those pslang accepts for the cmdlet.
		{"Get-CsUser -Ld", []string{"apFilter"}, 2},
		{"Lock-CsClientPin -Identity x -w", []string{"hatIf"}, 1},
		{"Set-CsClientPin -", []string{"Confirm", "ErrorAction", "Force", "Identity", "Pin", "WhatIf"}, 0},
		{"Get-CsUser | Sort-Object -D", []string{"escending"}, 1},
		// Properties: of $_ in a script block, and where cmdlets take them.
		{"Get-CsUser | Get-CsClientPinInfo | Where-Object {$_.IsPin", []string{"Expired", "Set"}, 5},
		{"Get-CsUser | Where-Object { $PSItem.sip", []string{"Address"}, 3},
		{"Get-CsUser | Get-CsClientPinInfo | Sort-Object -Descending | ForEach-Object { $_.LockedB", []string{"y"}, 7},
		{"Get-CsUser | Select-Object Identity, Disp", []string{"layName"}, 4},
		{"Get-CsUser | Select-Object -Property Identity, DisplayName | Where-Object {$_.D", []string{"isplayName"}, 1},
		{"Get-CsUser | Get-CsClientPinInfo | Sort-Object PinE", []string{"xpirationTime"}, 4},
		{"Get-CsUser | Get-CsClientPinInfo | Where-Object IsL", []string{"ockedOut"}, 3},
		{"Get-CsUser | Get-CsClientPinInfo | Where-Object IsLockedOut -EQ $true | Format-Table Identity, IsL", []string{"ockedOut"}, 3},
		{"Get-CsUser | ForEach-Object {$_.Nosuch.", nil, 0},
		{"Get-Date | Where-Object {$_.", nil, 0},
		// Identities, as in Tengo: quoted or bare, by -Identity or position.
		{`Lock-CsClientPin -Identity "tonys`, []string{`mith@litwareinc.com"`}, 5},
		{`Get-CsClientPinInfo 'Tony`, []string{` Smith'`}, 4},
		{`Get-CsUser -Identity tonysmith@`, []string{`litwareinc.com`}, 10},
		{`Get-CsUser Tony`, nil, 4}, // a display name needs quotes
		{`Get-CsUser | Lock-CsClientPin "tony`, nil, 0},
	} {
		got, n := c.complete(tc.text)
		if !slices.Equal(got, tc.want) || len(got) > 0 && n != tc.n {
			t.Errorf("%q: got %q (%d), want %q (%d)", tc.text, got, n, tc.want, tc.n)
		}
	}
}
