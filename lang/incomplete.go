package lang

import (
	"bytes"
	"errors"
	"strings"

	"github.com/d5/tengo/v2/parser"
)

// Incomplete reports whether src fails to parse only because it ended too
// early, so that a REPL should read another line instead of reporting an
// error: a bracket, brace or parenthesis left open, a trailing operator such
// as |, +, && or :=, an unterminated raw string or block comment. Input that
// is complete, empty, or wrong before its end is not incomplete.
func Incomplete(src []byte) bool {
	trimmed := bytes.TrimRight(src, " \t\r\n")
	if len(trimmed) == 0 || len(src) > maxSourceLen {
		return false
	}
	if _, ok := checkNesting(src); !ok {
		return false
	}
	fs := parser.NewFileSet()
	f := fs.AddFile("", -1, len(src))
	_, err := parser.NewParser(f, src, nil).ParseFile()
	var list parser.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return false
	}
	for _, e := range list {
		if strings.HasPrefix(e.Msg, "raw string literal not terminated") ||
			strings.HasPrefix(e.Msg, "comment not terminated") {
			return true
		}
	}
	return list[0].Pos.Offset >= len(trimmed)
}
