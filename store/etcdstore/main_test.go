package etcdstore

import (
	"testing"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }
