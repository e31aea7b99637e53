package importfmt

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

// parse collects every row of input in format f.
func parse(t *testing.T, input string, f Format) []Row {
	t.Helper()
	var rows []Row
	for r := range Rows(strings.NewReader(input), f) {
		rows = append(rows, r)
	}
	return rows
}

// want is an expected row: a user or an error message (as a substring).
type want struct {
	line int
	user store.User
	err  string
}

func checkRows(t *testing.T, got []Row, wants []want) {
	t.Helper()
	for i := 0; i < max(len(got), len(wants)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("row %d missing: want %+v", i, wants[i])
			continue
		case i >= len(wants):
			t.Errorf("extra row %d: line %d %+v err %v", i, got[i].Line, got[i].User, got[i].Err)
			continue
		}
		g, w := got[i], wants[i]
		if g.Line != w.line {
			t.Errorf("row %d: line %d, want %d (err %v)", i, g.Line, w.line, g.Err)
		}
		switch {
		case w.err == "" && g.Err != nil:
			t.Errorf("row %d (line %d): unexpected error %v", i, g.Line, g.Err)
		case w.err != "" && g.Err == nil:
			t.Errorf("row %d (line %d): no error, want %q; user %+v", i, g.Line, w.err, g.User)
		case w.err != "" && !strings.Contains(g.Err.Error(), w.err):
			t.Errorf("row %d (line %d): error %q, want it to contain %q", i, g.Line, g.Err, w.err)
		}
		if !g.User.Equal(w.user) {
			t.Errorf("row %d (line %d): user\n got %+v\nwant %+v", i, g.Line, g.User, w.user)
		}
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

var errDisk = errors.New("disk on fire")

// ken is the user most tests import.
var ken = store.User{
	SipAddress:        "sip:kenmyer@litwareinc.com",
	DisplayName:       "Ken Myer",
	UserPrincipalName: "kenmyer@litwareinc.com",
	SamAccountName:    "kenmyer",
	Domain:            "litwareinc",
	DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",
	Enabled:           true,
	RegistrarPool:     "pool01.litwareinc.com",
	LineURI:           "tel:+14255550100;ext=100",
	Site:              "Redmond",
	PinPolicy:         "desk",
}

func TestIOErrors(t *testing.T) {
	inputs := map[Format]string{
		CSV:       "sip_address\nsip:a@b.c\n",
		JSONLines: `{"sip_address":"sip:a@b.c"}` + "\n",
		LDIF:      "dn: CN=A\nmsRTCSIP-PrimaryUserAddress: sip:a@b.c\n\n",
	}
	for f, data := range inputs {
		t.Run(f.String(), func(t *testing.T) {
			var rows []Row
			for r := range Rows(&failingReader{data: data, err: errDisk}, f) {
				rows = append(rows, r)
			}
			last := rows[len(rows)-1]
			if !errors.Is(last.Err, errDisk) {
				t.Fatalf("last row %+v, want the read error", last)
			}
			if want := fmt.Sprintf("read line %d: disk on fire", last.Line); last.Err.Error() != want {
				t.Errorf("error %q, want %q", last.Err, want)
			}
			if want := strings.Count(data, "\n") + 1; last.Line != want {
				t.Errorf("error on line %d", last.Line)
			}
			for _, r := range rows[:len(rows)-1] {
				if r.Err != nil {
					t.Errorf("row before the I/O error: %v", r.Err)
				}
			}
		})
	}
	t.Run("first read", func(t *testing.T) {
		for _, f := range []Format{CSV, JSONLines, LDIF} {
			var rows []Row
			for r := range Rows(&failingReader{err: errDisk}, f) {
				rows = append(rows, r)
			}
			if len(rows) != 1 || rows[0].Line != 1 || rows[0].Err == nil || rows[0].Err.Error() != "read line 1: disk on fire" {
				t.Errorf("%v: rows %+v, want one row: read line 1: disk on fire", f, rows)
			}
		}
	})
}

func TestRowsUnknownFormat(t *testing.T) {
	rows := parse(t, "sip_address\n", Format(0))
	if len(rows) != 1 || rows[0].Err == nil || !strings.Contains(rows[0].Err.Error(), "unknown import format Format(0); supported formats are") {
		t.Fatalf("rows %+v", rows)
	}
}

func TestRowsStopsWhenAsked(t *testing.T) {
	inputs := map[Format]string{
		CSV:       "sip_address\nsip:a@b.c\nbad\nsip:d@e.f\n",
		JSONLines: "{\"sip_address\":\"sip:a@b.c\"}\n[]\n{}\n",
		LDIF:      "dn: CN=A\n\ndn: CN=B\n\nx\n\ndn: CN=C\n",
	}
	for f, data := range inputs {
		for stopAt := 1; stopAt <= 2; stopAt++ {
			n := 0
			for range Rows(strings.NewReader(data), f) {
				n++
				if n == stopAt {
					break
				}
			}
			if n != stopAt {
				t.Errorf("%v: %d rows after break at %d", f, n, stopAt)
			}
		}
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{CSV: "CSV", JSONLines: "JSON Lines", LDIF: "LDIF", 7: "Format(7)"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

var _ io.Reader = (*failingReader)(nil)
