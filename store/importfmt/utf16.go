package importfmt

import (
	"bufio"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Reader decodes UTF-16 (without its byte order mark) into UTF-8.
// Unpaired surrogates become U+FFFD, as encoding/json does for bad UTF-8.
type utf16Reader struct {
	r         *bufio.Reader
	bigEndian bool
	in        [4096]byte
	buf       []byte // backing array of out
	out       []byte // decoded and not yet read
	high      rune   // a high surrogate waiting for its pair, or 0
	err       error
}

var errOddUTF16 = errors.New("UTF-16 input ends in the middle of a character; is the file cut short?")

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

func (u *utf16Reader) fill() {
	n, err := io.ReadFull(u.r, u.in[:])
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
		if n%2 == 1 {
			err = errOddUTF16
		}
	}
	out := u.buf[:0]
	for i := 0; i+1 < n; i += 2 {
		c := rune(u.in[i]) | rune(u.in[i+1])<<8
		if u.bigEndian {
			c = rune(u.in[i])<<8 | rune(u.in[i+1])
		}
		switch {
		case u.high != 0 && c >= 0xDC00 && c <= 0xDFFF:
			out = utf8.AppendRune(out, utf16.DecodeRune(u.high, c))
			u.high = 0
			continue
		case u.high != 0:
			out = utf8.AppendRune(out, utf8.RuneError)
			u.high = 0
		}
		if c >= 0xD800 && c <= 0xDBFF {
			u.high = c
			continue
		}
		out = utf8.AppendRune(out, c) // a lone low surrogate becomes U+FFFD
	}
	if err != nil && u.high != 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
		u.high = 0
	}
	u.buf, u.out, u.err = out, out, err
}
