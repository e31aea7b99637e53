package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store/boltstore"
)

// TestMain lets the test binary act as pinsh: testscript installs it as the
// pinsh command of every script, and the pty tests run it the same way.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pinsh": func() { os.Exit(pinshMain()) },
		// interruptible-helper FILE waits under interruptible, whose
		// cleanup writes FILE: see TestInterruptibleCleanup.
		"interruptible-helper": func() {
			ctx, stop := interruptible(context.Background(), func() {
				os.WriteFile(os.Args[1], []byte("cleaned up\n"), 0o600)
			})
			defer stop()
			fmt.Println("ready")
			<-ctx.Done()
			fmt.Println("cancelled:", context.Cause(ctx))
			select {} // a run that does not stop
		},
	})
}

// TestScript runs the end-to-end tests in testdata/script: the pinsh binary
// as an admin or CI job uses it.
func TestScript(t *testing.T) {
	scripts, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	held := map[*testscript.TestScript]*bolt.DB{}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			// The operator is the OS account running the tests; ME
			// names it, for scripts to match.
			env.Setenv("ME", boltstore.Operator())
			env.Setenv("SCRIPTS", scripts)
			return os.MkdirAll(home, 0o700)
		},
		// [tinyfs]: a tmpfs can be mounted here (see the tinyfs command).
		// [root]: the tests run as root, whom file modes do not stop.
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "tinyfs":
			default:
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			dir, err := os.MkdirTemp("", "pinsh-tinyfs-")
			if err != nil {
				return false, err
			}
			defer os.Remove(dir)
			if mountTmpfs(dir, "64k") != nil {
				return false, nil
			}
			unmount(dir)
			return true, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// lockdb PATH holds the lock of the database file PATH, as
			// another pinsh running a script does, until unlockdb.
			"lockdb": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: lockdb PATH")
				}
				db, err := bolt.Open(ts.MkAbs(args[0]), 0o600, &bolt.Options{Timeout: 5 * time.Second})
				ts.Check(err)
				mu.Lock()
				held[ts] = db
				mu.Unlock()
				ts.Defer(func() { db.Close() })
			},
			"unlockdb": func(ts *testscript.TestScript, neg bool, args []string) {
				mu.Lock()
				db := held[ts]
				delete(held, ts)
				mu.Unlock()
				if db == nil {
					ts.Fatalf("unlockdb: no database is locked")
				}
				ts.Check(db.Close())
			},
			// setschema PATH N writes schema version N into the pinsh
			// database PATH, as a newer pinsh would.
			"setschema": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: setschema PATH N")
				}
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				db, err := bolt.Open(ts.MkAbs(args[0]), 0o600, &bolt.Options{Timeout: 5 * time.Second})
				ts.Check(err)
				defer db.Close()
				ts.Check(db.Update(func(tx *bolt.Tx) error {
					meta := tx.Bucket([]byte("meta"))
					if meta == nil {
						return fmt.Errorf("%s: no meta bucket", args[0])
					}
					return meta.Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, uint32(n)))
				}))
			},
			// sha256 FILE prints the file's SHA-256, so that a script can
			// keep it (cp stdout before.sum) and show later that the file
			// did not change (cmp stdout before.sum).
			"sha256": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: sha256 FILE")
				}
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				fmt.Fprintf(ts.Stdout(), "%x\n", sha256.Sum256(data))
			},
			// cutblock PATH BUCKET cuts the middle value of a bucket of the
			// pinsh database PATH in half, as damage in the middle of the
			// file would: Open's quick check (first and last blocks) does
			// not see it.
			"cutblock": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: cutblock PATH BUCKET")
				}
				db, err := bolt.Open(ts.MkAbs(args[0]), 0o600, &bolt.Options{Timeout: 5 * time.Second})
				ts.Check(err)
				defer db.Close()
				ts.Check(db.Update(func(tx *bolt.Tx) error {
					b := tx.Bucket([]byte(args[1]))
					if b == nil {
						return fmt.Errorf("%s: no bucket %s", args[0], args[1])
					}
					var keys [][]byte
					b.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
					if len(keys) < 3 {
						return fmt.Errorf("%s: bucket %s has only %d values", args[0], args[1], len(keys))
					}
					mid := keys[len(keys)/2]
					v := b.Get(mid)
					return b.Put(mid, bytes.Clone(v[:len(v)/2]))
				}))
			},
			// tinyfs DIR SIZE mounts a tmpfs of SIZE (e.g. 2m) on DIR, to
			// fill it up. Guard it with [tinyfs]: only root (as on CI)
			// can mount one.
			"tinyfs": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: tinyfs DIR SIZE")
				}
				dir := ts.MkAbs(args[0])
				ts.Check(os.MkdirAll(dir, 0o700))
				ts.Check(mountTmpfs(dir, args[1]))
				ts.Defer(func() { unmount(dir) })
			},
			// mode PERM PATH checks a file's permission bits.
			"mode": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: mode PERM PATH")
				}
				st, err := os.Stat(ts.MkAbs(args[1]))
				ts.Check(err)
				got := strings.TrimPrefix(st.Mode().Perm().String(), "-")
				if (got == args[0]) == neg {
					ts.Fatalf("mode of %s is %s", args[1], got)
				}
			},
		},
	})
}
