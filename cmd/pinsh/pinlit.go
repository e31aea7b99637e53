package main

import (
	"strings"

	"github.com/d5/tengo/v2/parser"
	tengotoken "github.com/d5/tengo/v2/token"
)

// PIN literals: what in a line of source may be a PIN typed in clear, so
// that the history leaves the entry out and an error's source line masks it.
//
// A PIN is a string of minPinDigits to maxPinDigits ASCII digits (facts §6);
// set_pin refuses numbers, so number literals are never taken for PINs
// (first(1000) and times.date(2026, ...) are kept and shown). Two kinds of
// literal count:
//
//   - a string literal whose text is 4 to 24 digits, spaces around them
//     trimmed, anywhere ("48151", " 48151", {a: "93817"}, an alias or
//     wrapper of set_pin called with one);
//   - any literal written directly as an argument of set_pin or
//     verify_pin after the first (the identity): set_pin(u, 48151),
//     verify_pin(u, "12a"), set_pin(u, "48" + "151"); not one inside a
//     nested call or bracket (set_pin(u, read_pin("PIN: "))).
//
// What no rule on source text can see: a PIN inside a longer string
// ("new PIN 640289 for real5"), a PIN built from parts or from numbers
// (string(640289)), a PIN read from a file. Keep such an entry out of the
// history with a leading space (see historyIgnored).

// minPinDigits and maxPinDigits bound the length of a PIN under any policy
// (facts §6).
const (
	minPinDigits = 4
	maxPinDigits = 24
)

// pinBuiltins are the builtins whose arguments after the first may be PINs.
var pinBuiltins = map[string]bool{"set_pin": true, "verify_pin": true}

// span is the byte range of a literal's text in a source line: inside the
// quotes of a string, the whole of a number.
type span struct{ from, to int }

// pinLiterals returns the literals of src that may be PINs (see above). src
// need not parse: it is scanned token by token, so that a source line cut
// from a longer script, or an unterminated entry, is judged too.
func pinLiterals(src string) []span {
	fset := parser.NewFileSet()
	file := fset.AddFile("", -1, len(src))
	sc := parser.NewScanner(file, []byte(src), func(parser.SourceFilePos, string) {}, parser.DontInsertSemis)
	type call struct {
		depth int  // bracket depth inside the call's parentheses
		pin   bool // past the first argument
	}
	var (
		spans   []span
		calls   []call // open calls of PIN builtins, innermost last
		depth   int    // brackets open, not counting grouping parentheses
		groups  []bool // per open bracket: a grouping parenthesis
		prev    tengotoken.Token
		pinName bool // the previous token names a PIN builtin
	)
	for {
		tok, lit, pos := sc.Scan()
		if tok == tengotoken.EOF {
			return spans
		}
		switch tok {
		case tengotoken.LParen, tengotoken.LBrack, tengotoken.LBrace:
			// A parenthesis that follows no callee groups: set_pin(u,
			// (48151)) writes the PIN directly all the same.
			group := tok == tengotoken.LParen && prev != tengotoken.Ident && prev != tengotoken.RParen &&
				prev != tengotoken.RBrack && prev != tengotoken.Func
			groups = append(groups, group)
			if !group {
				depth++
			}
			if tok == tengotoken.LParen && pinName {
				calls = append(calls, call{depth: depth})
			}
		case tengotoken.RParen, tengotoken.RBrack, tengotoken.RBrace:
			group := false
			if n := len(groups); n > 0 {
				group, groups = groups[n-1], groups[:n-1]
			}
			if group {
				break
			}
			if n := len(calls); n > 0 && calls[n-1].depth == depth {
				calls = calls[:n-1]
			}
			depth--
		case tengotoken.Comma:
			if n := len(calls); n > 0 && calls[n-1].depth == depth {
				calls[n-1].pin = true
			}
		case tengotoken.String, tengotoken.Int, tengotoken.Float, tengotoken.Char:
			from := file.Offset(pos)
			to := min(from+len(lit), len(src))
			if tok == tengotoken.String || tok == tengotoken.Char {
				from, to = quoted(src, from, to)
			}
			n := len(calls)
			inPinArg := n > 0 && calls[n-1].depth == depth && calls[n-1].pin
			if inPinArg || tok == tengotoken.String && isPinDigits(src[from:to]) {
				spans = append(spans, span{from, to})
			}
		}
		pinName = tok == tengotoken.Ident && pinBuiltins[lit]
		prev = tok
	}
}

// quoted returns the range inside the quotes of the string or character
// literal at src[from:to]; an unterminated one has no closing quote.
func quoted(src string, from, to int) (int, int) {
	q := src[from]
	from++
	if to > from && src[to-1] == q {
		to--
	}
	return from, max(from, to)
}

// maskPins returns line with every byte of its PIN literals (see
// pinLiterals) replaced by '*', so that an error never shows a PIN typed in
// clear and the caret under the line stays in its column.
func maskPins(line string) string {
	spans := pinLiterals(line)
	if len(spans) == 0 {
		return line
	}
	b := []byte(line)
	for _, s := range spans {
		for i := s.from; i < s.to; i++ {
			b[i] = '*'
		}
	}
	return string(b)
}

// isPinDigits reports whether s is minPinDigits to maxPinDigits ASCII
// digits: what a PIN may be (facts §6), also when typed with spaces around
// it (" 48151 "), which pinsh refuses as a target without showing it and so
// never shows in a source line either.
func isPinDigits(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < minPinDigits || len(s) > maxPinDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) {
			return false
		}
	}
	return true
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }
