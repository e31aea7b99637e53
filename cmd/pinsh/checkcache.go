package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/pinsh/pinsh/store/boltstore"
)

// checkCache keeps, between runs, how each database file was when pinsh
// last knew it whole and healthy (boltstore.Options.Checked): a run that
// changes a file nobody has touched since then does not read it whole
// again first (0.26 s at a million users). It is a cache: a missing,
// unreadable or unwritable cache file costs one check, nothing else.
// Whoever can edit it (its owner; it is 0600) could make pinsh skip the
// check of a file, but then could write that file anyway.
type checkCache struct {
	path string // $XDG_STATE_HOME/pinsh/checked
}

// maxCheckedFiles bounds the files the cache remembers, newest first.
const maxCheckedFiles = 32

// newCheckCache returns the cache beside the prompt history, or nil when
// there is no state directory.
func newCheckCache(getenv func(string) string) *checkCache {
	h := historyPath(getenv)
	if h == "" {
		return nil
	}
	return &checkCache{path: filepath.Join(filepath.Dir(h), "checked")}
}

// entries reads the cache: lines of "STAMP<TAB>ABSOLUTE PATH".
func (c *checkCache) entries() (stamps, paths []string) {
	data, err := os.ReadFile(c.path)
	if err != nil {
		return nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		stamp, path, ok := strings.Cut(sc.Text(), "\t")
		if ok && filepath.IsAbs(path) {
			stamps, paths = append(stamps, stamp), append(paths, path)
		}
	}
	return stamps, paths
}

// get returns the stamp kept for the database file db (zero: none).
func (c *checkCache) get(db string) boltstore.FileStamp {
	if c == nil {
		return boltstore.FileStamp{}
	}
	abs, err := filepath.Abs(db)
	if err != nil {
		return boltstore.FileStamp{}
	}
	stamps, paths := c.entries()
	for i, p := range paths {
		if p == abs {
			st, _ := boltstore.ParseFileStamp(stamps[i])
			return st
		}
	}
	return boltstore.FileStamp{}
}

// put keeps stamp for db, replacing the file atomically; failures are
// ignored (see checkCache).
func (c *checkCache) put(db string, stamp boltstore.FileStamp) {
	abs, err := filepath.Abs(db)
	if c == nil || err != nil || stamp.String() == "" || strings.ContainsAny(abs, "\t\n") {
		return
	}
	var b strings.Builder
	b.WriteString(stamp.String() + "\t" + abs + "\n")
	stamps, paths := c.entries()
	kept := 1
	for i, p := range paths {
		if p != abs && kept < maxCheckedFiles {
			b.WriteString(stamps[i] + "\t" + p + "\n")
			kept++
		}
	}
	dir := filepath.Dir(c.path)
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".checked-*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(b.String())
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path) != nil {
		os.Remove(tmp.Name())
	}
}
