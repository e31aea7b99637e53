package importfmt

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

func TestBooleanPriority(t *testing.T) {
	// enabled beats msRTCSIP-UserEnabled in either order, as strings fill
	// their fields.
	for _, line := range []string{
		`{"msRTCSIP-UserEnabled":true,"enabled":false}`,
		`{"enabled":false,"msRTCSIP-UserEnabled":true}`,
		`{"enabled":"no","msRTCSIP-UserEnabled":"TRUE"}`,
	} {
		checkRows(t, parse(t, line, JSONLines), []want{{line: 1, user: store.User{}}})
	}
}

func TestLongValuesShortenedInMessages(t *testing.T) {
	// 63 ASCII bytes and a two-byte rune across the 64-byte cut: the
	// message keeps whole runes.
	value := strings.Repeat("x", 63) + "é" + strings.Repeat("y", 100)
	rows := parse(t, "enabled\n"+value+"\n", CSV)
	want := `enabled: "` + strings.Repeat("x", 63) + `"... (165 bytes) is not a boolean`
	if len(rows) != 1 || rows[0].Err == nil || !strings.HasPrefix(rows[0].Err.Error(), want) {
		t.Fatalf("rows %+v, want error starting %s", rows, want)
	}
}

func TestStrPanicsOnBooleanField(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("str(fEnabled) did not panic")
		}
	}()
	var b builder
	b.str(fEnabled)
}

func TestCSVReadErrorInsideQuotedField(t *testing.T) {
	var rows []Row
	for r := range Rows(&failingReader{data: "display_name\n\"Ann\nLee", err: errDisk}, CSV) {
		rows = append(rows, r)
	}
	if len(rows) != 1 || rows[0].Line != 2 || !errors.Is(rows[0].Err, errDisk) {
		t.Fatalf("rows %+v, want the read error for the record on line 2", rows)
	}
	if want := "read line 3: disk on fire"; rows[0].Err.Error() != want {
		t.Errorf("error %q, want %q", rows[0].Err, want)
	}
}

func TestJSONLinesStopAfterLongLine(t *testing.T) {
	data := `{"site":"` + strings.Repeat("x", MaxRecordBytes) + "\"}\n{}\n"
	n := 0
	for range Rows(strings.NewReader(data), JSONLines) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d rows after break", n)
	}
}

func TestREADMEListsIgnoredNames(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range IgnoredNames {
		if !strings.Contains(string(b), "`"+n+"`") {
			t.Errorf("README.md's Import section does not list the ignored name %s", n)
		}
	}
}
