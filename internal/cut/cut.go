// Package cut shortens the user input that error messages echo. A message
// names the input that was wrong (an identity, an operator name, a field
// name, a bad import value), but a 1 MB identity must not write 1 MB to
// standard error, nor a bad import row keep its whole text in memory: the
// first Max bytes name it well enough.
//
// Every place an error echoes an input it did not bound itself uses Quote
// or Text.
package cut

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Max is how many bytes of an input a message shows.
const Max = 64

// Quote returns s quoted as strconv.Quote does. Input longer than Max bytes
// is cut at a character boundary and marked with its length:
// "aaaa"... (100000 bytes).
func Quote(s string) string {
	head, cut := prefix(s)
	if !cut {
		return strconv.Quote(s)
	}
	return strconv.Quote(head) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// Text returns s as it is when it has at most Max bytes, and otherwise its
// first Max bytes (at a character boundary) followed by "... (N bytes)".
// The result never shares memory with a long s, so a message kept for
// later does not keep the whole input alive.
func Text(s string) string {
	head, cut := prefix(s)
	if !cut {
		return s
	}
	return strings.Clone(head) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// prefix returns the first Max bytes of s, fewer to end on a character
// boundary, and whether that is not all of s.
func prefix(s string) (string, bool) {
	if len(s) <= Max {
		return s, false
	}
	i := Max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], true
}

// MaxMessage is the longest message Message leaves whole.
const MaxMessage = 1024

// Message bounds a whole message that may hold input no one cut (a
// compiler's message naming a 100 kB identifier): one longer than
// MaxMessage keeps its start and its end, where the advice is, and says how
// much was left out between.
func Message(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	head, tail := MaxMessage/2, MaxMessage/4
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	t := len(s) - tail
	for t < len(s) && !utf8.RuneStart(s[t]) {
		t++
	}
	return s[:head] + " ... (" + strconv.Itoa(t-head) + " bytes left out) ... " + s[t:]
}

// MaxLine is the widest source line Window leaves whole.
const MaxLine = 160

// Window cuts a long source line to MaxLine bytes around col (the 1-based
// byte column of a caret under it), marking each cut side with "...", and
// returns the column of the same character in the result.
func Window(line string, col int) (string, int) {
	if len(line) <= MaxLine {
		return line, col
	}
	c := min(max(col-1, 0), len(line))
	from := max(0, c-MaxLine/2)
	for from > 0 && !utf8.RuneStart(line[from]) {
		from--
	}
	to := min(len(line), from+MaxLine)
	for to < len(line) && !utf8.RuneStart(line[to]) {
		to--
	}
	out := line[from:to]
	col = c - from + 1
	if from > 0 {
		out, col = "..."+out, col+3
	}
	if to < len(line) {
		out += "..."
	}
	return out, col
}
