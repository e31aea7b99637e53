package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		check   func(t *testing.T, c *config)
		wantErr string
	}{
		{"prompt", nil, env(), func(t *testing.T, c *config) {
			if c.mode != modePrompt {
				t.Errorf("mode = %v", c.mode)
			}
		}, ""},
		{"script with args", []string{"--whatif", "x.tengo", "a", "--b"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeFile || c.file != "x.tengo" || strings.Join(c.args, " ") != "a --b" || !c.whatIf {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"code", []string{"-c", "now()"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeCode || c.code != "now()" {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"stdin", []string{"-", "x"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeStdin || len(c.args) != 1 {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"test default path", []string{"test"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeTest || c.args[0] != "scripts" {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"test junit", []string{"test", "--junit", "out.xml", "a", "b"}, env(), func(t *testing.T, c *config) {
			if c.junit != "out.xml" || len(c.args) != 2 {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"env", nil, env("PINSH_DB", "/x.db", "PINSH_OPERATOR", "bob", "PINSH_NOW", "2010-09-02T12:00:00Z", "PINSH_KEY_FILE", "/k"), func(t *testing.T, c *config) {
			if c.dbPath != "/x.db" || c.as != "bob" || c.keyPath != "/k" || !c.now.Equal(time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"flag beats env", []string{"--as", "alice"}, env("PINSH_OPERATOR", "bob"), func(t *testing.T, c *config) {
			if c.as != "alice" {
				t.Errorf("as = %q", c.as)
			}
		}, ""},
		{"generate", []string{"generate", "1000"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeGenerate || c.count != 1000 {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"import", []string{"import", "u.csv"}, env(), func(t *testing.T, c *config) {
			if c.mode != modeImport || c.file != "u.csv" {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"empty code", []string{"-c", ""}, env(), func(t *testing.T, c *config) {
			if c.mode != modeCode || c.code != "" {
				t.Errorf("-c '': mode %v, want an empty -c script", c.mode)
			}
		}, ""},
		{"as from env", []string{"test"}, env("PINSH_OPERATOR", "bob"), func(t *testing.T, c *config) {
			if c.as != "bob" || c.asGiven {
				t.Errorf("as %q, given %v", c.as, c.asGiven)
			}
		}, ""},
		{"as given", []string{"--as", "alice", "test"}, env("PINSH_OPERATOR", "bob"), func(t *testing.T, c *config) {
			if c.as != "alice" || !c.asGiven {
				t.Errorf("as %q, given %v", c.as, c.asGiven)
			}
		}, ""},
		{"demo with db and key", []string{"--demo", "--db", "x.db", "--key", "k"}, env("PINSH_DB", "/y.db"), func(t *testing.T, c *config) {
			if strings.Join(c.ignoredWithDemo, " ") != "--db --key" {
				t.Errorf("ignoredWithDemo = %q", c.ignoredWithDemo)
			}
		}, ""},
		{"demo with env db", []string{"--demo"}, env("PINSH_DB", "/y.db"), func(t *testing.T, c *config) {
			if len(c.ignoredWithDemo) != 0 {
				t.Errorf("ignoredWithDemo = %q", c.ignoredWithDemo)
			}
		}, ""},
		{"unknown flag", []string{"--wat"}, env(), nil, "flag provided but not defined: -wat"},
		{"bad now", []string{"--now", "yesterday"}, env(), nil, `--now "yesterday": not an RFC 3339 time`},
		{"bad env now", nil, env("PINSH_NOW", "2010"), nil, `PINSH_NOW="2010" (environment): not an RFC 3339 time`},
		{"bad now beats env", []string{"--now", "x"}, env("PINSH_NOW", "2010"), nil, `--now "x": not an RFC 3339 time`},
		{"bad output", []string{"--output", "xml"}, env(), nil, `--output "xml": use table, json, jsonl or csv`},
		{"bad timeout", []string{"--timeout", "soon"}, env(), nil, "invalid value"},
		{"negative timeout", []string{"--timeout", "-1s"}, env(), nil, "give a positive duration"},
		{"zero timeout", []string{"--timeout", "0"}, env(), nil, "leave --timeout out for no time limit"},
		{"code and file", []string{"-c", "1", "x.tengo"}, env(), nil, "-c takes the whole script"},
		{"generate zero", []string{"generate", "0"}, env(), nil, "want a whole number of users"},
		{"generate words", []string{"generate", "many"}, env(), nil, "want a whole number"},
		{"generate missing", []string{"generate"}, env(), nil, "usage: pinsh generate N"},
		{"import missing", []string{"import"}, env(), nil, "usage: pinsh import FILE"},
		{"test bad flag", []string{"test", "--xml"}, env(), nil, "usage: pinsh test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.env, io.Discard)
			if tt.wantErr != "" {
				if _, ok := err.(*usageError); !ok || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestHelpText(t *testing.T) {
	var out strings.Builder
	c, err := parseConfig([]string{"--help"}, env(), &out)
	if err != nil || c.mode != modeHelp {
		t.Fatalf("--help: %+v, %v", c, err)
	}
	for _, want := range []string{"Usage:", "pinsh [flags] generate N", "Exit status:", "-demo", "-key FILE", "-output FORMAT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
	if c, err := parseConfig([]string{"--version"}, env(), &out); err != nil || c.mode != modeVersion {
		t.Errorf("--version: %+v, %v", c, err)
	}
}

func TestResolvePaths(t *testing.T) {
	c := &config{as: "x"}
	if err := c.resolvePaths(env("HOME", "/home/a")); err != nil {
		t.Fatal(err)
	}
	if c.dbPath != "/home/a/.local/share/pinsh/pinsh.db" || c.keyPath != "/home/a/.config/pinsh/pin.key" {
		t.Errorf("got db %q key %q", c.dbPath, c.keyPath)
	}
	c = &config{as: "x"}
	if err := c.resolvePaths(env("HOME", "/home/a", "XDG_DATA_HOME", "/d", "XDG_CONFIG_HOME", "relative")); err != nil {
		t.Fatal(err)
	}
	if c.dbPath != "/d/pinsh/pinsh.db" || c.keyPath != "/home/a/.config/pinsh/pin.key" {
		t.Errorf("got db %q key %q (a relative XDG dir must be ignored)", c.dbPath, c.keyPath)
	}
	c = &config{}
	if err := c.resolvePaths(env()); err == nil || !strings.Contains(err.Error(), "use --db and --key") {
		t.Errorf("no HOME: err = %v", err)
	}
	if c.as == "" {
		t.Error("no operator name")
	}
	c = &config{demo: true}
	if err := c.resolvePaths(env()); err != nil || c.dbPath != "" {
		t.Errorf("--demo needs no HOME: err = %v, db %q", err, c.dbPath)
	}
	if got := historyPath(env("XDG_STATE_HOME", "/s")); got != "/s/pinsh/history" {
		t.Errorf("history = %q", got)
	}
	if got := historyPath(env("HOME", "/h")); got != "/h/.local/state/pinsh/history" {
		t.Errorf("history = %q", got)
	}
}

func TestResolveOperator(t *testing.T) {
	tests := []struct {
		name             string
		cfg              config
		account          string
		wantAs, wantActs string
	}{
		{"no --as: the account", config{}, "alice", "alice", ""},
		{"--as on a real database: acting", config{as: "hd1"}, "alice", "hd1", "alice"},
		{"--as naming oneself", config{as: " Alice "}, "alice", "alice", ""},
		{"--demo: any name, no acting", config{as: "hd1", demo: true}, "alice", "hd1", ""},
		{"--demo without --as", config{demo: true}, "alice", "alice", ""},
	}
	for _, tt := range tests {
		c := tt.cfg
		c.resolveOperator(tt.account)
		if c.as != tt.wantAs || c.actedBy != tt.wantActs || c.account != tt.account {
			t.Errorf("%s: operator %q acted by %q (account %q); want %q acted by %q", tt.name, c.as, c.actedBy, c.account, tt.wantAs, tt.wantActs)
		}
	}
}

func TestAsSource(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"--as", "hd1"}, env(), `--as "hd1"`},
		{nil, env("PINSH_OPERATOR", "hd1"), `PINSH_OPERATOR="hd1" (environment)`},
		{[]string{"--as", "x"}, env("PINSH_OPERATOR", "hd1"), `--as "x"`},
		{nil, env(), ""},
	} {
		c, err := parseConfig(tt.args, tt.env, io.Discard)
		if err != nil || c.asSource != tt.want {
			t.Errorf("parseConfig(%q): asSource %q, %v; want %q", tt.args, c.asSource, err, tt.want)
		}
	}
}
