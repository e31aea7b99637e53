package builtins

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

const million = 1_000_000

// The pipeline the whole tool is held to (issue 2): over a million users,
// half with a PIN set.
const seedExample2 = `get_users() | pin_info | where(func(p) { return p.is_pin_set }) | lock_pin`

// generatedDB builds a database of n synthetic users in dir and returns its
// path, closed.
func generatedDB(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, "pinsh.db")
	st, err := boltstore.Open(path, boltstore.Options{
		KeyFile: filepath.Join(dir, "pin.key"), Creator: "bench",
		Now: func() time.Time { return testNow }, HashParams: pinhash.TestParams(),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := sample.Generate(context.Background(), st, store.Op{Operator: "bench", Now: testNow}, n, nil); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func copyDB(b *testing.B, from, toDir string) string {
	b.Helper()
	for _, name := range []string{"pinsh.db", "pin.key"} {
		src, err := os.Open(filepath.Join(filepath.Dir(from), name))
		if err != nil {
			b.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(toDir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
	return filepath.Join(toDir, "pinsh.db")
}

// BenchmarkSeedExample2Pipeline1M runs the seed's Example 2 as an admin
// types it, through the language, the builtins and the store, over a million
// users (half with a PIN; of those 80% not yet locked), and compares it
// with sqlite3 running UPDATE users SET is_locked_out=1 WHERE is_pin_set=1
// on a million rows. ratio = pinsh / sqlite3 (target: at most 1). It also
// reports the peak Go heap during the run, to show bounded memory.
func BenchmarkSeedExample2Pipeline1M(b *testing.B) {
	path := generatedDB(b, b.TempDir(), million)
	lite := sqliteLockTime(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		work := copyDB(b, path, b.TempDir())
		st, err := boltstore.Open(work, boltstore.Options{KeyFile: filepath.Join(filepath.Dir(work), "pin.key")})
		if err != nil {
			b.Fatal(err)
		}
		sh := New(Config{Store: st, Clock: FrozenClock(testNow), Operator: "bench"})
		sess, err := lang.NewSession(lang.Options{Builtins: sh.Builtins(), Stderr: io.Discard, Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		peak := heapWatcher()
		b.StartTimer()
		start := time.Now()
		if err := sess.Eval(context.Background(), "bench", []byte("s := "+seedExample2)); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		heap := peak()
		s, _ := sess.Lookup("s")
		if r, ok := s.(*lang.Record); !ok || r.Get("changed").String() != "400000" {
			b.Fatalf("summary %v, want 400000 changed", s)
		}
		st.Close()
		b.ReportMetric(elapsed.Seconds(), "pipeline-s")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
		if lite > 0 {
			b.ReportMetric(lite.Seconds(), "sqlite3-s")
			b.ReportMetric(elapsed.Seconds()/lite.Seconds(), "ratio")
		}
	}
}

// heapWatcher samples the live heap until the returned function is called,
// which returns the highest value seen.
func heapWatcher() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// sqliteLockTime times sqlite3's UPDATE of the same million rows, or
// returns 0 when sqlite3 is not installed.
func sqliteLockTime(b *testing.B) time.Duration {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		b.Log("sqlite3 is not installed: no comparison")
		return 0
	}
	db := filepath.Join(b.TempDir(), "lite.db")
	// The same rows as the generated users: every directory field, plus
	// the two PIN flags (half the PINs set).
	setup := fmt.Sprintf(`CREATE TABLE users(sip_address TEXT, user_principal_name TEXT, sam_account_name TEXT,
  domain TEXT, display_name TEXT, distinguished_name TEXT, line_uri TEXT, registrar_pool TEXT, site TEXT,
  enabled INTEGER, is_pin_set INTEGER, is_locked_out INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
INSERT INTO users SELECT printf('sip:user%%07d@contoso.com', i), printf('user%%07d@contoso.com', i),
  printf('user%%07d', i), 'contoso', printf('User %%07d', i),
  printf('CN=User %%07d,OU=Users%%d,OU=Synthetic,DC=contoso,DC=com', i, i / 10000),
  printf('tel:+1425%%07d;ext=%%d', i, i %% 10000), 'pool01.contoso.com', 'Redmond',
  i %% 50 != 0, 1 - i %% 2, 0 FROM n;`, million)
	if out, err := exec.Command("sqlite3", db, setup).CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 setup: %v\n%s", err, out)
	}
	start := time.Now()
	if out, err := exec.Command("sqlite3", db, "UPDATE users SET is_locked_out=1 WHERE is_pin_set=1").CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 update: %v\n%s", err, out)
	}
	return time.Since(start)
}
