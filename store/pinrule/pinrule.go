// Package pinrule holds pinsh's PIN rules as pure functions: which PINs a
// policy accepts (Validate), random PIN generation (Generate), and the
// two-tier lockout of PIN logons (Limits, Attempt). It does no I/O and reads
// no clock; the store passes in the policy, the user's line URI and the time.
//
// The rules follow Lync's client-PIN administration (Set-CsClientPin,
// CsPinPolicy) with the pinsh decisions of the facts page: a PIN is ASCII
// digits only, leading zeros are significant, sequences count in both
// directions.
//
// Error messages never repeat the PIN or any part of it, because they end up
// in audit details, script output and CI logs.
package pinrule

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/pinsh/pinsh/store"
)

// MaxPinLength is the longest PIN accepted: the largest minimum length a
// policy may ask for (Lync's MinPasswordLength range is 4-24).
const MaxPinLength = 24

// MinPinLength is the shortest minimum length a policy may set. Validate
// treats a policy minimum below it (a policy outside the valid range, or a
// zero Policy) as MinPinLength, so that no policy accepts a 3-digit or empty
// PIN.
const MinPinLength = 4

// Rule names a PIN rule. Its value is a stable snake_case word that may be
// shown to admins and written to the audit log.
type Rule string

const (
	TooShort       Rule = "too_short"       // fewer digits than the policy's MinPasswordLength
	TooLong        Rule = "too_long"        // more than MaxPinLength digits
	NotDigits      Rule = "not_digits"      // a character other than ASCII 0-9
	RepeatedDigits Rule = "repeated_digits" // only runs of a repeated digit (222222, 225577)
	Sequence       Rule = "sequence"        // four or more consecutive digits (1234, 9876)
	PhoneNumber    Rule = "phone_number"    // the user's extension or the end of their number
	Reused         Rule = "reused"          // one of the last PinHistoryCount PINs (checked by the store)
)

// RuleError reports the rule a PIN breaks. Msg says what is wrong and what to
// do; it never contains the PIN.
type RuleError struct {
	Rule Rule
	Msg  string
}

// Error returns e.Msg.
func (e *RuleError) Error() string { return e.Msg }

// ReusedError returns the error the store reports when a new PIN matches one
// of the last p.PinHistoryCount PINs of the user. pinrule cannot check this
// itself: it never sees the stored hashes.
func ReusedError(p store.Policy) *RuleError {
	return &RuleError{Rule: Reused, Msg: fmt.Sprintf(
		"PIN was used recently: %s does not allow reusing any of the last %d PINs; choose a different PIN",
		policyName(p), p.PinHistoryCount)}
}

// Validate checks pin against policy p for a user whose line URI is lineURI
// (for example "tel:+14255550100;ext=100"; it may be empty). It returns nil
// if the PIN is acceptable, else a *RuleError for the first broken rule in
// this order:
//
//   - NotDigits: every character must be an ASCII digit 0-9. Spaces, signs,
//     letters and the digits of other scripts (full-width "１", Arabic-Indic,
//     ...) are refused, not converted. Leading zeros are kept and count:
//     "06284" is a five-digit PIN different from "6284".
//   - TooShort: at least p.MinPasswordLength digits (at least MinPinLength
//     whatever the policy says).
//   - TooLong: at most MaxPinLength digits.
//
// Unless p.AllowCommonPatterns is set, then:
//
//   - RepeatedDigits: the PIN consists only of runs of a repeated digit, that
//     is, every maximal run of equal adjacent digits is at least two long:
//     "222222" (one run), "225577", "22334455", "001100". "225578" passes
//     (the 8 stands alone), so does "121212".
//   - Sequence: somewhere in the PIN four or more adjacent digits each go up
//     by one ("1234" in "991234", "3456") or each go down by one ("54321",
//     "9876"). 0 does not follow 9, so "7890" is not a sequence.
//   - PhoneNumber: the PIN equals the extension of lineURI (the digits of its
//     "ext=" parameter), or equals the last len(pin) digits of its telephone
//     number (which includes the whole number with country code). Only a
//     "tel:" URI, or a bare number, is read; a line URI without digits
//     matches nothing.
func Validate(pin string, p store.Policy, lineURI string) error {
	pos := 0
	for _, r := range pin {
		pos++
		if r < '0' || r > '9' {
			return &RuleError{Rule: NotDigits, Msg: fmt.Sprintf(
				"PIN must be digits 0-9 only: character %d is not (no spaces, signs, letters or digits of other scripts)", pos)}
		}
	}
	// All bytes are now ASCII, so len(pin) counts digits.
	if min := max(p.MinPasswordLength, MinPinLength); len(pin) < min {
		return &RuleError{Rule: TooShort, Msg: fmt.Sprintf(
			"PIN is too short: %d digits, %s needs at least %d", len(pin), policyName(p), min)}
	}
	if len(pin) > MaxPinLength {
		return &RuleError{Rule: TooLong, Msg: fmt.Sprintf(
			"PIN is too long: %d digits, at most %d are allowed", len(pin), MaxPinLength)}
	}
	if p.AllowCommonPatterns {
		return nil
	}
	const hint = "; choose a less predictable PIN or allow common patterns in the policy"
	if onlyRepeats(pin) {
		return &RuleError{Rule: RepeatedDigits, Msg: "PIN is made only of repeated digits (like 777777 or 778899)" + hint}
	}
	if hasSequence(pin, 4) {
		return &RuleError{Rule: Sequence, Msg: "PIN has four or more consecutive digits (like 1234 or 9876)" + hint}
	}
	if what := matchesLine(pin, lineURI); what != "" {
		return &RuleError{Rule: PhoneNumber, Msg: "PIN matches the user's " + what + hint}
	}
	return nil
}

func policyName(p store.Policy) string {
	if p.Identity == "" {
		return "the policy"
	}
	return fmt.Sprintf("the policy %q", p.Identity)
}

// onlyRepeats reports whether every maximal run of equal digits in pin is at
// least two long. pin is non-empty.
func onlyRepeats(pin string) bool {
	for i := 0; i < len(pin); {
		j := i + 1
		for j < len(pin) && pin[j] == pin[i] {
			j++
		}
		if j-i < 2 {
			return false
		}
		i = j
	}
	return true
}

// hasSequence reports whether pin has n or more adjacent digits that each
// differ from the previous one by +1, or each by -1.
func hasSequence(pin string, n int) bool {
	up, down := 1, 1
	for i := 1; i < len(pin); i++ {
		switch int(pin[i]) - int(pin[i-1]) {
		case 1:
			up, down = up+1, 1
		case -1:
			up, down = 1, down+1
		default:
			up, down = 1, 1
		}
		if up >= n || down >= n {
			return true
		}
	}
	return false
}

// matchesLine returns what of the user's line URI pin equals ("extension" or
// "phone number"), or "" if neither.
func matchesLine(pin, lineURI string) string {
	number, ext := parseLineURI(lineURI)
	if ext != "" && pin == ext {
		return "extension"
	}
	if number != "" && len(pin) <= len(number) && strings.HasSuffix(number, pin) {
		return "phone number"
	}
	return ""
}

// parseLineURI returns the digits of the telephone number and of the ext=
// parameter of a "tel:" URI such as "tel:+1 (425) 555-0100;ext=100". Visual
// separators (space, '-', '.', '(', ')') and the leading '+' are dropped; a
// number part holding anything else (a "sip:" URI, letters) yields no number.
func parseLineURI(uri string) (number, ext string) {
	uri = strings.TrimSpace(uri)
	if len(uri) >= 4 && strings.EqualFold(uri[:4], "tel:") {
		uri = uri[4:]
	}
	num, params, _ := strings.Cut(uri, ";")
	number = digitsOf(num, "+-.() ")
	for params != "" {
		var kv string
		kv, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(strings.TrimSpace(k), "ext") {
			ext = digitsOf(strings.TrimSpace(v), "-.() ")
		}
	}
	return number, ext
}

// digitsOf returns the ASCII digits of s with the characters in sep removed,
// or "" if s holds any other character.
func digitsOf(s, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case strings.IndexByte(sep, c) >= 0:
		default:
			return ""
		}
	}
	return b.String()
}

// generateTries bounds Generate's retries. A random PIN of 6 or more digits
// breaks a rule with a probability of a few percent at most, so running out
// of tries means the random source is broken, not bad luck.
const generateTries = 100

// Generate returns a random PIN that passes Validate for p and lineURI. Its
// length is p.MinPasswordLength, but at least 6 digits; its digits are
// uniform and independent (crypto/rand), and it is retried until it passes
// every rule, common patterns included even when p allows them: a generated
// PIN is never 123456 or the user's extension. Generate fails if the policy
// needs more than MaxPinLength digits or the system's random source fails.
func Generate(p store.Policy, lineURI string) (string, error) {
	return generate(rand.Reader, p, lineURI)
}

func generate(rnd io.Reader, p store.Policy, lineURI string) (string, error) {
	n := max(p.MinPasswordLength, 6)
	if n > MaxPinLength {
		return "", fmt.Errorf("generate PIN: %s needs at least %d digits, more than the %d a PIN may have; lower its min_password_length",
			policyName(p), n, MaxPinLength)
	}
	strict := p
	strict.AllowCommonPatterns = false
	pin := make([]byte, n)
	var buf [64]byte
	for try := 0; try < generateTries; try++ {
		for i := 0; i < n; {
			if _, err := io.ReadFull(rnd, buf[:]); err != nil {
				return "", fmt.Errorf("generate PIN: read random source: %w", err)
			}
			for _, b := range buf {
				// 250 is the largest multiple of 10 that fits a byte:
				// rejecting 250-255 keeps b%10 uniform.
				if b < 250 && i < n {
					pin[i] = '0' + b%10
					i++
				}
			}
		}
		if Validate(string(pin), strict, lineURI) == nil {
			return string(pin), nil
		}
	}
	return "", fmt.Errorf("generate PIN: no PIN of %d digits passed the PIN rules in %d tries; the random source is not random", n, generateTries)
}
