package pinrule

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

// Fuzz targets of the PIN rules and generation. Their seeds run in go test
// ./...; to fuzz longer: go test -fuzz FuzzValidate -fuzztime 3m ./store/pinrule

// fuzzPolicy is a policy with a minimum length in range and common
// patterns allowed or not.
func fuzzPolicy(minLen uint8, allowCommon bool) store.Policy {
	p := store.DefaultPolicy(store.GlobalPolicy)
	p.MinPasswordLength = store.MinPinLengthLow + int(minLen)%(store.MinPinLengthHigh-store.MinPinLengthLow+1)
	p.AllowCommonPatterns = allowCommon
	return p
}

// FuzzValidate: a PIN that passes is ASCII digits of an allowed length; a
// refusal is a *RuleError that never repeats the PIN.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"48151", "06284", "123456", "222222", "54321", "991234", "1234", "12a45",
		"٤٨١٥١", "", "0000000000000000000000000", "4255550100", "100", " 48151"} {
		f.Add(s, uint8(1), false, "tel:+14255550100;ext=100")
		f.Add(s, uint8(0), true, "")
	}
	f.Fuzz(func(t *testing.T, pin string, minLen uint8, allowCommon bool, lineURI string) {
		p := fuzzPolicy(minLen, allowCommon)
		err := Validate(pin, p, lineURI)
		if err == nil {
			if len(pin) < p.MinPasswordLength || len(pin) > MaxPinLength || strings.Trim(pin, "0123456789") != "" {
				t.Fatalf("Validate(%q, min %d) passed", pin, p.MinPasswordLength)
			}
			return
		}
		var re *RuleError
		if !errors.As(err, &re) {
			t.Fatalf("Validate(%q): %v is not a *RuleError", pin, err)
		}
		// The message must not repeat the PIN. A PIN may match the fixed
		// text by chance ("like 777777"): then the same PIN with every
		// digit moved up by one is not in its message.
		if len(pin) >= 6 && strings.Contains(err.Error(), pin) {
			moved := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return '0' + (r-'0'+1)%10
				}
				return r
			}, pin)
			if err2 := Validate(moved, p, lineURI); err2 != nil && strings.Contains(err2.Error(), moved) {
				t.Fatalf("Validate(%q): the message repeats the PIN: %v", pin, err)
			}
		}
	})
}

// FuzzGenerate drives generation with any random bytes: it gives a PIN of
// max(6, min length) digits that passes every rule, common patterns
// included, or an error; it never loops forever on bad randomness.
func FuzzGenerate(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(2), "tel:+14255550100;ext=100")
	f.Add(bytes.Repeat([]byte{0}, 1000), uint8(0), "")
	f.Add([]byte{}, uint8(20), "tel:+1425555")
	f.Fuzz(func(t *testing.T, random []byte, minLen uint8, lineURI string) {
		p := fuzzPolicy(minLen, true)
		pin, err := generate(bytes.NewReader(random), p, lineURI)
		if err != nil {
			return // the random source ran out, or every try was a common pattern
		}
		strict := p
		strict.AllowCommonPatterns = false
		if len(pin) != max(6, p.MinPasswordLength) {
			t.Fatalf("generate: %d digits for min length %d", len(pin), p.MinPasswordLength)
		}
		if err := Validate(pin, strict, lineURI); err != nil {
			t.Fatalf("generate gave a PIN the rules refuse: %v", err)
		}
	})
}
