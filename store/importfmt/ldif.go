package importfmt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
)

// ldifLine is one logical line of a record (continuations joined): its text
// is arena[start:end] and it starts on physical line num.
type ldifLine struct{ num, start, end int }

// ldifParser collects the logical lines of one record at a time.
type ldifParser struct {
	lr        *lineReader
	arena     []byte
	lines     []ldifLine
	first     int   // physical line of the record's first line, 0 before it
	bad       error // set when the record is already known to be bad
	inComment bool  // the last line was a comment, so continuations belong to it
	started   bool  // a record was seen: "version:" is only read before the first
	given     []ldifValue
}

// ldifValue is a value a record gave a field, to refuse another one.
type ldifValue struct {
	c     column
	value string
	line  int
}

// repeat fails if the record already gave the field of c (see sameField)
// another value. ldifde repeats a multi-valued attribute on one line per
// value (objectClass, proxyAddresses); a pinsh field holds one value, and
// import refuses to choose one. The same value repeated is accepted.
// memberOf, pinsh's one multi-valued field, takes every line.
func (p *ldifParser) repeat(c *column, value string, line int) error {
	if c.kind == kGroups {
		return nil // memberOf is multi-valued: each line adds a group
	}
	value = trimBlank(value)
	for _, g := range p.given {
		if !sameField(&g.c, c) {
			continue
		}
		if g.value == value {
			return nil
		}
		return fmt.Errorf("line %d: %s %s differs from %s %s on line %d; a user has one %s: keep one",
			line, c.name, cut.Quote(value), g.c.name, cut.Quote(g.value), g.line, fieldNames[c.field])
	}
	p.given = append(p.given, ldifValue{*c, value, line})
	return nil
}

func ldifRows(lr *lineReader, yield func(Row) bool) {
	p := &ldifParser{lr: lr}
	var b builder
	for {
		raw, err := lr.next()
		switch {
		case err == io.EOF:
			if row, ok := p.flush(&b); ok {
				yield(row)
			}
			return
		case err == errLineTooLong:
			p.fail(fmt.Errorf("line %d is longer than %d bytes", lr.n, MaxRecordBytes))
			continue
		case err != nil:
			yield(Row{Line: lr.n + 1, Err: err})
			return
		}
		switch {
		case len(raw) == 0:
			if row, ok := p.flush(&b); ok && !yield(row) {
				return
			}
			continue
		case raw[0] == '#':
			p.inComment = true
			continue
		case raw[0] == ' ':
			if p.inComment || p.bad != nil {
				continue
			}
			if len(p.lines) == 0 {
				p.fail(fmt.Errorf("line %d starts with a space, so it continues a line, but there is none before it", lr.n))
				continue
			}
			p.arena = append(p.arena, raw[1:]...)
			p.lines[len(p.lines)-1].end = len(p.arena)
		default:
			p.inComment = false
			if p.first == 0 {
				p.first = lr.n
			}
			if p.bad != nil {
				continue
			}
			start := len(p.arena)
			p.arena = append(p.arena, raw...)
			p.lines = append(p.lines, ldifLine{num: lr.n, start: start, end: len(p.arena)})
		}
		if len(p.arena) > MaxRecordBytes {
			p.fail(fmt.Errorf("the record is longer than %d bytes", MaxRecordBytes))
		}
	}
}

// fail marks the current record bad and drops what was collected of it; the
// rest of it, up to the next blank line, is skipped.
func (p *ldifParser) fail(err error) {
	if p.first == 0 {
		p.first = p.lr.n
	}
	if p.bad == nil {
		p.bad = err
	}
	p.arena, p.lines = p.arena[:0], p.lines[:0]
}

// flush ends the current record and returns its row; ok is false if there
// was no record (only blank lines, comments or the version line).
func (p *ldifParser) flush(b *builder) (row Row, ok bool) {
	defer func() {
		p.arena, p.lines = p.arena[:0], p.lines[:0]
		p.first, p.bad, p.inComment = 0, nil, false
	}()
	if p.bad != nil {
		p.started = true
		return Row{Line: p.first, Err: p.bad}, true
	}
	lines := p.lines
	if len(lines) == 0 {
		return Row{}, false
	}
	if !p.started {
		p.started = true
		if name, _, _ := bytes.Cut(p.arena[lines[0].start:lines[0].end], []byte(":")); strings.EqualFold(string(name), "version") {
			lines = lines[1:]
			if len(lines) == 0 {
				return Row{}, false
			}
		}
	}
	u, err := p.user(b, lines)
	return Row{Line: lines[0].num, User: u, Err: err}, true
}

var errURLValue = errors.New("values read from a URL (attribute:< URL) are not supported")

// user maps the lines of one record, the first of which must be its dn.
func (p *ldifParser) user(b *builder, lines []ldifLine) (store.User, error) {
	b.reset()
	p.given = p.given[:0]
	for i, l := range lines {
		name, value, err := ldifAttr(p.arena[l.start:l.end])
		if i == 0 && (err == nil || err == errURLValue) && !strings.EqualFold(name, "dn") {
			return store.User{}, fmt.Errorf("line %d: the record starts with %s, not dn:; every record starts with its dn: line", l.num, cut.Quote(name))
		}
		c, known, rerr := resolve("attribute", name, false)
		switch {
		case rerr != nil && (err == nil || err == errURLValue):
			return store.User{}, fmt.Errorf("line %d: %w", l.num, rerr)
		case err == errURLValue && !known:
			continue // an ignored attribute
		case err == errURLValue:
			return store.User{}, fmt.Errorf("line %d: %s: %w", l.num, cut.Text(name), err)
		case err != nil:
			return store.User{}, fmt.Errorf("line %d: %w", l.num, err)
		case strings.EqualFold(name, "changetype"):
			if !strings.EqualFold(value, "add") {
				return store.User{}, fmt.Errorf("line %d: changetype %s is not supported; import add records, as ldifde -f exports them", l.num, cut.Quote(value))
			}
			continue
		case !known:
			continue
		}
		if err := p.repeat(&c, value, l.num); err != nil {
			return store.User{}, err
		}
		if err := b.set(&c, value); err != nil {
			return store.User{}, fmt.Errorf("line %d: %w", l.num, err)
		}
	}
	return b.finish()
}

// ldifAttr splits "name: value", "name:: base64" and "name:< URL".
func ldifAttr(text []byte) (name, value string, err error) {
	i := bytes.IndexByte(text, ':')
	if i <= 0 {
		return "", "", fmt.Errorf("expected attribute: value, found %s", cut.Quote(string(text)))
	}
	name, rest := string(text[:i]), text[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == ':':
		v, err := base64.StdEncoding.DecodeString(string(bytes.Trim(rest[1:], " ")))
		if err != nil {
			return name, "", fmt.Errorf("%s: the base64 value after :: does not decode: %v", cut.Text(name), err)
		}
		return name, string(v), nil
	case len(rest) > 0 && rest[0] == '<':
		return name, "", errURLValue
	}
	return name, string(bytes.TrimLeft(rest, " ")), nil
}
