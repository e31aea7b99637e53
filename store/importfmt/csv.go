package importfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
)

// fatalError is a parse error after which the rest of the input cannot be
// read reliably; it ends the sequence.
type fatalError struct{ error }

func (e fatalError) Unwrap() error { return e.error }

// csvParser reads RFC 4180 records. A line without any quote, the common
// case, is split in place: one string for the whole line, fields are
// substrings of it. Lines with quotes are unescaped into buf first; a quoted
// field may span lines.
type csvParser struct {
	lr       *lineReader
	header   []string // column names once known, for messages
	skipType bool     // skip a PowerShell "#TYPE ..." first line
	buf      []byte   // unescaped text of the current quoted record
	ends     []int    // end offsets of its fields in buf
	fields   []string // reused for every record
	utf8     bool     // the last record is valid UTF-8 as a whole
}

// next returns the next non-blank record and the line it starts on. The
// fields are valid until the following call. err is io.EOF at the end, a
// fatalError if parsing cannot go on, or else a bad record that was skipped.
func (p *csvParser) next() (start int, fields []string, err error) {
	for {
		line, err := p.lr.next()
		switch {
		case err == io.EOF:
			return 0, nil, io.EOF
		case err == errLineTooLong:
			return p.lr.n, nil, fmt.Errorf("record is longer than %d bytes", MaxRecordBytes)
		case err != nil:
			return p.lr.n + 1, nil, fatalError{err}
		}
		if isBlank(line) {
			continue
		}
		if p.skipType {
			p.skipType = false
			if hasPrefixFold(line, "#TYPE ") {
				continue
			}
		}
		start = p.lr.n
		p.fields = p.fields[:0]
		if bytes.IndexByte(line, '"') < 0 {
			s := string(line)
			p.utf8 = utf8.ValidString(s)
			for {
				i := strings.IndexByte(s, ',')
				if i < 0 {
					break
				}
				p.fields = append(p.fields, s[:i])
				s = s[i+1:]
			}
			p.fields = append(p.fields, s)
			return start, p.fields, nil
		}
		if err := p.parseQuoted(line); err != nil {
			return start, nil, err
		}
		s := string(p.buf)
		p.utf8 = utf8.ValidString(s)
		from := 0
		for _, end := range p.ends {
			p.fields = append(p.fields, s[from:end])
			from = end
		}
		return start, p.fields, nil
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// parseQuoted splits a record that contains quotes into p.buf and p.ends,
// reading further lines while a quoted field is open.
func (p *csvParser) parseQuoted(line []byte) error {
	p.buf, p.ends = p.buf[:0], p.ends[:0]
	pos := 0
	for {
		if pos < len(line) && line[pos] == '"' {
			opened := p.lr.n
			pos++
			for {
				i := bytes.IndexByte(line[pos:], '"')
				if i < 0 {
					// The field goes on on the next line; the line end is part of it.
					p.buf = append(p.buf, line[pos:]...)
					p.buf = append(p.buf, '\n')
					var err error
					line, err = p.lr.next()
					switch {
					case err == io.EOF:
						return fmt.Errorf("%s: the quote opened on line %d is never closed", p.fieldName(len(p.ends)), opened)
					case err == errLineTooLong || err == nil && len(p.buf)+len(line) > MaxRecordBytes:
						return fatalError{fmt.Errorf("%s: the quote opened on line %d is still open after %d bytes; close it, and write a quote inside a quoted field as \"\"",
							p.fieldName(len(p.ends)), opened, MaxRecordBytes)}
					case err != nil:
						return fatalError{err}
					}
					pos = 0
					continue
				}
				p.buf = append(p.buf, line[pos:pos+i]...)
				pos += i + 1
				if pos < len(line) && line[pos] == '"' {
					p.buf = append(p.buf, '"')
					pos++
					continue
				}
				break
			}
			p.ends = append(p.ends, len(p.buf))
			if pos == len(line) {
				return nil
			}
			if line[pos] != ',' {
				return fmt.Errorf("%s: text after the closing quote; write a quote inside a quoted field as \"\"", p.fieldName(len(p.ends)-1))
			}
			pos++
			continue
		}
		i := bytes.IndexByte(line[pos:], ',')
		f := line[pos:]
		if i >= 0 {
			f = line[pos : pos+i]
		}
		if bytes.IndexByte(f, '"') >= 0 {
			return fmt.Errorf("%s: a quote inside an unquoted field; enclose the field in quotes and write the quote as \"\"", p.fieldName(len(p.ends)))
		}
		p.buf = append(p.buf, f...)
		p.ends = append(p.ends, len(p.buf))
		if i < 0 {
			return nil
		}
		pos += i + 1
	}
}

// fieldName names field i (from 0) for a message.
func (p *csvParser) fieldName(i int) string {
	if i < len(p.header) {
		return fmt.Sprintf("field %d (%s)", i+1, cut.Text(p.header[i]))
	}
	return fmt.Sprintf("field %d", i+1)
}

func csvRows(lr *lineReader, yield func(Row) bool) {
	p := &csvParser{lr: lr, skipType: true}
	start, names, err := p.next()
	switch {
	case err == io.EOF:
		yield(Row{Line: 1, Err: errors.New("the file is empty: a CSV import needs a header line naming the columns, for example sip_address,display_name")})
		return
	case err != nil:
		yield(Row{Line: start, Err: fmt.Errorf("header: %w", err)})
		return
	}
	cols, err := newColumns(names)
	if err != nil {
		yield(Row{Line: start, Err: err})
		return
	}
	p.header = make([]string, len(cols))
	for i, c := range cols {
		p.header[i] = c.name
	}
	var b builder
	for {
		start, fields, err := p.next()
		if err == io.EOF {
			return
		}
		if fe, ok := err.(fatalError); ok {
			yield(Row{Line: start, Err: fe.error})
			return
		}
		row := Row{Line: start, Err: err}
		if err == nil {
			row.User, row.Err = csvUser(&b, cols, fields, p.utf8)
		}
		if !yield(row) {
			return
		}
	}
}

// csvUser maps the fields of one record; validUTF8 says the whole record is
// known to be valid UTF-8, so that fields need no check of their own.
func csvUser(b *builder, cols []column, fields []string, validUTF8 bool) (u store.User, err error) {
	if len(fields) != len(cols) {
		return u, fmt.Errorf("the record has %d fields, the header has %d", len(fields), len(cols))
	}
	b.reset()
	b.validUTF8 = validUTF8
	for i := range fields {
		c := &cols[i]
		if c.field == fNone {
			continue
		}
		if err := b.set(c, fields[i]); err != nil {
			return u, err
		}
	}
	return b.finish()
}

// newColumns maps the names of a CSV header. It fails if a name is a PIN
// or neither recognised nor ignored (see IgnoredNames), if a column has no
// name, or if two columns give the same field (see sameField), so that
// nothing is imported from a file whose columns import would drop or would
// have to choose between; and if no name is recognised: the file is not a
// user list, or lacks its header line.
func newColumns(names []string) ([]column, error) {
	cols := make([]column, len(names))
	known, close := 0, false
	var bad, dups []string
	var unnamed []int
	for i, n := range names {
		n = trimBlank(n)
		if n == "" {
			unnamed = append(unnamed, i+1)
			continue
		}
		c, use, err := resolve("column", n, true)
		switch {
		case use:
			known++
			for j := range cols[:i] {
				if sameField(&cols[j], &c) {
					dups = append(dups, duplicate("column", &cols[j], &c).Error())
					break
				}
			}
		case err != nil:
			bad = append(bad, err.Error())
			close = close || errors.Is(err, errNoPINs) || len(suggestions(n)) > 0
			fallthrough
		default:
			c = column{name: cut.Text(n)}
		}
		cols[i] = c
	}
	if known == 0 && !close {
		return nil, fmt.Errorf("the header line %s names no user field; the first line must name the columns: %s",
			cut.Quote(strings.Join(names, ",")), knownNames)
	}
	var problems []string
	switch len(unnamed) {
	case 0:
	case 1:
		problems = append(problems, fmt.Sprintf("column %d has no name: name it or remove it", unnamed[0]))
	default:
		nums := make([]string, len(unnamed))
		for i, n := range unnamed {
			nums[i] = strconv.Itoa(n)
		}
		problems = append(problems, fmt.Sprintf("columns %s and %s have no name: name them or remove them",
			strings.Join(nums[:len(nums)-1], ", "), nums[len(nums)-1]))
	}
	if len(bad) > 0 {
		const most = 3
		if len(bad) > most {
			bad = append(bad[:most], fmt.Sprintf("and %d more unknown columns", len(bad)-most))
		}
		problems = append(problems, strings.Join(bad, "; "))
	}
	problems = append(problems, dups...)
	switch {
	case len(problems) == 0:
		return cols, nil
	case len(bad) > 0:
		return nil, fmt.Errorf("header: %s; nothing was imported: fix or remove the column", strings.Join(problems, "; "))
	}
	return nil, fmt.Errorf("header: %s; nothing was imported", strings.Join(problems, "; "))
}

// anyKnown reports whether a name of a CSV header is recognised.
func anyKnown(names []string) bool {
	for _, n := range names {
		if _, ok := lookup(trimBlank(n)); ok {
			return true
		}
	}
	return false
}

// csvHeaderNames splits one line as a CSV header, for DetectFormat.
func csvHeaderNames(line []byte) []string {
	p := &csvParser{lr: newLineReader(bytes.NewReader(line))}
	_, names, err := p.next()
	if err != nil {
		return nil
	}
	return names
}
