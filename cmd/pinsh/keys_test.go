package main

import (
	"io"
	"testing"
)

// chunks is a reader that returns one chunk per Read.
type chunks []string

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	*c = (*c)[1:]
	return n, nil
}

func TestKeyReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   chunks
		want string
	}{
		{"plain", chunks{"abc"}, "abc"},
		{"ctrl-left", chunks{"a\x1b[1;5Db"}, "a\x1bbb"},
		{"ctrl-right", chunks{"\x1b[1;5C"}, "\x1bf"},
		{"alt and rxvt", chunks{"\x1b[1;3D\x1bOc"}, "\x1bb\x1bf"},
		{"plain arrows stay", chunks{"\x1b[D\x1b[C\x1b[A"}, "\x1b[D\x1b[C\x1b[A"},
		{"split sequence", chunks{"x\x1b[1", ";5", "Dy"}, "x\x1bby"},
		{"lone esc is not held", chunks{"\x1b", "[1;5D"}, "\x1b[1;5D"},
		{"held at the end is given", chunks{"\x1b[1;"}, "\x1b[1;"},
	} {
		in := tc.in
		got, err := io.ReadAll(&keyReader{r: &in})
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestLineBreakBuffer(t *testing.T) {
	entry := "f := func(p) {\n  return p\n}"
	buf := toBuffer(entry)
	if len([]rune(buf)) != len([]rune(entry)) {
		t.Errorf("toBuffer changes the length in runes: %q", buf)
	}
	if got := fromBuffer(buf); got != entry {
		t.Errorf("fromBuffer(toBuffer(e)) = %q, want %q", got, entry)
	}
	painted := string((lineBreakPainter{}).Paint([]rune(buf), 0))
	if painted != "f := func(p) {↵  return p↵}" {
		t.Errorf("Paint = %q", painted)
	}
	plain := []rune("no breaks")
	if got := (lineBreakPainter{}).Paint(plain, 0); &got[0] != &plain[0] {
		t.Errorf("Paint copies a line without breaks")
	}
}
