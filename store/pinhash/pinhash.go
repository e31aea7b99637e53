// Package pinhash hashes and verifies PINs.
//
// A PIN hash is argon2id(HMAC-SHA256(key, PIN), salt) with a random 16-byte
// salt. The key (the "pepper") is a 32-byte secret kept in a key file outside
// the database, so a stolen database alone does not let anyone test PIN
// guesses: without the key, even the 10^5 five-digit PINs cannot be tried.
// Each encoded hash carries its argon2 parameters and the key's id, so
// parameters can be raised and keys rotated without breaking older hashes.
//
// Encoded hash layout (61+ bytes):
//
//	version(1)=1 | memory KiB (uvarint) | time (uvarint) | threads(1) |
//	key id(8) | salt(16) | hash(32)
package pinhash

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams returns the parameters of new hashes: argon2id with 8 MiB of
// memory, one pass, one thread. They cost about 5 ms per hash on the
// project's 2-core reference machine, so set_pin for 10,000 users takes
// about 40-45 s with two hashing workers (see the README for measurements).
// They are below OWASP's 19 MiB/2 passes on purpose: the key kept outside the
// database is what protects a 5-digit PIN (facts §10); the memory-hard hash
// only raises the cost for someone who has both.
func DefaultParams() Params { return Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1} }

// TestParams returns the cheapest parameters argon2id allows (8 KiB, one pass).
// They keep test suites fast; never use them for real PINs.
func TestParams() Params { return Params{MemoryKiB: 8, Time: 1, Threads: 1} }

const (
	version  = 1
	saltLen  = 16
	hashLen  = 32
	keyLen   = 32
	idLen    = 8
	minLen   = 1 + 1 + 1 + 1 + idLen + saltLen + hashLen
	maxParam = 1 << 22 // 4 GiB of memory; anything larger is a damaged record
)

// ErrKeyMismatch means a hash was made with another key than the one given.
var ErrKeyMismatch = errors.New("PIN hash was made with a different key")

// ErrMalformed means the bytes are not an encoded PIN hash.
var ErrMalformed = errors.New("malformed PIN hash")

// KeyID identifies a key: the first 8 bytes of its SHA-256.
type KeyID [idLen]byte

// String returns the id in hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// Key is a PIN hashing key.
type Key struct {
	id     KeyID
	secret [keyLen]byte
}

// NewKey makes a key from a 32-byte secret.
func NewKey(secret []byte) (Key, error) {
	if len(secret) != keyLen {
		return Key{}, fmt.Errorf("a PIN key has %d bytes, not %d", keyLen, len(secret))
	}
	var k Key
	copy(k.secret[:], secret)
	sum := sha256.Sum256(k.secret[:])
	copy(k.id[:], sum[:idLen])
	return k, nil
}

// ID returns the key's id.
func (k Key) ID() KeyID { return k.id }

// Hash returns the encoded hash of pin under k with params p and a salt
// read from rnd (crypto/rand.Reader when nil).
func Hash(k Key, p Params, pin string, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if p.MemoryKiB < 8*uint32(max(p.Threads, 1)) || p.Time < 1 || p.Threads < 1 || p.MemoryKiB > maxParam {
		return nil, fmt.Errorf("bad argon2 parameters %+v", p)
	}
	buf := make([]byte, 0, minLen+8)
	buf = append(buf, version)
	buf = binary.AppendUvarint(buf, uint64(p.MemoryKiB))
	buf = binary.AppendUvarint(buf, uint64(p.Time))
	buf = append(buf, p.Threads)
	buf = append(buf, k.id[:]...)
	salt := buf[len(buf) : len(buf)+saltLen]
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("read salt: %w", err)
	}
	buf = buf[:len(buf)+saltLen]
	return append(buf, derive(k, p, pin, salt)...), nil
}

func derive(k Key, p Params, pin string, salt []byte) []byte {
	m := hmac.New(sha256.New, k.secret[:])
	m.Write([]byte(pin))
	return argon2.IDKey(m.Sum(nil), salt, p.Time, p.MemoryKiB, p.Threads, hashLen)
}

// Decoded is the parsed form of an encoded hash.
type Decoded struct {
	Params Params
	KeyID  KeyID
	Salt   []byte
	Sum    []byte
}

// Decode parses an encoded hash; it fails with ErrMalformed.
func Decode(enc []byte) (Decoded, error) {
	var d Decoded
	if len(enc) < minLen || enc[0] != version {
		return d, ErrMalformed
	}
	rest := enc[1:]
	m, n := binary.Uvarint(rest)
	if n <= 0 || m > maxParam {
		return d, ErrMalformed
	}
	rest = rest[n:]
	t, n := binary.Uvarint(rest)
	if n <= 0 || t == 0 || t > 1<<16 {
		return d, ErrMalformed
	}
	rest = rest[n:]
	if len(rest) != 1+idLen+saltLen+hashLen || rest[0] == 0 {
		return d, ErrMalformed
	}
	d.Params = Params{MemoryKiB: uint32(m), Time: uint32(t), Threads: rest[0]}
	if d.Params.MemoryKiB < 8*uint32(d.Params.Threads) {
		return d, ErrMalformed
	}
	copy(d.KeyID[:], rest[1:1+idLen])
	d.Salt = rest[1+idLen : 1+idLen+saltLen]
	d.Sum = rest[1+idLen+saltLen:]
	return d, nil
}

// Verify reports whether pin matches the encoded hash under k, comparing in
// constant time. It fails with ErrMalformed for a damaged hash and
// ErrKeyMismatch when the hash was made with another key.
func Verify(k Key, enc []byte, pin string) (bool, error) {
	d, err := Decode(enc)
	if err != nil {
		return false, err
	}
	if d.KeyID != k.id {
		return false, fmt.Errorf("%w (hash key id %s, key file id %s)", ErrKeyMismatch, d.KeyID, k.id)
	}
	sum := derive(k, d.Params, pin, d.Salt)
	return subtle.ConstantTimeCompare(sum, d.Sum) == 1, nil
}

// Reused reports whether pin is the one hashed in current or in one of the
// newest hashes of history, looking at count hashes in all (current first),
// as a PIN history policy of count demands. Hashes made with another key
// cannot be compared and are passed over; any other error is returned.
// Every backend's SetPins applies it.
func Reused(k Key, current []byte, history [][]byte, count int, pin string) (bool, error) {
	hashes := make([][]byte, 0, 1+len(history))
	if current != nil {
		hashes = append(hashes, current)
	}
	hashes = append(hashes, history...)
	for _, h := range hashes[:min(len(hashes), count)] {
		ok, err := Verify(k, h, pin)
		if errors.Is(err, ErrKeyMismatch) {
			continue // made with an older key: cannot compare
		}
		if err != nil {
			return false, fmt.Errorf("check PIN history: %w", err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// DefaultKeyFile returns the default key file path,
// $XDG_CONFIG_HOME/pinsh/pin.key (~/.config/pinsh/pin.key).
func DefaultKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the default PIN key file: %w; name one with --key or PINSH_KEY_FILE", err)
	}
	return filepath.Join(dir, "pinsh", "pin.key"), nil
}

// ErrNoKeyFile means the key file does not exist (LoadKey without create).
var ErrNoKeyFile = errors.New("PIN key file does not exist")

// LoadKey reads the key file at path: exactly 32 bytes, mode 0600 or
// stricter (no group or other permissions). When the file does not exist
// and create is true, it creates it (and its directory, mode 0700) with a
// new random key; otherwise it fails with ErrNoKeyFile. Every error names
// the file and says what to do.
func LoadKey(path string, create bool) (Key, error) {
	k, err := readKey(path)
	if errors.Is(err, ErrNoKeyFile) && create {
		if err := createKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return Key{}, err
		}
		// Another process may have won the race to create it: read whatever
		// is there now.
		return readKey(path)
	}
	return k, err
}

func readKey(path string) (Key, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("%w: %s", ErrNoKeyFile, path)
	}
	if err != nil {
		return Key{}, fmt.Errorf("open PIN key file: %w; make it readable by this user (chmod 600 %s)", err, path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("stat PIN key file %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return Key{}, fmt.Errorf("PIN key file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Key{}, fmt.Errorf("PIN key file %s has mode %04o, readable by others; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	buf := make([]byte, keyLen+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Key{}, fmt.Errorf("read PIN key file %s: %w", path, err)
	}
	if n != keyLen {
		return Key{}, fmt.Errorf("PIN key file %s is damaged: it must hold exactly %d bytes; restore it from a backup", path, keyLen)
	}
	return NewKey(buf[:keyLen])
}

func createKey(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the directory of PIN key file %s: %w", path, err)
	}
	var secret [keyLen]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return fmt.Errorf("make a PIN key: %w", err)
	}
	// Write to a temporary name and link it into place, so that nobody
	// ever reads a half-written key, and a concurrent creator loses cleanly.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pin.key.*")
	if err != nil {
		return fmt.Errorf("create PIN key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create PIN key file %s: %w", path, err)
	}
	if _, err := tmp.Write(secret[:]); err != nil {
		tmp.Close()
		return fmt.Errorf("write PIN key file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write PIN key file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write PIN key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("create PIN key file %s: %w", path, err)
	}
	return nil
}
