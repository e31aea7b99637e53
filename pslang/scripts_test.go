package pslang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runScript runs scripts/NAME.ps1 with args on a fresh sample directory,
// and its translation, run as a Tengo script, on another; both must change the
// directory alike and print the same. It returns the first shell and what
// the script printed.
func runScript(t *testing.T, name string, setup string, args ...string) (*shell, string, string, error) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "scripts", name+".ps1"))
	if err != nil {
		t.Fatal(err)
	}
	s := newShell(t, args...)
	if setup != "" {
		if _, _, err := s.tengo(setup); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	out, errOut, runErr := s.ps(string(src))

	s2 := newShell(t, args...)
	if setup != "" {
		if _, _, err := s2.tengo(setup); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	tr, err := s2.tr.Translate(name+".ps1", string(src))
	if err != nil {
		t.Fatal(err)
	}
	out2, errOut2, err2 := s2.script(tr.Tengo) // as pinsh F.tengo runs it
	if (runErr == nil) != (err2 == nil) || out2 != out || errOut2 != errOut {
		t.Errorf("the translation runs otherwise:\nPowerShell: %v\n%s%s\ntranslation: %v\n%s%s", runErr, out, errOut, err2, out2, errOut2)
	}
	if got, want := s2.state(), s.state(); got != want {
		t.Errorf("the translation leaves another state: %s", diff(want, got))
	}
	return s, out, errOut, runErr
}

func TestBulkPinsScript(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "pins.csv")
	data := "SipAddress,Pin\nsip:aidan@litwareinc.com,73915\nsip:kenmyer@litwareinc.com,1234\nsip:nobody@litwareinc.com,82051\nsip:pilar@litwareinc.com,0481596\n"
	if err := os.WriteFile(csv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s, out, errOut, err := runScript(t, "bulk_pins", "", csv)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{
		"sip:kenmyer@litwareinc.com: set_pin: sip:kenmyer@litwareinc.com: PIN is too short",
		"sip:nobody@litwareinc.com: set_pin: ",
		"2 PINs set, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "73915") || strings.Contains(out+errOut, "1234") {
		t.Errorf("a PIN is shown:\n%s%s", out, errOut)
	}
	if _, _, err := s.tengo(`assert(verify_pin("aidan@litwareinc.com", "73915").ok && verify_pin("pilar@litwareinc.com", "0481596").ok)`); err != nil {
		t.Error(err)
	}
	// Without the file name: its usage, and nothing runs.
	_, _, _, err = runScript(t, "bulk_pins", "")
	if err == nil || !strings.Contains(err.Error(), "usage: bulk_pins.ps1 FILE.csv") {
		t.Errorf("got %v", err)
	}
}

func TestExpiringPinsScript(t *testing.T) {
	_, out, _, err := runScript(t, "expiring_pins", "")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("nothing expires in 14 days: got %v\n%s", err, out)
	}
	// Ken's PIN expires in 30 days; David's expired yesterday and is left
	// out, as are the PINs that never expire. Soonest first.
	_, out, _, err = runScript(t, "expiring_pins", `grant_pin_policy("pilar@litwareinc.com", "Expire30"); set_pin("pilar@litwareinc.com", "729164")`, "31")
	if err != nil {
		t.Fatal(err)
	}
	ken, pilar := strings.Index(out, "sip:kenmyer@litwareinc.com"), strings.Index(out, "sip:pilar@litwareinc.com")
	if ken < 0 || pilar < 0 || strings.Contains(out, "davidlongmuir") || strings.Contains(out, "tonysmith") {
		t.Errorf("want Ken and Pilar only:\n%s", out)
	}
	if !strings.Contains(out, "2010-10-02T12:00:00Z") {
		t.Errorf("want Ken's expiration time:\n%s", out)
	}
}

func TestUnlockSiteScript(t *testing.T) {
	// Tony's PIN is locked by the system at Redmond; another site has none.
	_, out, errOut, err := runScript(t, "unlock_site", "", "Dublin")
	if err != nil || !strings.Contains(out, "changed: 0") {
		t.Errorf("Dublin: %v\n%s%s", err, out, errOut)
	}
	s, out, errOut, err := runScript(t, "unlock_site", "", "redmond")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(out, "changed: 1") {
		t.Errorf("want one unlock:\n%s", out)
	}
	if _, _, err := s.tengo(`assert(!pin_info("tonysmith@litwareinc.com").is_locked_out, "Tony unlocked")
assert(pin_info("lisasmith@litwareinc.com").locked_by == "admin", "Lisa stays locked: an admin locked her PIN")`); err != nil {
		t.Error(err)
	}
}
