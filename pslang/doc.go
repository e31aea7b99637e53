// Package pslang is pinsh's PowerShell front end: it reads the subset of
// PowerShell that Lync and Skype for Business admins write (the cmdlets of
// PIN administration and the pipeline cmdlets around them) and runs it on
// the same builtins as the Tengo language, so roles, audit, WhatIf and
// Confirm, lockout, batching and the PIN-delivery guarantees are the
// builtins' own, identical in both languages.
//
// # Design: translate, do not interpret
//
// A script is parsed into a syntax tree with positions (Parse), which is
// translated into Tengo that calls the builtins (Translator.Translate), and
// that Tengo runs in an ordinary lang.Session. Why a translation and not a
// second interpreter:
//
//   - one implementation: the cmdlets become the builtins' calls
//     (lock_pin, set_pin...), found by the names each builtin declares
//     (lang.Builtin.Cmdlets, lang.ByCmdlet); nothing of their semantics
//     is written twice;
//   - pinsh --ps --translate prints that very Tengo, which runs to the same
//     result, for admins who move their scripts over (the tests check it
//     for every example);
//   - the sandbox, limits, Ctrl-C, --timeout and the error reporting of
//     lang apply unchanged.
//
// Where PowerShell means something Tengo does not, a few small builtins
// (Builtins: ps_op, ps_prop, ps_value, ...) carry PowerShell's meaning:
// comparisons ignore case and convert the right operand to the left one's
// kind; $null (undefined, or a time that is never) sorts before every value,
// so `$null -lt (Get-Date)` is $True; -like and -match; a list on the left
// of a comparison filters it; properties are read by their PowerShell names,
// ignoring case (IsPinSet is is_pin_set; where a record field matches, the
// translation writes the field itself: p.is_pin_set). Every session has
// them, so a translation runs as Tengo too.
//
// # Faithful, and said so
//
// The translation runs what PowerShell would run, surprises included: the
// Lock-CsClientPin page's Example 3 locks PINs that never expire too. When a
// $null decided a comparison whose result feeds a mutating cmdlet (in the
// same pipeline, or an if around it), ps_op warns once, on standard error,
// naming the comparison's place and the safe form.
//
// # Refuse to guess
//
// Anything outside the subset is a *SyntaxError naming the construct, its
// line and column and what to write instead, before anything runs: a script
// with one such line runs none of its lines. An unknown cmdlet or
// parameter gets the closest name. A variable read but never set is an
// error, not $null. Runtime errors are reported at the PowerShell line and
// column of the command they come from (Translation.MapError): every
// command of a pipeline statement is translated onto its own Tengo line.
//
// The subset: see README.md, "Coming from PowerShell".
package pslang
