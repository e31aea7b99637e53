package suggest

import "testing"

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"abc", "abc", 2, 0},
		{"abc", "acb", 2, 1},  // swap
		{"abc", "ab", 2, 1},   // deletion
		{"abc", "abxc", 2, 1}, // insertion
		{"abc", "axc", 2, 1},  // substitution
		{"abc", "xyz", 2, -1},
		{"a", "abcd", 2, -1}, // lengths alone exceed the limit
		{"", "ab", 2, 2},
		{"kitten", "sitting", 3, 3},
		{"kitten", "sitting", 2, -1},
		{"é", "e", 1, 1}, // runes, not bytes
	} {
		if got := EditDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("EditDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

func TestSame(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"IsPinSet", "is_pin_set", true},
		{"LineURI", "line_uri", true},
		{"pin-expiration time", "PinExpirationTime", true},
		{"identity", "identity", true},
		{"IsPinSett", "is_pin_set", false},
		{"", "x", false},
	} {
		if got := Same(tt.a, tt.b); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
