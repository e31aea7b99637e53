package pslang

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tSemi
	tPipe
	tLParen
	tRParen
	tLBrace
	tRBrace
	tLBracket
	tRBracket
	tComma
	tAssign // = += -=
	tDot
	tDollarParen // $(
	tAtParen     // @(
	tAtBrace     // @{
	tVar
	tString    // single-quoted, or double-quoted without expansions
	tExpString // double-quoted with expansions
	tNumber
	tParam // -name (operators too); colon set for -name:
	tBang
	tPlus
	tMinus
	tStar
	tSlash
	tPercent
	tWord
)

var tokNames = [...]string{
	tEOF: "end of input", tNewline: "end of line", tSemi: "';'", tPipe: "'|'", tLParen: "'('",
	tRParen: "')'", tLBrace: "'{'", tRBrace: "'}'", tLBracket: "'['", tRBracket: "']'", tComma: "','",
	tAssign: "'='", tDot: "'.'", tDollarParen: "'$('", tAtParen: "'@('", tAtBrace: "'@{'", tVar: "variable",
	tString: "string", tExpString: "string", tNumber: "number", tParam: "parameter", tBang: "'!'",
	tPlus: "'+'", tMinus: "'-'", tStar: "'*'", tSlash: "'/'", tPercent: "'%'", tWord: "word",
}

// token is one lexical token. Whitespace and comments are not tokens;
// space says whether any came before this one.
type token struct {
	kind  tokKind
	text  string // the value: a word, a variable name, a string's value, an operator
	pos   Pos
	end   int // byte offset just after the token
	off   int // byte offset of the token
	space bool
	colon bool      // tParam written -name:
	parts []strPart // tExpString
}

// strPart is a piece of a double-quoted string: literal text, a variable
// ($name), or a subexpression $( ... ) kept as source to parse later.
type strPart struct {
	lit    string
	isVar  bool
	isSub  bool
	name   string // variable
	src    string // subexpression source, between the parentheses
	pos    Pos    // of the $
	srcPos Pos    // where src starts
	srcOff int
}

// SyntaxError is a PowerShell construct pinsh cannot read: where, what,
// and what to write instead.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

type lexer struct {
	src  string
	off  int
	line int
	col  int
	toks []token
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

func (l *lexer) errf(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance moves past n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

// identLen is the length in bytes of the identifier k bytes ahead.
func (l *lexer) identLen(k int) int {
	n := 0
	for l.off+k+n < len(l.src) {
		r, sz := utf8.DecodeRuneInString(l.src[l.off+k+n:])
		if !isIdent(r) {
			break
		}
		n += sz
	}
	return n
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// isWordByte reports whether b may continue a bare word.
func isWordByte(b byte) bool {
	switch b {
	case ' ', '\t', '\r', '\n', '|', ';', '(', ')', '{', '}', ',', '"', '\'', '`', '=', '$':
		return false
	}
	return b != 0
}

// lex splits src into tokens with positions.
func lex(src string, start Pos) ([]token, error) {
	l := &lexer{src: src, line: start.Line, col: start.Col}
	for {
		space, err := l.skipSpace()
		if err != nil {
			return nil, err
		}
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		t.space = space
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, nil
		}
	}
}

// skipSpace skips blanks, comments and backtick line continuations, and
// reports whether it skipped anything.
func (l *lexer) skipSpace() (bool, error) {
	skipped := false
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '`' && (l.peekByte(1) == '\n' || (l.peekByte(1) == '\r' && l.peekByte(2) == '\n')):
			if l.peekByte(1) == '\r' {
				l.advance(1)
			}
			l.advance(2)
		case c == '<' && l.peekByte(1) == '#':
			p := l.pos()
			end := strings.Index(l.src[l.off+2:], "#>")
			if end < 0 {
				return false, l.errf(p, "block comment <# is not closed; end it with #>")
			}
			l.advance(end + 4)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == 0xC2 && l.peekByte(1) == 0xA0: // no-break space, common in pasted web pages
			l.advance(2)
		default:
			return skipped, nil
		}
		skipped = true
	}
	return skipped, nil
}

func (l *lexer) tok(kind tokKind, n int, text string) token {
	t := token{kind: kind, pos: l.pos(), off: l.off, text: text}
	l.advance(n)
	t.end = l.off
	return t
}

func (l *lexer) last() tokKind {
	if len(l.toks) == 0 {
		return tNewline
	}
	return l.toks[len(l.toks)-1].kind
}

func (l *lexer) next() (token, error) {
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: l.pos(), off: l.off, end: l.off}, nil
	}
	p := l.pos()
	c := l.src[l.off]
	// A member name right after '.' is an identifier, whatever follows.
	if l.last() == tDot {
		n := l.identLen(0)
		if n == 0 {
			return token{}, l.errf(p, "a property or method name must follow '.'")
		}
		return l.tok(tWord, n, l.src[l.off:l.off+n]), nil
	}
	switch c {
	case '\n':
		return l.tok(tNewline, 1, ""), nil
	case ';':
		return l.tok(tSemi, 1, ""), nil
	case '|':
		if l.peekByte(1) == '|' {
			return token{}, l.errf(p, "'||' (a pipeline chain) is not in pinsh's PowerShell; use if (...) { } on the result, or -or between conditions")
		}
		return l.tok(tPipe, 1, ""), nil
	case '(':
		return l.tok(tLParen, 1, ""), nil
	case ')':
		return l.tok(tRParen, 1, ""), nil
	case '{':
		return l.tok(tLBrace, 1, ""), nil
	case '}':
		return l.tok(tRBrace, 1, ""), nil
	case '[':
		if k := l.last(); k == tVar || k == tRParen || k == tRBracket || k == tWord && l.off > 0 && isWordByte(l.src[l.off-1]) {
			return l.tok(tLBracket, 1, ""), nil
		}
		return token{}, l.errf(p, "type literals and casts ([int], [datetime]...) are not in pinsh's PowerShell; values convert on their own, and Get-Date gives the time")
	case ']':
		return l.tok(tRBracket, 1, ""), nil
	case ',':
		return l.tok(tComma, 1, ""), nil
	case '&':
		if l.peekByte(1) == '&' {
			return token{}, l.errf(p, "'&&' (a pipeline chain) is not in pinsh's PowerShell; use -and between conditions")
		}
		return token{}, l.errf(p, "the call operator & is not in pinsh's PowerShell; call cmdlets by name")
	case '=':
		if l.peekByte(1) == '=' {
			return token{}, l.errf(p, "'==' is not a PowerShell operator; compare with -eq")
		}
		return l.tok(tAssign, 1, "="), nil
	case '!':
		if l.peekByte(1) == '=' {
			return token{}, l.errf(p, "'!=' is not a PowerShell operator; compare with -ne")
		}
		return l.tok(tBang, 1, "!"), nil
	case '+':
		if l.peekByte(1) == '=' {
			return l.tok(tAssign, 2, "+="), nil
		}
		if l.peekByte(1) == '+' {
			return token{}, l.errf(p, "'++' is not in pinsh's PowerShell; write $x += 1")
		}
		return l.tok(tPlus, 1, "+"), nil
	case '*':
		return l.tok(tStar, 1, "*"), nil
	case '/':
		// After a blank and before a non-blank, / starts a path argument
		// (Import-Csv /tmp/users.csv); elsewhere it divides.
		if l.off > 0 && strings.ContainsRune(" \t", rune(l.src[l.off-1])) && l.peekByte(1) != ' ' && l.peekByte(1) != '\t' && l.last() != tVar && l.last() != tNumber && l.last() != tRParen {
			return l.word()
		}
		return l.tok(tSlash, 1, "/"), nil
	case '>':
		return token{}, l.errf(p, "redirection (>) is not in pinsh's PowerShell; write files with Export-Csv")
	case '\'':
		return l.single()
	case '"':
		return l.double()
	case '$':
		return l.variable()
	case '@':
		switch l.peekByte(1) {
		case '(':
			return l.tok(tAtParen, 2, ""), nil
		case '{':
			return l.tok(tAtBrace, 2, ""), nil
		case '"', '\'':
			return token{}, l.errf(p, "here-strings (@\" \"@) are not in pinsh's PowerShell; use a quoted string on one line")
		}
		return token{}, l.errf(p, "splatting (@name) is not in pinsh's PowerShell; write the parameters out")
	case '-':
		if l.peekByte(1) == '-' {
			return token{}, l.errf(p, "'--' is not in pinsh's PowerShell; write $x -= 1")
		}
		if l.peekByte(1) == '=' {
			return l.tok(tAssign, 2, "-="), nil
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.off+1:])
		if unicode.IsLetter(r) {
			n := 1 + l.identLen(1)
			name := l.src[l.off+1 : l.off+n]
			colon := l.off+n < len(l.src) && l.src[l.off+n] == ':'
			if colon {
				n++
			}
			t := l.tok(tParam, n, name)
			t.colon = colon
			return t, nil
		}
		return l.tok(tMinus, 1, "-"), nil
	case '%':
		// % alone is ForEach-Object; %= would be an operator.
		if l.peekByte(1) == '=' {
			return token{}, l.errf(p, "'%%=' is not in pinsh's PowerShell; write $x = $x %% n")
		}
		if k := l.last(); k == tNewline || k == tSemi || k == tPipe || k == tLBrace || k == tLParen || k == tEOF {
			return l.word()
		}
		return l.tok(tPercent, 1, "%"), nil
	case '`':
		return token{}, l.errf(p, "a backtick must end the line (to continue it) or escape a character inside a double-quoted string")
	}
	if c == '.' && (l.last() == tVar || l.last() == tRParen || l.last() == tRBracket || l.last() == tString || l.last() == tExpString || l.last() == tRBrace || l.last() == tWord && l.off > 0 && l.src[l.off-1] != ' ') &&
		l.off > 0 && !strings.ContainsRune(" \t\n", rune(l.src[l.off-1])) {
		if l.peekByte(1) == '.' {
			return token{}, l.errf(p, "the range operator .. is not in pinsh's PowerShell; loop with foreach over a list")
		}
		return l.tok(tDot, 1, "."), nil
	}
	if c == ':' && l.peekByte(1) == ':' {
		return token{}, l.errf(p, "static members (::) are not in pinsh's PowerShell; Get-Date gives the time")
	}
	return l.word()
}

// word reads a bare word or a number.
func (l *lexer) word() (token, error) {
	n := 0
	for l.off+n < len(l.src) && isWordByte(l.src[l.off+n]) {
		// a '.' followed by a letter after a word is a member access only
		// for expressions; in a bare word it is part of it (pins.csv).
		if l.src[l.off+n] == '[' || l.src[l.off+n] == ']' {
			break
		}
		n++
	}
	if n == 0 {
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		return token{}, l.errf(l.pos(), "unexpected character %q", r)
	}
	w := l.src[l.off : l.off+n]
	if w[0] >= '0' && w[0] <= '9' && strings.Contains(w, "..") {
		return token{}, l.errf(Pos{l.line, l.col + strings.Index(w, "..")}, "the range operator .. is not in pinsh's PowerShell; loop with foreach over a list")
	}
	if isNumber(w) {
		return l.tok(tNumber, n, w), nil
	}
	// A word that ends with '.' followed by a method call, as in
	// Get-Date).AddDays, is not one; but words never start an expression
	// with a member access, so leave it.
	return l.tok(tWord, n, w), nil
}

func isNumber(w string) bool {
	dot := false
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] >= '0' && w[i] <= '9':
		case w[i] == '.' && !dot && i > 0 && i < len(w)-1:
			dot = true
		default:
			return false
		}
	}
	return len(w) > 0
}

func (l *lexer) single() (token, error) {
	p := l.pos()
	start := l.off
	var b strings.Builder
	i := l.off + 1
	for {
		if i >= len(l.src) {
			return token{}, l.errf(p, "string is not closed; end it with '")
		}
		c := l.src[i]
		if c == '\'' {
			if i+1 < len(l.src) && l.src[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			break
		}
		b.WriteByte(c)
		i++
	}
	t := token{kind: tString, pos: p, off: start, text: b.String()}
	l.advance(i + 1 - l.off)
	t.end = l.off
	return t, nil
}

// double reads a double-quoted string, splitting it into literal text,
// $variables and $( ) subexpressions.
func (l *lexer) double() (token, error) {
	p := l.pos()
	start := l.off
	var parts []strPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, strPart{lit: b.String()})
			b.Reset()
		}
	}
	l.advance(1)
	for {
		if l.off >= len(l.src) {
			return token{}, l.errf(p, "string is not closed; end it with \"")
		}
		c := l.src[l.off]
		switch {
		case c == '"':
			if l.peekByte(1) == '"' {
				b.WriteByte('"')
				l.advance(2)
				continue
			}
			l.advance(1)
			flush()
			t := token{kind: tString, pos: p, off: start, end: l.off}
			if len(parts) == 1 && !parts[0].isVar && !parts[0].isSub {
				t.text = parts[0].lit
			} else if len(parts) > 0 {
				t.kind = tExpString
				t.parts = parts
			}
			return t, nil
		case c == '`':
			e := l.peekByte(1)
			esc := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '0': "\x00", '`': "`", '"': "\"", '$': "$", '\'': "'", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v"}
			s, ok := esc[e]
			if !ok {
				if e == '\n' {
					s = ""
				} else {
					s = string(e)
				}
			}
			b.WriteString(s)
			l.advance(2)
		case c == '$' && l.peekByte(1) == '(':
			flush()
			dp := l.pos()
			l.advance(2)
			sp, so := l.pos(), l.off
			depth := 1
			for depth > 0 {
				if l.off >= len(l.src) {
					return token{}, l.errf(dp, "$( in a string is not closed; end it with )")
				}
				switch l.src[l.off] {
				case '(':
					depth++
				case ')':
					depth--
				case '\'':
					if q := strings.IndexByte(l.src[l.off+1:], '\''); q >= 0 {
						l.advance(q + 1)
					}
				}
				if depth > 0 {
					l.advance(1)
				}
			}
			parts = append(parts, strPart{isSub: true, src: l.src[so:l.off], pos: dp, srcPos: sp, srcOff: so})
			l.advance(1)
		case c == '$' && (l.peekByte(1) == '_' || l.peekByte(1) == '{' || isLetterByte(l.src, l.off+1)):
			flush()
			t, err := l.variable()
			if err != nil {
				return token{}, err
			}
			parts = append(parts, strPart{isVar: true, name: t.text, pos: t.pos})
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

func isLetterByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

func (l *lexer) variable() (token, error) {
	p := l.pos()
	switch l.peekByte(1) {
	case '(':
		return l.tok(tDollarParen, 2, ""), nil
	case '{':
		end := strings.IndexByte(l.src[l.off:], '}')
		if end < 0 {
			return token{}, l.errf(p, "${ is not closed; end the name with }")
		}
		name := l.src[l.off+2 : l.off+end]
		return l.tok(tVar, end+1, name), nil
	case '_':
		if !isLetterByte(l.src, l.off+2) && l.peekByte(2) != '_' {
			return l.tok(tVar, 2, "_"), nil
		}
	}
	n := 1 + l.identLen(1)
	if n == 1 {
		return token{}, l.errf(p, "'$' must start a variable name ($users) or a subexpression $( )")
	}
	if l.off+n < len(l.src) && l.src[l.off+n] == ':' && l.off+n+1 < len(l.src) && isLetterByte(l.src, l.off+n+1) {
		return token{}, l.errf(p, "scoped and drive variables ($%s:...) are not in pinsh's PowerShell; use a plain $name", l.src[l.off+1:l.off+n])
	}
	return l.tok(tVar, n, l.src[l.off+1:l.off+n]), nil
}
