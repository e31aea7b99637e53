package main

import (
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The JUnit document as encoding/xml describes it: junitXML must write
// exactly what MarshalIndent makes of it.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr"`
	Cases     []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlFailure `xml:"failure,omitempty"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type xmlFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// encodingXML is the JUnit document made with encoding/xml.
func encodingXML(t testing.TB, results []testResult, total time.Duration, now time.Time) string {
	suite := xmlSuite{Name: "pinsh test", Tests: len(results), Time: seconds(total), Timestamp: now.UTC().Format("2006-01-02T15:04:05")}
	for _, r := range results {
		c := xmlCase{Name: r.file, Classname: "pinsh." + strings.TrimSuffix(filepath.Base(r.file), ".tengo"), Time: seconds(r.duration)}
		if r.failure != "" {
			suite.Failures++
			c.Failure = &xmlFailure{Message: r.failure, Type: "failure", Text: r.output}
		} else {
			c.SystemOut = r.output
		}
		suite.Cases = append(suite.Cases, c)
	}
	data, err := xml.MarshalIndent(xmlSuites{Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []xmlSuite{suite}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return xml.Header + string(data) + "\n"
}

func TestJUnitXMLMatchesEncodingXML(t *testing.T) {
	now := time.Date(2026, 12, 2, 17, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name    string
		results []testResult
	}{
		{"no tests", nil},
		{"passed, silent", []testResult{{file: "a_test.tengo", duration: 1500 * time.Microsecond}}},
		{"passed, printed", []testResult{{file: "dir/b_test.tengo", output: "line 1\nline 2\n", duration: time.Second}}},
		{"failed", []testResult{{file: "c_test.tengo", failure: "c_test.tengo:5: assert_eq: got false, want true", output: "before the failure\n"}}},
		{"failed silently", []testResult{{file: "c_test.tengo", failure: "c_test.tengo:1: boom"}}},
		{"markup and quotes", []testResult{{file: `d&"'<x>_test.tengo`, failure: `want "<a>" & 'b'`, output: "<![CDATA[ ]]>\t\r\n"}}},
		{"what XML cannot hold", []testResult{{file: "e_test.tengo", output: "nul \x00 bell \a invalid \xff\xfe surrogate \xed\xa0\x80 U+FFFD \uFFFD U+FFFE \uFFFE astral \U0001F600 end"}}},
		{"several", []testResult{
			{file: "x/one_test.tengo", duration: 3 * time.Millisecond},
			{file: "x/two_test.tengo", failure: "x/two_test.tengo:2: no", output: "é ü ß\n"},
			{file: "x/three_test.tengo", output: "ok\n"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := encodingXML(t, tc.results, 2*time.Second, now)
			if got := string(junitXML(tc.results, 2*time.Second, now)); got != want {
				t.Errorf("junitXML:\n%s\nencoding/xml:\n%s", got, want)
			}
		})
	}
}

func FuzzJUnitXML(f *testing.F) {
	f.Add("a_test.tengo", "", "out\n")
	f.Add("b_test.tengo", "b_test.tengo:1: <no> & \"yes\"", "\x00\xff\r\n\t")
	now := time.Date(2026, 12, 2, 17, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, file, failure, output string) {
		results := []testResult{{file: file, failure: failure, output: output}, {file: "z_test.tengo"}}
		if got, want := string(junitXML(results, time.Second, now)), encodingXML(t, results, time.Second, now); got != want {
			t.Errorf("junitXML:\n%s\nencoding/xml:\n%s", got, want)
		}
	})
}
