package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// writeJUnit writes the results as JUnit XML to path.
func writeJUnit(path string, results []testResult, total time.Duration) error {
	data := junitXML(results, total, time.Now())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	return nil
}

// junitXML returns the results as JUnit XML, as CI systems read it: one
// testsuites element holding one testsuite, a testcase per file, with a
// failure (message and the test's output) or the output as system-out.
//
// It is written by hand, byte for byte what encoding/xml's MarshalIndent
// (two-space indent, after xml.Header) makes of the same structure (the
// tests compare the two), because linking encoding/xml costs every pinsh
// start its package initialisation, for a file only `pinsh test --junit`
// writes.
func junitXML(results []testResult, total time.Duration, now time.Time) []byte {
	failures := 0
	for _, r := range results {
		if r.failure != "" {
			failures++
		}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	counts := ` tests="` + strconv.Itoa(len(results)) + `" failures="` + strconv.Itoa(failures) + `" time="` + seconds(total) + `"`
	b.WriteString(`<testsuites` + counts + ">\n")
	b.WriteString(`  <testsuite name="pinsh test"` + counts + ` timestamp="` + now.UTC().Format("2006-01-02T15:04:05") + `">`)
	for _, r := range results {
		b.WriteString("\n    <testcase name=\"")
		xmlEscape(&b, r.file)
		b.WriteString(`" classname="`)
		xmlEscape(&b, "pinsh."+strings.TrimSuffix(filepath.Base(r.file), ".tengo"))
		b.WriteString(`" time="` + seconds(r.duration) + `">`)
		switch {
		case r.failure != "":
			b.WriteString("\n      <failure message=\"")
			xmlEscape(&b, r.failure)
			b.WriteString(`" type="failure">`)
			xmlEscape(&b, r.output)
			b.WriteString("</failure>\n    ")
		case r.output != "":
			b.WriteString("\n      <system-out>")
			xmlEscape(&b, r.output)
			b.WriteString("</system-out>\n    ")
		}
		b.WriteString("</testcase>")
	}
	if len(results) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("</testsuite>\n</testsuites>\n")
	return []byte(b.String())
}

// xmlEscape writes s escaped for an XML attribute value or character data,
// as encoding/xml escapes them: the five markup characters, tab and line
// ends as character references, and what XML cannot hold (invalid UTF-8,
// control characters) as U+FFFD.
func xmlEscape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if xmlChar(r) && (r != utf8.RuneError || width > 1) {
				continue
			}
			esc = "\uFFFD"
		}
		b.WriteString(s[last : i-width])
		b.WriteString(esc)
		last = i
	}
	b.WriteString(s[last:])
}

// xmlChar reports whether XML 1.0 allows r in a document (its Char
// production).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
