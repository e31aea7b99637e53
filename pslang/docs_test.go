package pslang

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// example is one example of a page: its PowerShell as the page gives it,
// its Tengo form, and what must hold after it ran.
type example struct {
	name               string
	ps, tengo, setup   string
	out, errOut, check string
	wantErr            string
}

func readExamples(t *testing.T, path string) []*example {
	t.Helper()
	a, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.Comment), "Source:") {
		t.Fatalf("%s: the comment must name the source of the examples", path)
	}
	byName := map[string]*example{}
	for _, f := range a.Files {
		dot := strings.LastIndexByte(f.Name, '.')
		name, kind := f.Name[:dot], f.Name[dot+1:]
		ex := byName[name]
		if ex == nil {
			ex = &example{name: name}
			byName[name] = ex
		}
		data := string(f.Data)
		switch kind {
		case "ps1":
			ex.ps = data
		case "tengo":
			ex.tengo = data
		case "setup":
			ex.setup = data
		case "out":
			ex.out = data
		case "err":
			ex.errOut = data
		case "check":
			ex.check = data
		case "error":
			ex.wantErr = strings.TrimSpace(data)
		default:
			t.Fatalf("%s: unknown file %s", path, f.Name)
		}
	}
	var out []*example
	for _, ex := range byName {
		if ex.ps == "" || ex.tengo == "" {
			t.Fatalf("%s: %s needs a .ps1 and a .tengo", path, ex.name)
		}
		out = append(out, ex)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// pins masks numbers of five digits or more, so that runs that generate
// different PINs print alike.
var pins = regexp.MustCompile(`\d{5,}`)

// TestDocExamples runs every example of the Lync pages (testdata/docs)
// verbatim on the sample directory, and checks that it changes the
// directory as its Tengo form does, and as its translation does when run
// as Tengo, printing the same.
func TestDocExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/docs/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		page := strings.TrimSuffix(filepath.Base(file), ".txtar")
		for _, ex := range readExamples(t, file) {
			t.Run(page+"/"+ex.name, func(t *testing.T) { runExample(t, ex) })
		}
	}
}

func setUp(t *testing.T, ex *example) *shell {
	t.Helper()
	s := newShell(t)
	if ex.setup != "" {
		if _, _, err := s.tengo(ex.setup); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	return s
}

func runExample(t *testing.T, ex *example) {
	s := setUp(t, ex)
	out, errOut, err := s.ps(ex.ps)
	if ex.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), ex.wantErr) {
			t.Fatalf("PowerShell: got error %v, want one containing %q", err, ex.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("PowerShell: %v\nstderr: %s", err, errOut)
	}
	for _, l := range strings.Split(strings.TrimSpace(ex.out), "\n") {
		if !strings.Contains(out, l) {
			t.Errorf("PowerShell output lacks %q:\n%s", l, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(ex.errOut), "\n") {
		if !strings.Contains(errOut, l) {
			t.Errorf("PowerShell stderr lacks %q:\n%s", l, errOut)
		}
	}
	want := s.state()
	if ex.check != "" {
		if _, _, err := s.tengo("assert(" + strings.TrimSpace(ex.check) + ")"); err != nil {
			t.Errorf("after PowerShell: %v", err)
		}
	}

	// Its Tengo form changes the directory alike and prints the same.
	s2 := setUp(t, ex)
	out2, errOut2, err := s2.tengo(ex.tengo)
	if err != nil {
		t.Fatalf("Tengo form: %v\nstderr: %s", err, errOut2)
	}
	if got := s2.state(); got != want {
		t.Errorf("the Tengo form leaves another state than the PowerShell: %s", diff(want, got))
	}
	if pins.ReplaceAllString(out2, "#") != pins.ReplaceAllString(out, "#") {
		t.Errorf("the Tengo form prints otherwise:\nPowerShell:\n%s\nTengo:\n%s", out, out2)
	}

	// Its translation, run as a Tengo script (pinsh --ps --translate
	// F.ps1 > F.tengo; pinsh F.tengo), does and shows the same as the
	// PowerShell.
	s3 := setUp(t, ex)
	tr, err := s3.tr.Translate("test.ps1", ex.ps)
	if err != nil {
		t.Fatal(err)
	}
	out3, errOut3, err := s3.script(tr.Tengo)
	if err != nil {
		t.Fatalf("translation: %v\n%s", err, tr.Tengo)
	}
	if got := s3.state(); got != want {
		t.Errorf("the translation leaves another state than the PowerShell: %s", diff(want, got))
	}
	if pins.ReplaceAllString(out3, "#") != pins.ReplaceAllString(out, "#") || errOut3 != errOut && !strings.Contains(errOut, "PIN") {
		t.Errorf("the translation prints otherwise:\nPowerShell:\n%s%s\ntranslation:\n%s%s", out, errOut, out3, errOut3)
	}
}
