// Package importfmt parses the files `pinsh import` reads into user records:
// CSV with a header line, JSON Lines, and LDIF as ldifde writes it. Parsing
// streams: memory stays bounded (by MaxRecordBytes) whatever the file size.
//
// Field names, in CSV headers, JSON keys and LDIF attributes alike, are
// matched ignoring case and the characters '_', '-', '.' and ' ', so
// "sip_address", "SipAddress" (PowerShell's Export-Csv of Get-CsUser) and
// "sip-address" are the same name. Recognised names and the store.User field
// they fill:
//
//	sip_address, msRTCSIP-PrimaryUserAddress        SipAddress
//	identity                                        SipAddress, or DistinguishedName if the value starts with "CN="
//	display_name (displayName)                      DisplayName
//	user_principal_name (userPrincipalName)         UserPrincipalName
//	sam_account_name (sAMAccountName)               SamAccountName
//	domain                                          Domain
//	distinguished_name (distinguishedName)          DistinguishedName
//	dn                                              DistinguishedName
//	enabled, msRTCSIP-UserEnabled                   Enabled (default true)
//	registrar_pool, msRTCSIP-PrimaryHomeServer      RegistrarPool, as given
//	line_uri, msRTCSIP-Line                         LineURI
//	enterprise_voice_enabled                        EnterpriseVoiceEnabled (default false)
//	site                                            Site
//	pin_policy                                      PinPolicy
//	title                                           Title
//	department                                      Department
//	city, l                                         City
//	company                                         Company
//	mail, WindowsEmailAddress                       Mail
//	given_name (givenName), FirstName               GivenName
//	surname, sn, LastName                           Surname
//	telephone_number (telephoneNumber)              TelephoneNumber, as written
//	member_of (memberOf)                            MemberOf: group DNs (see below)
//
// The directory attributes (title ... memberOf) are kept as given, under
// the names csvde and ldifde write (title, l, givenName, sn, ...), those of
// PowerShell's Export-Csv of Get-CsAdUser (City, FirstName, LastName,
// WindowsEmailAddress) and pinsh's own (given_name, ...). memberOf is the one multi-valued field: in LDIF each
// memberOf line adds a group; in CSV and in a JSON string the groups are
// joined with ';' (as csvde writes them; a ';' inside a DN is escaped, "\;",
// and does not split it); in JSON an array of strings is one group each.
//
// Import refuses to guess what a name it does not recognise means. A name
// in IgnoredNames (objectClass, whenCreated, msRTCSIP-OptionFlags, the
// Get-CsUser properties pinsh has no use for, ...) is ignored, so a csvde
// export or PowerShell's Export-Csv of Get-CsUser imports as it is. A PIN
// column, key or attribute (pin, PIN, new_pin, ...) is always refused:
// pinsh does not import PINs; set_pin generates them. Any other name is
// refused, with the closest recognised names: in CSV, the header is refused
// and nothing is imported; in JSON Lines, each object with the key is a bad
// row. LDIF is laxer, because ldifde exports carry every attribute of the
// account (extensionAttribute1, msExch..., st, ...): an unknown attribute is
// ignored unless it is one or two typing slips away from a recognised name
// of six letters or more (displayNam), which makes the record bad. A CSV
// header with no recognised name at all is an error too.
//
// When different names fill one field, an order of precedence decides,
// whatever their order in the file: sip_address over
// msRTCSIP-PrimaryUserAddress over identity; distinguished_name over dn;
// enabled over msRTCSIP-UserEnabled; registrar_pool over
// msRTCSIP-PrimaryHomeServer; line_uri over msRTCSIP-Line. That is how
// csvde, ldifde and Get-CsUser exports carry both. telephoneNumber is the
// account's telephone number, not its Lync line: it never fills LineURI. Two spellings of one name (the same name twice; sip_address and
// SipAddress; display_name and displayName) leave import nothing to go by,
// so it refuses them: in CSV, the header is refused and nothing is
// imported; in JSON Lines, the line is bad whatever the values; in LDIF,
// where ldifde writes a multi-valued attribute once per value (objectClass,
// proxyAddresses), the record is bad only if the values
// differ (memberOf takes every line). A CSV header column without a name
// is refused too.
//
// Values are trimmed of surrounding spaces and tabs; an empty value leaves
// the field unset. Booleans are true/false, yes/no or 1/0 in any case.
//
// Rows only maps fields: it neither checks required fields nor uniqueness,
// and it does not normalise (the store does). It rejects, as a bad row, what
// cannot be parsed: wrong syntax, a wrong column count, a bad boolean, a
// value of the wrong JSON type, text that is not UTF-8, and a SIP address
// without a user and a domain around one '@'.
//
// Input may start with a UTF-8 byte order mark, or be UTF-16 with a byte
// order mark (PowerShell's Out-File, ldifde -u); both are handled. Line ends
// may be "\n" or "\r\n".
package importfmt

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"

	"github.com/pinsh/pinsh/store"
)

// MaxRecordBytes bounds one record (a CSV record, a JSON line, an LDIF
// record). A longer record is a bad row; in CSV, where only an unclosed
// quote makes a record that long, it ends the import.
const MaxRecordBytes = 1 << 20

// Row is one parsed record. Line is the physical line (from 1) on which the
// record starts: the CSV record's first line, the JSON line, the LDIF "dn:"
// line. If Err is non-nil the record is bad and must be skipped whole; User
// is then zero. Err does not repeat Line, so that the caller can print
// "FILE:LINE: ERR"; it may name another line (the line of a bad LDIF
// attribute, the line a read failed on).
type Row struct {
	Line int
	User store.User
	Err  error
}

// Format is an import file format.
type Format int

const (
	CSV       Format = iota + 1 // comma-separated values with a header line (RFC 4180)
	JSONLines                   // one JSON object per line
	LDIF                        // LDAP Data Interchange Format, as ldifde -f writes it
)

// String returns "CSV", "JSON Lines" or "LDIF".
func (f Format) String() string {
	switch f {
	case CSV:
		return "CSV"
	case JSONLines:
		return "JSON Lines"
	case LDIF:
		return "LDIF"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

const supported = "supported formats are CSV with a header line (.csv), JSON Lines (.jsonl, .ndjson, .json) and LDIF (.ldif, .ldf)"

// DetectFormat tells the format of the file called name whose first bytes are
// head (a few KiB are plenty). The extension decides when it is one of .csv,
// .jsonl, .ndjson, .json, .ldif or .ldf (in any case); otherwise the content
// does: a JSON object first means JSON Lines, a "dn:" or "version:" line
// (after any comments) means LDIF, a header line with a recognised column
// name means CSV. It fails, saying which formats are supported, when neither
// tells, and for a JSON array, which is not JSON Lines.
func DetectFormat(name string, head []byte) (Format, error) {
	head = decodeHead(head)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".jsonl", ".ndjson", ".json":
		if err := jsonArray(name, head); err != nil {
			return 0, err
		}
		return JSONLines, nil
	case ".ldif", ".ldf":
		return LDIF, nil
	}
	rest := head
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0:
			continue
		case line[0] == '{':
			return JSONLines, nil
		case line[0] == '[':
			return 0, jsonArray(name, line)
		case hasPrefixFold(line, "#TYPE "):
			return CSV, nil // PowerShell's Export-Csv type line
		case line[0] == '#':
			continue // an LDIF comment
		case hasPrefixFold(line, "dn:") || hasPrefixFold(line, "version:"):
			return LDIF, nil
		}
		if anyKnown(csvHeaderNames(line)) {
			return CSV, nil
		}
		break
	}
	return 0, fmt.Errorf("cannot tell the format of %s: name it by its format; %s", name, supported)
}

func jsonArray(name string, head []byte) error {
	if t := bytes.TrimSpace(head); len(t) > 0 && t[0] == '[' {
		return fmt.Errorf("%s holds a JSON array; pinsh imports JSON Lines, one object per line (convert with: jq -c '.[]' %s)", name, name)
	}
	return nil
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// Rows parses r as format f and yields its records in file order. It reads r
// as the sequence is consumed and keeps only the current record, so a file
// of any size takes bounded memory; stopping the iteration stops reading.
// Bad records are yielded with Err set and parsing goes on with the next
// record. A problem that makes the rest unreadable ends the sequence with a
// last Row whose Err says so: an I/O error of r (Line is then the line being
// read), an empty CSV file or one whose header has no recognised column,
// an unclosed CSV quote, an unknown format (Line is then 0).
func Rows(r io.Reader, f Format) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		in, err := newInput(r)
		if err != nil {
			yield(Row{Line: 1, Err: err})
			return
		}
		switch f {
		case CSV:
			csvRows(in, yield)
		case JSONLines:
			jsonRows(in, yield)
		case LDIF:
			ldifRows(in, yield)
		default:
			yield(Row{Err: fmt.Errorf("unknown import format %v; %s", f, supported)})
		}
	}
}

// errLineTooLong is returned by lineReader.next for a line longer than
// MaxRecordBytes; the line has been skipped.
var errLineTooLong = fmt.Errorf("line is longer than %d bytes", MaxRecordBytes)

// lineReader reads physical lines and counts them.
type lineReader struct {
	r    *bufio.Reader
	n    int    // number of the line last returned (or skipped)
	long []byte // assembles a line longer than r's buffer
}

const bufSize = 256 << 10

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, bufSize)}
}

// next returns the next line without its "\n" or "\r\n". The slice is valid
// until the following call. At the end of input it returns io.EOF; a line
// longer than MaxRecordBytes is consumed and reported as errLineTooLong; any
// other error is r's, wrapped with the line number.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	tooLong := false
	if err == bufio.ErrBufferFull {
		// Keep at most MaxRecordBytes and a "\r\n"; drop the rest of a
		// longer line as it streams by.
		lr.long = append(lr.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = lr.r.ReadSlice('\n')
			if !tooLong {
				lr.long = append(lr.long, line...)
				tooLong = len(lr.long) > MaxRecordBytes+2
			}
		}
		line = lr.long
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read line %d: %w", lr.n+1, err)
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	lr.n++
	if line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if tooLong || len(line) > MaxRecordBytes {
		return nil, errLineTooLong
	}
	return line, nil
}

// newInput strips a UTF-8 byte order mark, or decodes UTF-16 text with a
// byte order mark into UTF-8.
func newInput(r io.Reader) (*lineReader, error) {
	br := bufio.NewReaderSize(r, bufSize)
	bom, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read line 1: %w", err)
	}
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}):
		br.Discard(2)
		return newLineReader(&utf16Reader{r: br}), nil
	case bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		br.Discard(2)
		return newLineReader(&utf16Reader{r: br, bigEndian: true}), nil
	}
	return &lineReader{r: br}, nil
}

// decodeHead returns head as UTF-8 without a byte order mark.
func decodeHead(head []byte) []byte {
	if bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
		return head[3:]
	}
	if len(head) >= 2 && (head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF) {
		u := &utf16Reader{r: bufio.NewReader(bytes.NewReader(head[2:])), bigEndian: head[0] == 0xFE}
		out, _ := io.ReadAll(u) // a head cut in the middle of a unit is fine
		return out
	}
	return head
}
