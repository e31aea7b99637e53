// Package suggest finds the known names closest to a name that is not one
// of them, for messages that say "did you mean ...?". It is shared by lang
// (field names of records) and store (import column names), which must not
// import each other.
package suggest

import (
	"slices"
	"strings"
	"unicode"
)

// Hint returns the end of a message about a name that is not one of known:
// "did you mean x?" (or "x or y", "x, y or z") when some are close to name,
// else list followed by every known name, comma-separated: Hint("IsPinSet",
// fields, "its fields are") is "did you mean is_pin_set?".
//
// Close means: the same name once case, '_' and '-' are ignored
// (PowerShell's IsPinSet for is_pin_set, LineURI for line_uri); a few typing
// slips away (a letter missing, extra, wrong or two swapped); or sharing a
// word of at least four letters with name, or its first four letters
// ("expiry" for pin_expiration_time) when no name is a slip away.
func Hint(name string, known []string, list string) string {
	if s := Suggest(name, known); len(s) > 0 {
		return "did you mean " + OrList(s) + "?"
	}
	return list + " " + strings.Join(known, ", ")
}

// Suggest returns the names of known closest to name, best first, at most
// three; none if none is close (see Hint).
func Suggest(name string, known []string) []string {
	norm := fold(name)
	if norm == "" {
		return nil
	}
	type cand struct {
		name  string
		score int // lower is closer
	}
	var cands []cand
	words := wordsOf(name)
	for _, k := range known {
		fk := fold(k)
		if fk == norm {
			return []string{k} // the same name in another case or style
		}
		d := EditDistance(norm, fk, maxSlips(len(norm)))
		if d >= 0 {
			cands = append(cands, cand{k, d})
			continue
		}
		if shareWord(words, wordsOf(k)) {
			cands = append(cands, cand{k, wordScore})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.score - b.score })
	out := make([]string, 0, 3)
	for _, c := range cands {
		if len(out) == 3 || c.score == wordScore && cands[0].score < wordScore {
			break // a shared word is a clue only when no name is a slip away
		}
		out = append(out, c.name)
	}
	return out
}

// wordScore ranks a name that shares only a word with the name looked for
// after every name a few slips away.
const wordScore = 100

// maxSlips is how many typing slips a name of n letters may have and still
// be suggested: short names have few letters to spare.
func maxSlips(n int) int {
	switch {
	case n <= 3:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// Same reports whether a and b are the same name once case, '_', '-' and
// spaces are ignored: a PowerShell property name and the pinsh field it
// names (IsPinSet and is_pin_set, LineURI and line_uri).
func Same(a, b string) bool { return fold(a) == fold(b) }

// fold lower-cases s and drops '_', '-' and spaces.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '_', '-', ' ':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// wordsOf splits a snake_case or CamelCase name into lower-case words.
func wordsOf(s string) []string {
	var words []string
	var cur []rune
	rs := []rune(s)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ':
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush() // PinSet, URIPrefix
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// shareWord reports whether a word of typed and a word of field are equal
// and at least four letters long, or begin with the same four letters.
func shareWord(typed, field []string) bool {
	for _, t := range typed {
		if len(t) < 4 {
			continue
		}
		for _, f := range field {
			if len(f) >= 4 && t[:4] == f[:4] {
				return true
			}
		}
	}
	return false
}

// EditDistance returns the optimal-string-alignment distance between a and
// b (insertions, deletions, substitutions and swaps of neighbours, each
// costing one), or -1 if it is more than limit.
func EditDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return -1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > limit {
			return -1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if d := prev[len(rb)]; d <= limit {
		return d
	}
	return -1
}

// OrList joins names as "a", "a or b", "a, b or c".
func OrList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
