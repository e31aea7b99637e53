package procbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the child that Run times: with
// PROCBENCH_CHILD set it does what the variable says and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCBENCH_CHILD") {
	case "":
		os.Exit(m.Run())
	case "echo":
		fmt.Print(strings.Join(os.Args[1:], " "))
		os.Exit(0)
	case "env":
		fmt.Print(os.Getenv("PROCBENCH_VALUE"))
		os.Exit(0)
	case "fail":
		fmt.Fprintln(os.Stderr, "child: something went wrong")
		os.Exit(3)
	}
	os.Exit(99)
}

func child(t *testing.T, mode string, args ...string) Command {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Command{Name: mode, Path: exe, Args: args, Env: []string{"PROCBENCH_CHILD=" + mode}}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Stats
	}{
		{nil, Stats{}},
		{[]float64{2}, Stats{N: 1, Min: 2, Median: 2, Max: 2}},
		{[]float64{3, 1}, Stats{N: 2, Min: 1, Median: 2, Max: 3}},
		{[]float64{5, 1, 3}, Stats{N: 3, Min: 1, Median: 3, Max: 5}},
		{[]float64{4, 1, 10, 2}, Stats{N: 4, Min: 1, Median: 3, Max: 10}},
		{[]float64{7, 7, 7, 7, 7}, Stats{N: 5, Min: 7, Median: 7, Max: 7}},
	} {
		in := append([]float64(nil), tc.in...)
		if got := Summarize(tc.in); got != tc.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("Summarize reordered its input: %v, was %v", tc.in, in)
			}
		}
	}
}

func TestStatsText(t *testing.T) {
	for _, tc := range []struct {
		s    Stats
		prec int
		want string
	}{
		{Stats{}, 2, "-"},
		{Stats{N: 1, Min: 1.5, Median: 1.5, Max: 1.5}, 2, "1.50"},
		{Stats{N: 3, Min: 2, Median: 2, Max: 2}, 1, "2.0"},
		{Stats{N: 3, Min: 0.4012, Median: 0.4123, Max: 0.4333}, 3, "0.412 (0.401–0.433)"},
	} {
		if got := tc.s.Text(tc.prec); got != tc.want {
			t.Errorf("%+v.Text(%d) = %q, want %q", tc.s, tc.prec, got, tc.want)
		}
	}
}

func TestRatios(t *testing.T) {
	for _, tc := range []struct {
		a, b, want []float64
	}{
		{nil, nil, []float64{}},
		{[]float64{2, 9}, []float64{1, 3}, []float64{2, 3}},
		{[]float64{2, 9, 4}, []float64{1, 3}, []float64{2, 3}}, // extra a left out
		{[]float64{2, 9}, []float64{0, 3}, []float64{3}},       // zero b left out
		{[]float64{1, 1, 1}, []float64{4, 2, 1}, []float64{0.25, 0.5, 1}},
	} {
		got := Ratios(tc.a, tc.b)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Ratios(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	a := []Sample{{User: 2 * time.Second}, {User: 6 * time.Second}, {User: 3 * time.Second}}
	b := []Sample{{User: time.Second, System: time.Second}, {User: 2 * time.Second}, {User: 3 * time.Second}}
	sa, sb, r := Compare(a, b, CPU)
	if sa != (Stats{N: 3, Min: 2, Median: 3, Max: 6}) {
		t.Errorf("a: %+v", sa)
	}
	if sb != (Stats{N: 3, Min: 2, Median: 2, Max: 3}) {
		t.Errorf("b: %+v", sb)
	}
	// Pair by pair: 2/2, 6/2, 3/3; not the ratio of the medians (1.5).
	if r != (Stats{N: 3, Min: 1, Median: 1, Max: 3}) {
		t.Errorf("ratio: %+v", r)
	}
}

func TestParseRssAnon(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int64
		ok       bool
	}{
		{"status", "Name:\tpinsh\nVmRSS:\t   20000 kB\nRssAnon:\t    1234 kB\nRssFile:\t 8000 kB\n", 1234 << 10, true},
		{"last line without newline", "Name:\tx\nRssAnon:\t0 kB", 0, true},
		{"zombie", "Name:\tpinsh\nState:\tZ (zombie)\n", 0, false},
		{"empty", "", 0, false},
		{"no unit", "RssAnon:\t1234\n", 0, false},
		{"other unit", "RssAnon:\t1234 MB\n", 0, false},
		{"not a number", "RssAnon:\tlots kB\n", 0, false},
		{"negative", "RssAnon:\t-5 kB\n", 0, false},
		{"prefix only in a later field", "XRssAnon:\t5 kB\n", 0, false},
	} {
		got, ok := ParseRssAnon([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseRssAnon = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCapped(t *testing.T) {
	w := &capped{max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := string(w.Bytes()); got != "abcde" {
		t.Errorf("kept %q, want %q", got, "abcde")
	}
}

func TestSampleRssAnonOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	done := make(chan struct{})
	close(done) // one read, made at once, then return
	if peak := sampleRssAnon(os.Getpid(), time.Millisecond, done); peak <= 0 {
		t.Errorf("peak RssAnon of this process = %d, want > 0", peak)
	}
}

func TestRunStdoutAndAccounting(t *testing.T) {
	s, err := Run(context.Background(), child(t, "echo", "hello", "world"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Stdout) != "hello world" {
		t.Errorf("stdout %q", s.Stdout)
	}
	if s.Wall <= 0 {
		t.Errorf("wall time %v, want > 0", s.Wall)
	}
	if s.CPU() != s.User+s.System {
		t.Errorf("CPU %v is not user %v + system %v", s.CPU(), s.User, s.System)
	}
	if runtime.GOOS == "linux" && s.MaxRSS <= 0 {
		t.Errorf("MaxRSS %d, want the kernel's figure (> 0)", s.MaxRSS)
	}
	if s.PeakAnon != 0 {
		t.Errorf("PeakAnon %d without sampling", s.PeakAnon)
	}
}

func TestRunEnvOverrides(t *testing.T) {
	t.Setenv("PROCBENCH_VALUE", "inherited")
	c := child(t, "env")
	c.Env = append(c.Env, "PROCBENCH_VALUE=given")
	s, err := Run(context.Background(), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Stdout) != "given" {
		t.Errorf("child saw PROCBENCH_VALUE=%q, want the command's own", s.Stdout)
	}
}

func TestRunFailureQuotesStderr(t *testing.T) {
	_, err := Run(context.Background(), child(t, "fail"), 0)
	if err == nil {
		t.Fatal("a child exiting 3 was not an error")
	}
	for _, want := range []string{"fail:", "exit status 3", "child: something went wrong"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestRunBeforeError(t *testing.T) {
	c := child(t, "echo")
	c.Before = func() error { return fmt.Errorf("no copy made") }
	_, err := Run(context.Background(), c, 0)
	if err == nil || !strings.Contains(err.Error(), "no copy made") {
		t.Errorf("error %v, want the Before error", err)
	}
}

func TestAlternateOrder(t *testing.T) {
	var order []string
	mk := func(name string) Command {
		c := child(t, "echo", name)
		c.Name = name
		c.Before = func() error { order = append(order, name); return nil }
		return c
	}
	got, err := Alternate(context.Background(), Config{Runs: 2, Warmup: 1, SampleAnon: time.Millisecond}, mk("A"), mk("B"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "A B A B A B"; strings.Join(order, " ") != want {
		t.Errorf("ran %v, want %s (one warm-up round, then two alternated rounds)", order, want)
	}
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 2 {
		t.Fatalf("samples shape %d×?, want 2×2", len(got))
	}
	for i, name := range []string{"A", "B"} {
		for r, s := range got[i] {
			if string(s.Stdout) != name {
				t.Errorf("result[%d][%d] is from %q, want %q", i, r, s.Stdout, name)
			}
		}
	}
}

func TestAlternateErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Alternate(ctx, Config{Runs: 0}, child(t, "echo")); err == nil {
		t.Error("0 runs accepted")
	}
	if _, err := Alternate(ctx, Config{Runs: 1}); err == nil {
		t.Error("no command accepted")
	}
	_, err := Alternate(ctx, Config{Runs: 1, Warmup: 1}, child(t, "echo"), child(t, "fail"))
	if err == nil || !strings.Contains(err.Error(), "warm-up run 1") {
		t.Errorf("failing warm-up: %v", err)
	}
	_, err = Alternate(ctx, Config{Runs: 2}, child(t, "fail"))
	if err == nil || !strings.Contains(err.Error(), "run 1 of 2") {
		t.Errorf("failing run: %v", err)
	}
}
