package cut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteText(t *testing.T) {
	long := strings.Repeat("a", 100000)
	euro := strings.Repeat("€", 30) // 90 bytes: the cut must not split one
	tests := []struct {
		in, quote, text string
	}{
		{"", `""`, ""},
		{"ken", `"ken"`, "ken"},
		{"tab\there", `"tab\there"`, "tab\there"},
		{strings.Repeat("b", Max), `"` + strings.Repeat("b", Max) + `"`, strings.Repeat("b", Max)},
		{long, `"` + long[:Max] + `"... (100000 bytes)`, long[:Max] + "... (100000 bytes)"},
		{euro, `"` + euro[:63] + `"... (90 bytes)`, euro[:63] + "... (90 bytes)"},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%.20q...) = %s, want %s", tc.in, got, tc.quote)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%.20q...) = %s, want %s", tc.in, got, tc.text)
		}
		if !utf8.ValidString(Text(tc.in)) {
			t.Errorf("Text(%.20q...) is not valid UTF-8", tc.in)
		}
	}
}

func TestMessage(t *testing.T) {
	if got := Message("short"); got != "short" {
		t.Errorf("Message(short) = %q", got)
	}
	long := "unresolved reference '" + strings.Repeat("a", 100000) + "'; did you mean x?"
	got := Message(long)
	if len(got) > MaxMessage+64 || !strings.HasPrefix(got, "unresolved reference 'aaa") ||
		!strings.HasSuffix(got, "a'; did you mean x?") || !strings.Contains(got, "bytes left out") {
		t.Errorf("Message(long) = %q", got)
	}
}

func TestWindow(t *testing.T) {
	short := "x := 1 / 0"
	if got, col := Window(short, 8); got != short || col != 8 {
		t.Errorf("Window(short) = %q, %d", got, col)
	}
	// The caret's character stays under the caret, wherever it is.
	line := strings.Repeat("a", 1000) + "X" + strings.Repeat("b", 1000)
	for _, col := range []int{1, 50, 1001, 1990, 2001} {
		got, c := Window(line, col)
		if len(got) > MaxLine+6 {
			t.Errorf("Window(line, %d): %d bytes", col, len(got))
		}
		if got[c-1] != line[col-1] {
			t.Errorf("Window(line, %d) = ..., %d: %q under the caret, want %q", col, c, got[c-1], line[col-1])
		}
	}
}
