package pslang

import (
	"errors"
	"strings"
)

// Incomplete reports whether src fails to parse only because it ended too
// early, so that a prompt should read another line: a block, parenthesis
// or string left open, a trailing | or a backtick at the end of the line.
func Incomplete(src string) bool {
	trimmed := strings.TrimRight(src, " \t\r\n")
	if trimmed == "" {
		return false
	}
	if strings.HasSuffix(trimmed, "|") || strings.HasSuffix(src, "`\n") || strings.HasSuffix(trimmed, "`") {
		return true
	}
	_, err := Parse(src)
	var se *SyntaxError
	if !errors.As(err, &se) {
		return false
	}
	for _, s := range []string{"is not closed", "input ended inside", "a command must follow |"} {
		if strings.Contains(se.Msg, s) {
			return true
		}
	}
	// an error at the very end: expected ... found end of input
	return strings.HasSuffix(se.Msg, "found end of input")
}
