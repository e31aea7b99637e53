package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyNetUsesCgo keeps pinsh free of C but for Go's net package, which
// the line editor imports: a CGO_ENABLED=0 build (the README's install
// command) must lose nothing. os/user in particular names only accounts of
// /etc/passwd without cgo; boltstore.Operator asks getent for the others.
// Listed as a Linux build with cgo would compile them, tags and all (on
// macOS, os/user is how the operator is named; it needs no cgo there).
func TestOnlyNetUsesCgo(t *testing.T) {
	for _, tags := range [][]string{nil, {"-tags", "etcd"}} {
		args := append(append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{len .CgoFiles}}"}, tags...), "github.com/pinsh/pinsh/cmd/pinsh")
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		for line := range strings.Lines(string(out)) {
			pkg, files, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch {
			case pkg == "os/user":
				t.Errorf("go %s lists os/user: name the operator with boltstore.Operator", strings.Join(args, " "))
			case files != "0" && pkg != "net" && pkg != "runtime/cgo":
				t.Errorf("go %s: %s has cgo files; pinsh must build the same with CGO_ENABLED=0", strings.Join(args, " "), pkg)
			}
		}
	}
}
