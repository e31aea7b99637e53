package builtins

import (
	"errors"
	"strings"
	"testing"
)

func TestConfirmText(t *testing.T) {
	want := "Confirm\nAre you sure you want to perform this action?\n" +
		"Performing the operation \"lock_pin\" on target \"sip:kenmyer@litwareinc.com\".\n" +
		"[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): "
	if got := ConfirmText("lock_pin", "sip:kenmyer@litwareinc.com"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	wantWhatIf := `What if: Performing the operation "lock_pin" on target "sip:kenmyer@litwareinc.com".`
	if got := WhatIfText("lock_pin", "sip:kenmyer@litwareinc.com"); got != wantWhatIf {
		t.Errorf("got %s, want %s", got, wantWhatIf)
	}
}

func TestLinePrompter(t *testing.T) {
	tests := []struct {
		input   string
		want    Answer
		prompts int
		wantErr string
	}{
		{"\n", Yes, 1, ""},
		{"y\n", Yes, 1, ""},
		{"A\n", YesToAll, 1, ""},
		{"n\n", No, 1, ""},
		{"L\n", NoToAll, 1, ""},
		{"?\nn\n", No, 2, ""},
		{"maybe\ny\n", Yes, 2, ""},
		{"n", No, 1, ""}, // last line without newline
		{"", No, 1, "no answer (end of input)"},
		{"maybe\n", No, 2, "no answer"},
	}
	for _, tt := range tests {
		var out strings.Builder
		p := NewLinePrompter(strings.NewReader(tt.input), &out)
		got, err := p.Confirm("unlock_pin", "sip:tonysmith@litwareinc.com")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("input %q: err = %v, want %q", tt.input, err, tt.wantErr)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("input %q: got %v, %v; want %v", tt.input, got, err, tt.want)
		}
		if n := strings.Count(out.String(), "Are you sure"); n != tt.prompts {
			t.Errorf("input %q: asked %d times, want %d", tt.input, n, tt.prompts)
		}
	}
}

type scripted []Answer

func (s *scripted) Confirm(string, string) (Answer, error) {
	if len(*s) == 0 {
		return No, errors.New("asked once too often")
	}
	a := (*s)[0]
	*s = (*s)[1:]
	return a, nil
}

func TestConfirmerRemembersToAll(t *testing.T) {
	tests := []struct {
		answers scripted
		want    []bool
	}{
		{scripted{Yes, No, Yes}, []bool{true, false, true}},
		{scripted{No, YesToAll}, []bool{false, true, true, true}},
		{scripted{NoToAll}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		answers := tt.answers
		c := confirmer{prompter: &answers}
		for i, want := range tt.want {
			got, err := c.ok("lock_pin", "t")
			if err != nil || got != want {
				t.Errorf("%v: target %d: got %v, %v; want %v", tt.answers, i, got, err, want)
			}
		}
	}
	var none confirmer
	if _, err := none.ok("lock_pin", "t"); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("no prompter: err = %v, want ErrNoTerminal", err)
	}
}
