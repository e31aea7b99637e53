package builtins

import (
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func TestParseOptions(t *testing.T) {
	str := func(s string) tengo.Object { return &tengo.String{Value: s} }
	tests := []struct {
		name    string
		in      map[string]tengo.Object
		want    options
		wantErr string
	}{
		{"empty", nil, options{}, ""},
		{"whatif", map[string]tengo.Object{"whatif": tengo.TrueValue}, options{whatIf: true}, ""},
		{"all", map[string]tengo.Object{
			"confirm": tengo.TrueValue, "force": tengo.TrueValue, "error_action": str("Stop"),
		}, options{confirm: true, force: true, errorAction: Stop}, ""},
		{"undefined is false", map[string]tengo.Object{"force": tengo.UndefinedValue}, options{}, ""},
		{"silently", map[string]tengo.Object{"error_action": str("silently_continue")}, options{errorAction: SilentlyContinue}, ""},
		{"ignore", map[string]tengo.Object{"error_action": str("ignore")}, options{errorAction: Ignore}, ""},
		{"unknown key", map[string]tengo.Object{"wahtif": tengo.TrueValue}, options{}, `lock_pin: unknown option "wahtif"; did you mean whatif?`},
		{"PowerShell name", map[string]tengo.Object{"WhatIf": tengo.TrueValue}, options{}, `lock_pin: unknown option "WhatIf"; did you mean whatif?`},
		{"ErrorAction", map[string]tengo.Object{"ErrorAction": tengo.TrueValue}, options{}, `lock_pin: unknown option "ErrorAction"; did you mean error_action?`},
		{"nothing close", map[string]tengo.Object{"zz": tengo.TrueValue}, options{}, `lock_pin: unknown option "zz"; options are whatif, confirm, force, error_action`},
		{"key of another builtin", map[string]tengo.Object{"enforce_history": tengo.TrueValue}, options{}, `unknown option "enforce_history"`},
		{"not a bool", map[string]tengo.Object{"whatif": str("yes")}, options{}, "lock_pin: option whatif must be true or false, not string"},
		{"bad action", map[string]tengo.Object{"error_action": str("explode")}, options{}, `option error_action "explode" is not one of continue, ignore, silently_continue, stop`},
		{"action not a string", map[string]tengo.Object{"error_action": tengo.TrueValue}, options{}, "option error_action must be a string, not bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOptions("lock_pin", tt.in, "whatif", "confirm", "force", "error_action")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
