package main

import (
	"bytes"
	"io"
	"slices"
	"sync"

	"github.com/chzyer/readline"
)

// wordKeys are the escape sequences terminals send for Ctrl-Left and
// Ctrl-Right (xterm's CSI 1;5 D and its kin; Alt-Left and Alt-Right too),
// each with what readline reads as moving a word: Esc b, Esc f. readline
// decodes the sequences by their last letter only, so that without this
// they move one character (bash and PSReadLine move a word).
var wordKeys = []struct{ seq, key string }{
	{"\x1b[1;5D", "\x1bb"}, {"\x1b[1;5C", "\x1bf"}, // xterm, VTE, tmux
	{"\x1b[1;3D", "\x1bb"}, {"\x1b[1;3C", "\x1bf"}, // Alt-Left, Alt-Right
	{"\x1b[5D", "\x1bb"}, {"\x1b[5C", "\x1bf"}, // older xterm
	{"\x1bOd", "\x1bb"}, {"\x1bOc", "\x1bf"}, // rxvt
}

// keyReader is the prompt's standard input as readline reads it: the
// terminal's input with wordKeys translated. A sequence split across reads
// is held back until it is whole, unless it is a lone Esc, which is a key
// of its own.
type keyReader struct {
	r    io.Reader
	buf  []byte // read, not yet returned
	held []byte // the start of a sequence, waiting for its end
}

func (k *keyReader) Read(p []byte) (int, error) {
	for len(k.buf) == 0 {
		in := make([]byte, len(p))
		n, err := k.r.Read(in)
		data := append(k.held, in[:n]...)
		k.held = nil
		if err != nil {
			// Whatever is held is given as it is.
			k.buf = translateKeys(data)
			if len(k.buf) == 0 {
				return 0, err
			}
			break
		}
		data, k.held = splitPartial(data)
		k.buf = translateKeys(data)
	}
	n := copy(p, k.buf)
	k.buf = k.buf[n:]
	return n, nil
}

// translateKeys replaces the wordKeys sequences in b.
func translateKeys(b []byte) []byte {
	if bytes.IndexByte(b, 0x1b) < 0 {
		return b
	}
	for _, w := range wordKeys {
		b = bytes.ReplaceAll(b, []byte(w.seq), []byte(w.key))
	}
	return b
}

// splitPartial splits off the end of b that is the start (two bytes or
// more) of a wordKeys sequence but not the whole of one.
func splitPartial(b []byte) (whole, partial []byte) {
	i := bytes.LastIndexByte(b, 0x1b)
	if i < 0 || len(b)-i < 2 {
		return b, nil
	}
	tail := b[i:]
	for _, w := range wordKeys {
		if len(tail) < len(w.seq) && bytes.HasPrefix([]byte(w.seq), tail) {
			return b[:i], append([]byte(nil), tail...)
		}
	}
	return b, nil
}

// searchCancel makes Ctrl-G in a Ctrl-R (or Ctrl-S) search put back the
// line as it was before the search, cursor and all. readline reverts to the
// line it saved when Ctrl-R was last pressed, and a second Ctrl-R (the
// next match) saves the first match: Ctrl-G then keeps a matched line.
// searchCancel watches the keys (filter, before readline handles them) and
// the line after each (OnChange, a readline.Listener), and on Ctrl-G sets
// the line it saw before the search began.
type searchCancel struct {
	mu        sync.Mutex
	line      []rune // the line after the last key outside a search
	pos       int
	searching bool
	saved     []rune // the line when the search began
	savedPos  int
}

// filter implements readline.Config.FuncFilterInputRune.
func (s *searchCancel) filter(r rune) (rune, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if (r == readline.CharBckSearch || r == readline.CharFwdSearch) && !s.searching {
		s.searching = true
		s.saved, s.savedPos = slices.Clone(s.line), s.pos
	}
	return r, true
}

// OnChange implements readline.Listener.
func (s *searchCancel) OnChange(line []rune, pos int, key rune) ([]rune, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if line == nil && key == 0 { // a new line is read
		s.line, s.pos, s.searching = nil, 0, false
		return nil, 0, false
	}
	if s.searching {
		switch {
		case key == readline.CharBckSearch || key == readline.CharFwdSearch,
			key == readline.CharBackspace || key == readline.CharCtrlH,
			readline.IsPrintable(key):
			return nil, 0, false // the search goes on
		}
		s.searching = false
		if key == readline.CharBell {
			s.line, s.pos = slices.Clone(s.saved), s.savedPos
			return slices.Clone(s.saved), s.savedPos, true
		}
	}
	s.line, s.pos = slices.Clone(line), pos
	return nil, 0, false
}
