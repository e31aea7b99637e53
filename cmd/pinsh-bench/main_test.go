package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"2500", 2500, true},
		{"10k", 10_000, true},
		{"10K", 10_000, true},
		{"1M", 1_000_000, true},
		{" 100k ", 100_000, true},
		{"100M", 100_000_000, true},
		{"101M", 0, false},
		{"0", 0, false},
		{"-5", 0, false},
		{"k", 0, false},
		{"1m", 0, false}, // m is not M: refuse to guess
		{"1.5M", 0, false},
		{"", 0, false},
	} {
		got, err := parseSize(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "10k") {
			t.Errorf("parseSize(%q) error %q does not show the form wanted", tc.in, err)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("1M,10k,100k,10k")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{10_000, 100_000, 1_000_000}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v (sorted, without repeats)", got, want)
	}
	if _, err := parseSizes("10k,,1M"); err == nil {
		t.Error("an empty size was accepted")
	}
}

func TestSizeNameRoundTrip(t *testing.T) {
	for _, n := range []int{1, 999, 1000, 2500, 10_000, 100_000, 1_000_000, 3_000_000, 1_500_000} {
		name := sizeName(n)
		back, err := parseSize(name)
		if err != nil || back != n {
			t.Errorf("sizeName(%d) = %q, which reads back as %d, %v", n, name, back, err)
		}
	}
	if got := sizeName(1_000_000); got != "1M" {
		t.Errorf("sizeName(1M) = %q", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 400_000: "400,000", 1_000_000: "1,000,000", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.big != 1_000_000 || o.setPins != 10_000 || o.runs != 3 || !slices.Equal(o.sizes, []int{10_000, 100_000, 1_000_000}) {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseOptions([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.big != 10_000 || o.setPins != 100 || o.compute != quickCompute {
		t.Errorf("-quick: %+v", o)
	}
	o, err = parseOptions([]string{"-quick", "-sizes", "5k", "-n", "5k", "-only", "^count"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.big != 5000 || !o.wants("count-map") || o.wants("lock") {
		t.Errorf("-quick with sizes and -only: %+v", o)
	}
	for _, args := range [][]string{
		{"-sizes", "10x"},
		{"-n", "0"},
		{"-setpin", "2M"}, // more than the directory
		{"-runs", "0"},
		{"-warmup", "-1"},
		{"-only", "("},
		{"-pinsh", "/nonexistent/pinsh"},
		{"-pinsh", "."},
		{"extra"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestCell(t *testing.T) {
	if got := cell("a | b"); got != `a \| b` {
		t.Errorf("cell = %q", got)
	}
}

func TestSameOutput(t *testing.T) {
	if err := sameCount([]byte("400000\n"), []byte("400000\n")); err != nil {
		t.Error(err)
	}
	for _, tc := range [][2]string{{"4\n", "5\n"}, {"", ""}} {
		if err := sameCount([]byte(tc[0]), []byte(tc[1])); err == nil {
			t.Errorf("sameCount(%q, %q) passed", tc[0], tc[1])
		}
	}
	summary := []byte(`{"action":"lock_pin","changed":400,"skipped":0,"failed":0,"whatif":false}` + "\n")
	if err := sameChanges(summary, []byte("400\n")); err != nil {
		t.Error(err)
	}
	if err := sameChanges(summary, []byte("401\n")); err == nil {
		t.Error("400 changed against 401 passed")
	}
	if err := sameChanges([]byte(`{"action":"lock_pin"}`), []byte("0\n")); err == nil {
		t.Error("a summary without changed passed")
	}
	if err := sameChanges([]byte("not json"), []byte("0\n")); err == nil {
		t.Error("output that is no summary passed")
	}
}

// TestSQLiteTables builds both tables from a small export with sqlite3,
// when it is installed, and checks their shape and contents.
func TestSQLiteTables(t *testing.T) {
	lite, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 is not installed")
	}
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	pins := filepath.Join(dir, "pins.csv")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(users, "identity,display_name,enabled,site\n"+
		"sip:a@x.com,A,true,Dublin\n"+
		"sip:b@x.com,\"B, Jr\",false,Tokyo\n")
	write(pins, "identity,display_name,is_pin_set,is_locked_out,locked_by\n"+
		"sip:a@x.com,A,true,false,\n"+
		"sip:b@x.com,\"B, Jr\",true,true,admin\n")
	ucols, err := csvHeader(users)
	if err != nil {
		t.Fatal(err)
	}
	pcols, err := csvHeader(pins)
	if err != nil {
		t.Fatal(err)
	}
	query := func(db, sql string) string {
		cmd := exec.Command(lite, db)
		cmd.Stdin = strings.NewReader(sql)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %s: %v\n%s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	narrow := filepath.Join(dir, "narrow.sqlite")
	query(narrow, narrowSQL(pins))
	if got := query(narrow, "SELECT sql FROM sqlite_master WHERE type = 'table';"); got != "CREATE TABLE users(identity TEXT PRIMARY KEY, is_pin_set INT, is_locked_out INT)" {
		t.Errorf("narrow schema: %s", got)
	}
	if got := query(narrow, "SELECT identity, is_pin_set, is_locked_out FROM users ORDER BY identity;"); got != "sip:a@x.com|1|0\nsip:b@x.com|1|1" {
		t.Errorf("narrow rows:\n%s", got)
	}
	if got := query(narrow, sqlCount); got != "1" {
		t.Errorf("narrow count: %s", got)
	}
	wide := filepath.Join(dir, "wide.sqlite")
	query(wide, wideSQL(users, pins, ucols, pcols))
	if got := query(wide, "SELECT count(*) FROM sqlite_master WHERE type = 'table';"); got != "1" {
		t.Errorf("wide: %s tables left, want only users", got)
	}
	if got := query(wide, "SELECT * FROM users ORDER BY identity;"); got != "sip:a@x.com|A|1|Dublin|1|0|\nsip:b@x.com|B, Jr|0|Tokyo|1|1|admin" {
		t.Errorf("wide rows:\n%s", got)
	}
	if got := query(wide, sqlLock); got != "1" {
		t.Errorf("wide lock changed %s rows, want 1", got)
	}
	if got := query(wide, sqlUnlock); got != "2" {
		t.Errorf("wide unlock changed %s rows, want 2", got)
	}
}
