package etcdcluster

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPinshDoesNotLinkServer guards the promise of the package doc: the
// pinsh binary never carries the etcd server (about 40 modules), only the
// dev-cluster command and tests do.
func TestPinshDoesNotLinkServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/pinsh/pinsh/cmd/pinsh").Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/pinsh: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if strings.HasPrefix(dep, "go.etcd.io/etcd/server/") || strings.HasPrefix(dep, "github.com/pinsh/pinsh/internal/etcdcluster") {
			t.Errorf("cmd/pinsh depends on %s: the pinsh binary must not carry the etcd server", dep)
		}
	}
}
