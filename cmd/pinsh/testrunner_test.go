package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunScriptAbsolutePath: run_script takes an absolute path as it is,
// and a relative one relative to the test file's directory.
func TestRunScriptAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(t.TempDir(), "lib", "hello.tengo") // outside the test's directory
	write := func(path, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(lib, `fmt := import("fmt"); fmt.println("hello ", args[0])`)
	write(filepath.Join(dir, "rel.tengo"), `fmt := import("fmt"); fmt.println("rel")`)
	test := filepath.Join(dir, "abs_test.tengo")
	write(test, "assert_eq(run_script("+strconv.Quote(lib)+`, "ken"), "hello ken\n")`+"\n"+
		`assert_eq(run_script("rel.tengo"), "rel\n")`+"\n"+
		"run_script("+strconv.Quote(filepath.Join(dir, "nosuch.tengo"))+")\n")
	r := runTestFile(context.Background(), test, testOperator, time.Minute, nil)
	want := test + ":3: run_script: open " + filepath.Join(dir, "nosuch.tengo") + ": no such file or directory"
	if r.failure != want {
		t.Errorf("failure %q, want %q\n%s", r.failure, want, r.output)
	}
	if strings.Contains(r.output, "hello") {
		t.Errorf("the script's output leaked: %q", r.output)
	}
}
