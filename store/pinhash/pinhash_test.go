package pinhash

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testKey(t testing.TB) Key {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHashVerify(t *testing.T) {
	k := testKey(t)
	h, err := Hash(k, TestParams(), "48151", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(h)
	if err != nil || d.Params != TestParams() || d.KeyID != k.ID() {
		t.Fatalf("Decode = %+v, %v", d, err)
	}
	for _, tc := range []struct {
		pin  string
		want bool
	}{{"48151", true}, {"48152", false}, {"048151", false}, {"", false}} {
		ok, err := Verify(k, h, tc.pin)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pin, ok, err, tc.want)
		}
	}
	h2, _ := Hash(k, TestParams(), "48151", nil)
	if bytes.Equal(h, h2) {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	if bytes.Contains(h, []byte("48151")) {
		t.Error("hash contains the PIN")
	}
}

func TestVerifyErrors(t *testing.T) {
	k := testKey(t)
	h, _ := Hash(k, TestParams(), "1234", nil)
	if _, err := Verify(testKey(t), h, "1234"); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("other key: %v", err)
	}
	for _, bad := range [][]byte{nil, h[:len(h)-1], append([]byte{2}, h[1:]...), append(h, 0)} {
		if _, err := Verify(k, bad, "1234"); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%x) error = %v; want ErrMalformed", bad, err)
		}
	}
	if _, err := Hash(k, Params{MemoryKiB: 4, Time: 1, Threads: 1}, "1", nil); err == nil {
		t.Error("Hash accepted 4 KiB")
	}
	if _, err := Hash(k, TestParams(), "1", strings.NewReader("short")); err == nil {
		t.Error("Hash accepted a short salt source")
	}
	if _, err := NewKey(make([]byte, 31)); err == nil {
		t.Error("NewKey accepted 31 bytes")
	}
}

// TestStolenHashUseless shows that a stored hash alone (the database file)
// does not give away the PIN: brute force over the whole 5-digit space with
// any key but the right one finds nothing, while the right key finds it.
// (4-digit space to keep the test short; boltstore repeats it on a real
// database file.)
func TestStolenHashUseless(t *testing.T) {
	right := testKey(t)
	const pin = "7359"
	h, err := Hash(right, TestParams(), pin, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := Decode(h)
	search := func(k Key) string {
		for i := range 10000 {
			guess := fmt.Sprintf("%04d", i)
			if bytes.Equal(derive(k, d.Params, guess, d.Salt), d.Sum) {
				return guess
			}
		}
		return ""
	}
	var zero Key // an attacker without the key file: no secret at all
	zero.id = right.id
	if got := search(zero); got != "" {
		t.Fatalf("found the PIN %q without the key", got)
	}
	wrong := testKey(t)
	if got := search(wrong); got != "" {
		t.Fatalf("found the PIN %q with a wrong key", got)
	}
	if got := search(right); got != pin {
		t.Fatalf("the right key found %q, want %q", got, pin)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "pin.key")
	if _, err := LoadKey(path, false); !errors.Is(err, ErrNoKeyFile) {
		t.Fatalf("missing key without create: %v", err)
	}
	k, err := LoadKey(path, true)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Errorf("key file mode %v size %d", st.Mode(), st.Size())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v", dst.Mode())
	}
	again, err := LoadKey(path, true)
	if err != nil || again.ID() != k.ID() {
		t.Fatalf("reloaded key differs: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	good := make([]byte, 32)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"group readable", write("g.key", good, 0o640), "chmod 600"},
		{"too short", write("s.key", good[:10], 0o600), "exactly 32 bytes"},
		{"too long", write("l.key", append(good, 1), 0o600), "exactly 32 bytes"},
		{"directory", dir, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKey(tc.path, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("LoadKey = %v; want an error naming the file and %q", err, tc.want)
			}
		})
	}
	if os.Geteuid() != 0 {
		p := write("u.key", good, 0o000)
		if _, err := LoadKey(p, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("unreadable key: %v", err)
		}
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	if os.Geteuid() != 0 {
		if _, err := LoadKey(filepath.Join(ro, "pin.key"), true); err == nil {
			t.Error("created a key in a read-only directory")
		}
	}
}

// BenchmarkHashDefault measures one hash (= one verify) with DefaultParams.
func BenchmarkHashDefault(b *testing.B) {
	k := testKey(b)
	start := time.Now()
	for b.Loop() {
		if _, err := Hash(k, DefaultParams(), "48151", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/hash")
}

func TestReused(t *testing.T) {
	k := testKey(t)
	other, err := NewKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	hash := func(k Key, pin string) []byte {
		h, err := Hash(k, TestParams(), pin, nil)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cur := hash(k, "1111")
	hist := [][]byte{hash(k, "2222"), hash(other, "3333"), hash(k, "4444")}
	for _, tc := range []struct {
		name    string
		current []byte
		history [][]byte
		count   int
		pin     string
		want    bool
	}{
		{"the current PIN", cur, hist, 1, "1111", true},
		{"count 0 remembers nothing", cur, hist, 0, "1111", false},
		{"the newest old PIN, within count", cur, hist, 2, "2222", true},
		{"an old PIN beyond count", cur, hist, 3, "4444", false},
		{"an old PIN within count", cur, hist, 4, "4444", true},
		{"another key's hash is passed over", cur, hist, 4, "3333", false},
		{"no current PIN: history counts from its newest", nil, hist, 1, "2222", true},
		{"a new PIN", cur, hist, 10, "5555", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Reused(k, tc.current, tc.history, tc.count, tc.pin)
			if err != nil || got != tc.want {
				t.Errorf("Reused = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := Reused(k, []byte("not a hash"), nil, 1, "1111"); err == nil || !strings.Contains(err.Error(), "check PIN history") {
		t.Errorf("a corrupt hash: %v", err)
	}
}
