package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/d5/tengo/v2/parser"
)

// historyLimit is how many entries the history file keeps.
const historyLimit = 1000

// history is the prompt's history file. Each entry is one line, with "\"
// written as "\\" and a newline as "\n", so that a multi-line entry is
// recalled whole. The file and its directory are private to the user (0600
// and 0700): entries may name users and show what an admin did.
type history struct {
	path string
}

// load returns the entries of the history file, oldest first, at most
// historyLimit of them; a missing file has none. When the file holds more,
// it is rewritten with the newest historyLimit entries.
func (h *history) load() ([]string, error) {
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	var entries []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			entries = append(entries, unescapeEntry(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", h.path, err)
	}
	if len(entries) > historyLimit {
		entries = entries[len(entries)-historyLimit:]
		if err := h.rewrite(entries); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

// add appends entry to the file, creating the file (0600) and its directory
// (0700) when needed. A file that others could read is made private first.
func (h *history) add(entry string) error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := private(f); err != nil {
		f.Close()
		return err
	}
	_, err = f.WriteString(escapeEntry(entry) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save history %s: %w", h.path, err)
	}
	return nil
}

// private makes f readable by its owner only.
func private(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("history %s is readable by others and cannot be made private: %w", f.Name(), err)
		}
	}
	return nil
}

// rewrite replaces the file with entries, atomically.
func (h *history) rewrite(entries []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*")
	if err != nil {
		return fmt.Errorf("trim history: %w", err)
	}
	w := bufio.NewWriter(tmp)
	for _, e := range entries {
		w.WriteString(escapeEntry(e))
		w.WriteByte('\n')
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), h.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("trim history %s: %w", h.path, err)
	}
	return nil
}

func escapeEntry(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(s)
}

func unescapeEntry(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// historyIgnored reports whether the admin asked to keep entry out of the
// history by starting it with a space, as bash's HISTCONTROL=ignorespace
// does: the way to keep out what the PIN rule cannot see (a PIN inside a
// longer string, see pinLiterals).
func historyIgnored(entry string) bool { return strings.HasPrefix(entry, " ") }

// mayHoldPin reports whether entry must be kept out of the history because
// it may hold a PIN (design §4): it has a literal that may be a PIN (see
// pinLiterals), or it does not parse and mentions set_pin or verify_pin.
// read_pin() is how a PIN is typed without leaving a trace; a leading space
// keeps any entry out (see historyIgnored).
func mayHoldPin(entry string) bool {
	if len(pinLiterals(entry)) > 0 {
		return true
	}
	fset := parser.NewFileSet()
	file := fset.AddFile("", -1, len(entry))
	if _, err := parser.NewParser(file, []byte(entry), nil).ParseFile(); err != nil {
		for name := range pinBuiltins {
			if strings.Contains(entry, name) {
				return true
			}
		}
	}
	return false
}
