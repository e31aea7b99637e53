package pinrule

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pinsh/pinsh/store"
)

func TestValidate(t *testing.T) {
	global := store.Policy{Identity: "global", MinPasswordLength: 5}
	lax := store.Policy{Identity: "tag:lax", MinPasswordLength: 4, AllowCommonPatterns: true}
	const line = "tel:+14255550100;ext=100"
	tests := []struct {
		name string
		pin  string
		p    store.Policy
		line string
		want Rule // "" means valid
	}{
		{"plain", "48151", global, line, ""},
		{"leading zero kept", "06284", global, "", ""},
		{"leading zeros are digits", "00628", global, "", ""},
		{"min length boundary", "48151", global, "", ""},
		{"one below min", "4815", global, "", TooShort},
		{"empty", "", global, "", TooShort},
		{"max length boundary", "481516234281516234284815", global, "", ""},
		{"one above max", "4815162342815162342848151", global, "", TooLong},
		{"policy min 24", "48151623428151623428481", store.Policy{MinPasswordLength: 24}, "", TooShort},
		{"zero policy still needs 4", "481", store.Policy{}, "", TooShort},
		{"zero policy accepts 4", "4815", store.Policy{}, "", ""},
		{"letter", "12a45", global, "", NotDigits},
		{"full-width digits", "１２３４５", global, "", NotDigits},
		{"arabic-indic digits", "٤٨١٥١", global, "", NotDigits},
		{"leading space", " 48151", global, "", NotDigits},
		{"trailing newline", "48151\n", global, "", NotDigits},
		{"sign", "+48151", global, "", NotDigits},
		{"invalid utf-8", "4815\xff", global, "", NotDigits},
		{"non-digit wins over length", "1a", global, "", NotDigits},
		{"all one digit", "222222", global, "", RepeatedDigits},
		{"pairs", "225577", global, "", RepeatedDigits},
		{"four pairs", "22334455", global, "", RepeatedDigits},
		{"runs of three and two", "22233", global, "", RepeatedDigits},
		{"pair repeated apart", "001100", global, "", RepeatedDigits},
		{"single digit among pairs", "225578", global, "", ""},
		{"alternating", "121212", global, "", ""},
		{"ascending", "123456", global, "", Sequence},
		{"ascending inside", "991234", global, "", Sequence},
		{"descending five", "54321", global, "", Sequence},
		{"descending four at end", "29876", global, "", Sequence},
		{"four exactly", "50123", store.Policy{MinPasswordLength: 5}, "", Sequence},
		{"three only", "12358", global, "", ""},
		{"three down three up", "32123", global, "", ""},
		{"no wrap after 9", "78901", global, "", ""},
		{"extension", "10000", global, "tel:+14255550199;ext=10000", PhoneNumber},
		{"end of number", "50100", global, line, PhoneNumber},
		{"last four digits", "0100", store.Policy{MinPasswordLength: 4}, line, PhoneNumber},
		{"whole number", "14255550100", global, line, PhoneNumber},
		{"number without country code", "4255550100", global, line, PhoneNumber},
		{"number with separators", "50100", global, "tel:+1 (425) 555-0100", PhoneNumber},
		{"extension case-insensitive", "73914", global, "TEL:+14255550100;EXT=73914", PhoneNumber},
		{"bare number", "50100", global, "+14255550100", PhoneNumber},
		{"middle of number", "25555", global, line, ""},
		{"longer than number", "9914255550100", global, line, ""},
		{"leading zero differs from extension", "06284", global, "tel:+14255550111;ext=6284", ""},
		{"sip line uri ignored", "50100", global, "sip:50100@litwareinc.com", ""},
		{"no line uri", "50100", global, "", ""},
		{"allowed repeat", "222222", lax, "", ""},
		{"allowed sequence", "1234", lax, "", ""},
		{"allowed extension", "50100", lax, line, ""},
		{"allowed still needs digits", "12a4", lax, "", NotDigits},
		{"allowed still needs length", "123", lax, "", TooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.pin, tt.p, tt.line)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.pin, err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("Validate(%q) = %v, want a *RuleError %s", tt.pin, err, tt.want)
			}
			if re.Rule != tt.want {
				t.Fatalf("Validate(%q) broke rule %s (%v), want %s", tt.pin, re.Rule, err, tt.want)
			}
			if tt.pin != "" && len(tt.pin) >= 4 && strings.Contains(err.Error(), tt.pin) {
				t.Errorf("message %q repeats the PIN", err)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		pin  string
		p    store.Policy
		line string
		want string
	}{
		{"4815", store.Policy{Identity: "global", MinPasswordLength: 5}, "",
			`PIN is too short: 4 digits, the policy "global" needs at least 5`},
		{"4815", store.Policy{MinPasswordLength: 5}, "",
			`PIN is too short: 4 digits, the policy needs at least 5`},
		{strings.Repeat("48", 13), store.Policy{}, "",
			`PIN is too long: 26 digits, at most 24 are allowed`},
		{"12a45", store.Policy{}, "",
			`PIN must be digits 0-9 only: character 3 is not (no spaces, signs, letters or digits of other scripts)`},
		{"１２３４５", store.Policy{}, "",
			`PIN must be digits 0-9 only: character 1 is not (no spaces, signs, letters or digits of other scripts)`},
		{"991234", store.Policy{}, "",
			`PIN has four or more consecutive digits (like 1234 or 9876); choose a less predictable PIN or allow common patterns in the policy`},
		{"225577", store.Policy{}, "",
			`PIN is made only of repeated digits (like 777777 or 778899); choose a less predictable PIN or allow common patterns in the policy`},
		{"73914", store.Policy{}, "tel:+14255550100;ext=73914",
			`PIN matches the user's extension; choose a less predictable PIN or allow common patterns in the policy`},
		{"50100", store.Policy{}, "tel:+14255550100",
			`PIN matches the user's phone number; choose a less predictable PIN or allow common patterns in the policy`},
	}
	for _, tt := range tests {
		err := Validate(tt.pin, tt.p, tt.line)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%q) = %v\nwant %s", tt.pin, err, tt.want)
		}
	}
}

func TestReusedError(t *testing.T) {
	err := ReusedError(store.Policy{Identity: "site:Redmond", PinHistoryCount: 5})
	if err.Rule != Reused {
		t.Errorf("Rule = %s, want %s", err.Rule, Reused)
	}
	const want = `PIN was used recently: the policy "site:Redmond" does not allow reusing any of the last 5 PINs; choose a different PIN`
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant %q", err, want)
	}
	var re *RuleError
	if !errors.As(error(err), &re) || re.Rule != Reused {
		t.Errorf("errors.As does not find the rule in %v", err)
	}
}

func TestParseLineURI(t *testing.T) {
	tests := []struct{ uri, number, ext string }{
		{"tel:+14255550100;ext=100", "14255550100", "100"},
		{"TEL:+1 (425) 555-0100;Ext=0100", "14255550100", "0100"},
		{" tel:+14255550100 ", "14255550100", ""},
		{"tel:+14255550100;phone-context=x;ext=12", "14255550100", "12"},
		{"+44.20.7946.0018", "442079460018", ""},
		{"sip:alice@litwareinc.com", "", ""},
		{"tel:+1425x", "", ""},
		{"tel:;ext=55", "", "55"},
		{"tel:+1425;ext=5a", "1425", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		number, ext := parseLineURI(tt.uri)
		if number != tt.number || ext != tt.ext {
			t.Errorf("parseLineURI(%q) = %q, %q; want %q, %q", tt.uri, number, ext, tt.number, tt.ext)
		}
	}
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name    string
		p       store.Policy
		wantLen int
	}{
		{"default policy gets 6", store.Policy{MinPasswordLength: 5}, 6},
		{"zero policy gets 6", store.Policy{}, 6},
		{"policy min 8", store.Policy{MinPasswordLength: 8}, 8},
		{"policy min 24", store.Policy{MinPasswordLength: 24}, 24},
		{"common patterns allowed", store.Policy{MinPasswordLength: 4, AllowCommonPatterns: true}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				pin, err := Generate(tt.p, "tel:+14255550100;ext=100")
				if err != nil {
					t.Fatal(err)
				}
				if len(pin) != tt.wantLen {
					t.Fatalf("Generate gave %d digits, want %d", len(pin), tt.wantLen)
				}
				strict := tt.p
				strict.AllowCommonPatterns = false
				if err := Validate(pin, strict, "tel:+14255550100;ext=100"); err != nil {
					t.Fatalf("generated PIN fails the strict rules: %v", err)
				}
			}
		})
	}
}

// TestGenerateStatistics checks 10,000 generated PINs: all pass, they are
// (almost all) distinct, and each digit value is equally likely at every
// position. Leading zeros must appear as often as any other first digit.
func TestGenerateStatistics(t *testing.T) {
	const n = 10000
	p := store.Policy{Identity: "global", MinPasswordLength: 5}
	seen := make(map[string]bool, n)
	var counts [6][10]int
	for range n {
		pin, err := Generate(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(pin, p, ""); err != nil {
			t.Fatalf("generated %d-digit PIN fails: %v", len(pin), err)
		}
		seen[pin] = true
		for i := range len(pin) {
			counts[i][pin[i]-'0']++
		}
	}
	// Drawing 10,000 of 10^6 values, about n²/2·10^6 = 50 repeat, with a
	// standard deviation near 7; fewer than 9,850 distinct means the
	// generator is far from random.
	if len(seen) < 9850 {
		t.Errorf("only %d of %d generated PINs are distinct", len(seen), n)
	}
	// Chi-square with 9 degrees of freedom per position: 9 on average; above
	// 40 has a probability below 1e-5 for uniform digits. Rejecting common
	// patterns biases the digits far too little to matter.
	for pos, c := range counts {
		chi := 0.0
		for _, k := range c {
			d := float64(k) - n/10.0
			chi += d * d / (n / 10.0)
		}
		if chi > 40 || math.IsNaN(chi) {
			t.Errorf("digits at position %d are not uniform: counts %v, chi-square %.1f", pos+1, c, chi)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		rnd  io.Reader
		p    store.Policy
		want string
	}{
		{"policy too long", bytes.NewReader(make([]byte, 64)), store.Policy{Identity: "tag:odd", MinPasswordLength: 25},
			`generate PIN: the policy "tag:odd" needs at least 25 digits, more than the 24 a PIN may have; lower its min_password_length`},
		{"random source fails", iotest.ErrReader(errors.New("entropy gone")), store.Policy{},
			"generate PIN: read random source: entropy gone"},
		// A source of only zeros always yields 000000, a repeated-digit PIN.
		{"random source stuck", zeros{}, store.Policy{},
			"generate PIN: no PIN of 6 digits passed the PIN rules in 100 tries; the random source is not random"},
		// Only bytes >= 250: every one is rejected, so reading must go on
		// until the source ends rather than loop forever.
		{"random source all rejected", bytes.NewReader(bytes.Repeat([]byte{255}, 640)), store.Policy{},
			"generate PIN: read random source: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin, err := generate(tt.rnd, tt.p, "")
			if err == nil || err.Error() != tt.want {
				t.Fatalf("generate = %q, %v\nwant error %s", pin, err, tt.want)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
