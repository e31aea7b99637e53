package boltstore

// Benchmarks with a million users. They run only under -bench, one
// iteration each being meaningful:
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./store/boltstore/
//
// Each prints its figures with ReportMetric (seconds, per-user costs, and
// the ratios the closing note of issue 2 asks for).

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/importfmt"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

const million = 1_000_000

// benchStore opens a new store with production options (the real hashing
// parameters) in dir.
func benchStore(b *testing.B, dir string) *Store {
	b.Helper()
	s, err := Open(filepath.Join(dir, "pinsh.db"), Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchOp() store.Op {
	return store.Op{Operator: "bench", Now: time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)}
}

// generated builds a database of n synthetic users (half with a PIN) and
// returns its path (closed).
func generated(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	s := benchStore(b, dir)
	if err := sample.Generate(context.Background(), s, benchOp(), n, nil); err != nil {
		b.Fatal(err)
	}
	s.Close()
	return s.Path()
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	dst.Close()
}

func reopen(b *testing.B, path string) *Store {
	b.Helper()
	s, err := Open(path, Options{KeyFile: filepath.Join(filepath.Dir(path), "pin.key")})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkGenerate1M: `pinsh generate 1000000` (target: under a minute).
func BenchmarkGenerate1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		s := benchStore(b, dir)
		start := time.Now()
		if err := sample.Generate(context.Background(), s, benchOp(), million, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/1M-users")
		s.Close()
		st, _ := os.Stat(s.Path())
		b.ReportMetric(float64(st.Size())/(1<<20), "db-MiB")
	}
}

// writeCSV writes n users as CSV with our field names.
func writeCSV(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sip_address,user_principal_name,sam_account_name,domain,display_name,distinguished_name,line_uri,registrar_pool,site,enabled")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "sip:user%07d@contoso.com,user%07d@contoso.com,user%07d,contoso,User %07d,\"CN=User %07d,OU=Users%d,DC=contoso,DC=com\",tel:+1425%07d,pool01.contoso.com,Redmond,true\n",
			i, i, i, i, i, i/10000, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

func runSQLite(b *testing.B, db string, args ...string) time.Duration {
	b.Helper()
	d, _ := runSQLiteCPU(b, db, args...)
	return d
}

// runSQLiteCPU runs sqlite3 and returns its wall and CPU (user+system)
// time. The machine is shared: CPU time shows the work when wall time is
// skewed by other load.
func runSQLiteCPU(b *testing.B, db string, args ...string) (wall, cpu time.Duration) {
	b.Helper()
	start := time.Now()
	cmd := exec.Command("sqlite3", append([]string{db}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("sqlite3 %v: %v\n%s", args, err, out)
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// cpuTime is the CPU time (user+system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImportCSV1M imports a million CSV rows (parse with importfmt +
// store) and, for comparison, has sqlite3 .import the same file into a new
// on-disk database. ratio = pinsh / sqlite3 (target: at most 1).
func BenchmarkImportCSV1M(b *testing.B) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		b.Skip("sqlite3 is not installed")
	}
	dir := b.TempDir()
	csv := filepath.Join(dir, "users.csv")
	writeCSV(b, csv, million)
	st, _ := os.Stat(csv)
	for i := 0; i < b.N; i++ {
		sdir := b.TempDir()
		s := benchStore(b, sdir)
		cpu0 := cpuTime()
		start := time.Now()
		f, err := os.Open(csv)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := s.ImportUsers(context.Background(), benchOp(), storeRows(importfmt.Rows(bufio.NewReaderSize(f, 1<<20), importfmt.CSV)), nil)
		took := time.Since(start)
		cpu := cpuTime() - cpu0
		f.Close()
		if err != nil || rep.Imported != million || len(rep.Bad) != 0 {
			b.Fatalf("import: %d imported, %d bad, %v", rep.Imported, len(rep.Bad), err)
		}
		s.Close()
		lite, liteCPU := runSQLiteCPU(b, filepath.Join(sdir, "lite.db"), "-cmd", ".mode csv", ".import "+csv+" users")
		b.ReportMetric(took.Seconds(), "pinsh-s")
		b.ReportMetric(cpu.Seconds(), "pinsh-cpu-s")
		b.ReportMetric(lite.Seconds(), "sqlite3-s")
		b.ReportMetric(liteCPU.Seconds(), "sqlite3-cpu-s")
		b.ReportMetric(took.Seconds()/lite.Seconds(), "ratio")
		b.ReportMetric(float64(st.Size())/(1<<20), "csv-MiB")
	}
}

// scanJoin walks all users joined with their PIN state in chunks of 1024:
// fused (ScanPinInfos) or as two calls per chunk (ScanUsers + PinInfos, as
// get_users() | pin_info runs without fusion). It calls fn with each chunk.
func scanJoin(b *testing.B, s *Store, fused bool, fn func([]store.PinInfo)) {
	ctx := context.Background()
	var after store.UserID
	for {
		var ps []store.PinInfo
		var next store.UserID
		var err error
		if fused {
			ps, next, err = s.ScanPinInfos(ctx, store.UserQuery{}, after, 1024)
		} else {
			var us []store.User
			us, next, err = s.ScanUsers(ctx, store.UserQuery{}, after, 1024)
			if err == nil {
				ids := make([]store.UserID, len(us))
				for j, u := range us {
					ids[j] = u.ID
				}
				ps, err = s.PinInfos(ctx, ids)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		fn(ps)
		if next == 0 {
			return
		}
		after = next
	}
}

// BenchmarkScanJoin1M reads every user joined with its PIN state through
// the store (get_users() | pin_info).
func BenchmarkScanJoin1M(b *testing.B) {
	path := generated(b, million)
	s := reopen(b, path)
	defer s.Close()
	for _, fused := range []bool{false, true} {
		name := "ScanUsers+PinInfos"
		if fused {
			name = "ScanPinInfos"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				start := time.Now()
				n, set := 0, 0
				scanJoin(b, s, fused, func(ps []store.PinInfo) {
					for _, p := range ps {
						if p.IsSet {
							set++
						}
					}
					n += len(ps)
				})
				if n != million || set != million/2 {
					b.Fatalf("scanned %d users, %d with a PIN", n, set)
				}
				d := time.Since(start)
				b.ReportMetric(d.Seconds(), "s/1M")
				b.ReportMetric(float64(d.Nanoseconds())/million, "ns/user")
			}
		})
	}
}

// BenchmarkLockSet1M runs the pipeline get_users() | pin_info |
// where(is_pin_set) | lock_pin through the store: chunks of 1024 read, the
// PINs that are set locked in batches of lockBatch (with an audit entry
// each). The PINs already locked (10% of those set) are skipped. It also
// times sqlite3's UPDATE users SET is_locked_out=1 WHERE is_pin_set=1 on a
// million rows, half with a PIN.
func BenchmarkLockSet1M(b *testing.B) {
	path := generated(b, million)
	ctx := context.Background()
	for _, v := range []struct {
		fused     bool
		lockBatch int
	}{{false, 1024}, {false, 65536}, {true, 65536}} {
		name := fmt.Sprintf("unfused/batch=%d", v.lockBatch)
		if v.fused {
			name = fmt.Sprintf("fused/batch=%d", v.lockBatch)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				work := filepath.Join(b.TempDir(), "pinsh.db")
				copyFile(b, path, work)
				copyFile(b, filepath.Join(filepath.Dir(path), "pin.key"), filepath.Join(filepath.Dir(work), "pin.key"))
				s := reopen(b, work)
				b.StartTimer()
				start := time.Now()
				var lockTime time.Duration
				var pending []store.UserID
				changed := 0
				flush := func() {
					t := time.Now()
					res, err := s.LockPins(ctx, benchOp(), pending)
					if err != nil {
						b.Fatal(err)
					}
					lockTime += time.Since(t)
					for _, r := range res {
						if r.Outcome == store.Changed {
							changed++
						}
					}
					pending = pending[:0]
				}
				scanJoin(b, s, v.fused, func(ps []store.PinInfo) {
					for _, p := range ps {
						if p.IsSet {
							pending = append(pending, p.ID)
						}
					}
					if len(pending) >= v.lockBatch {
						flush()
					}
				})
				flush()
				total := time.Since(start)
				b.StopTimer()
				s.Close()
				if changed != 400000 {
					b.Fatalf("locked %d PINs, want 400000", changed)
				}
				b.ReportMetric(total.Seconds(), "pipeline-s")
				b.ReportMetric(lockTime.Seconds(), "lock-s")
			}
		})
	}
	b.Run("sqlite3", func(b *testing.B) {
		if _, err := exec.LookPath("sqlite3"); err != nil {
			b.Skip("sqlite3 is not installed")
		}
		dir := b.TempDir()
		csv := filepath.Join(dir, "users.csv")
		writeCSV(b, csv, million)
		db := filepath.Join(dir, "lite.db")
		runSQLite(b, db, "-cmd", ".mode csv", ".import "+csv+" users")
		runSQLite(b, db, "ALTER TABLE users ADD COLUMN is_pin_set INTEGER; ALTER TABLE users ADD COLUMN is_locked_out INTEGER; UPDATE users SET is_pin_set = 1 - rowid % 2, is_locked_out = 0;")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d := runSQLite(b, db, "UPDATE users SET is_locked_out=1 WHERE is_pin_set=1")
			b.ReportMetric(d.Seconds(), "update-s")
			b.StopTimer()
			runSQLite(b, db, "UPDATE users SET is_locked_out=0")
			b.StartTimer()
		}
	})
}

// plainDB builds the baseline for the store's overhead: the same records
// (same encodings) written the obvious way, one bbolt key per user in a
// "users" and a "pins" bucket, half the users with a PIN.
func plainDB(b *testing.B) *bolt.DB {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "plain.db"), 0o600, &bolt.Options{PageSize: 16 << 10, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	now := benchOp().Now
	for start := 1; start <= million; start += 100000 {
		err := db.Update(func(tx *bolt.Tx) error {
			ub, _ := tx.CreateBucketIfNotExists([]byte("users"))
			pb, _ := tx.CreateBucketIfNotExists([]byte("pins"))
			tx.CreateBucketIfNotExists([]byte("audit"))
			ub.FillPercent, pb.FillPercent = 1, 1
			for i := start; i < start+100000; i++ {
				u := store.User{SipAddress: fmt.Sprintf("sip:user%07d@contoso.com", i), DisplayName: fmt.Sprintf("User %07d", i),
					UserPrincipalName: fmt.Sprintf("user%07d@contoso.com", i), SamAccountName: fmt.Sprintf("user%07d", i), Domain: "contoso",
					DistinguishedName: fmt.Sprintf("CN=User %07d,OU=Users%d,OU=Synthetic,DC=contoso,DC=com", i, i/10000),
					LineURI:           fmt.Sprintf("tel:+1425%07d;ext=%d", i, i%10000), RegistrarPool: "pool01.contoso.com", Site: "Redmond", Enabled: true}
				k := uidKey(store.UserID(i))
				if err := ub.Put(k, encodeUser(nil, &u)); err != nil {
					return err
				}
				if i%2 == 0 {
					st := store.PinState{IsSet: true, Length: 5, LastChange: now}
					if i%20 == 0 {
						st.LockedBy = store.LockedByAdmin
					}
					if err := pb.Put(k, encodePin(nil, &st)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkPlainScanJoin1M: the hand-written bbolt loop equivalent of
// BenchmarkScanJoin1M (one transaction, two cursors, same decoding).
func BenchmarkPlainScanJoin1M(b *testing.B) {
	db := plainDB(b)
	defer db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		n, set := 0, 0
		db.View(func(tx *bolt.Tx) error {
			pc := tx.Bucket([]byte("pins")).Cursor()
			pk, pv := pc.First()
			var st store.PinState
			tx.Bucket([]byte("users")).ForEach(func(k, v []byte) error {
				id := keyUID(k)
				u := decodeUser(id, v)
				p := store.PinInfo{ID: id, Identity: u.SipAddress, DisplayName: u.DisplayName}
				for pk != nil && keyUID(pk) < id {
					pk, pv = pc.Next()
				}
				if pk != nil && keyUID(pk) == id {
					decodePin(pv, &st)
					p.IsSet = st.IsSet
				}
				if p.IsSet {
					set++
				}
				n++
				return nil
			})
			return nil
		})
		if n != million || set != million/2 {
			b.Fatalf("scanned %d, %d set", n, set)
		}
		d := time.Since(start)
		b.ReportMetric(d.Seconds(), "s/1M")
		b.ReportMetric(float64(d.Nanoseconds())/million, "ns/user")
	}
}

// BenchmarkPlainLockSet1M: the hand-written bbolt loop equivalent of the
// lock stage: every set, unlocked PIN locked with a Put, an audit entry per
// lock under an 8-byte sequence key, in transactions of 65536 locks.
func BenchmarkPlainLockSet1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := plainDB(b)
		b.StartTimer()
		start := time.Now()
		locked := 0
		var seq uint64
		var after []byte
		for done := false; !done; {
			err := db.Update(func(tx *bolt.Tx) error {
				pb := tx.Bucket([]byte("pins"))
				ab := tx.Bucket([]byte("audit"))
				ab.FillPercent = 1
				var keys, vals [][]byte
				c := pb.Cursor()
				k, v := c.First()
				if after != nil {
					k, v = c.Seek(after)
					if k != nil && string(k) == string(after) {
						k, v = c.Next()
					}
				}
				var st store.PinState
				for ; k != nil && len(keys) < 65536; k, v = c.Next() {
					decodePin(v, &st)
					if !st.IsSet || st.LockedBy != store.NotLocked {
						continue
					}
					st.LockedBy = store.LockedByAdmin
					keys = append(keys, append([]byte(nil), k...))
					vals = append(vals, encodePin(nil, &st))
				}
				done = k == nil
				for j, key := range keys {
					if err := pb.Put(key, vals[j]); err != nil {
						return err
					}
					seq++
					var sk [8]byte
					binary.BigEndian.PutUint64(sk[:], seq)
					e := store.AuditEntry{Time: benchOp().Now, Operator: "bench", Action: "lock_pin",
						Target: fmt.Sprintf("sip:user%07d@contoso.com", keyUID(key)), Outcome: "ok"}
					var prev store.AuditEntry
					if err := ab.Put(sk[:], appendAuditEntry(nil, &prev, &e)); err != nil {
						return err
					}
					locked++
				}
				if len(keys) > 0 {
					after = keys[len(keys)-1]
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		d := time.Since(start)
		b.StopTimer()
		db.Close()
		if locked != 450000 {
			b.Fatalf("locked %d, want 450000", locked)
		}
		b.ReportMetric(d.Seconds(), "lock-s")
	}
}

// BenchmarkSetPins10k sets 10,000 PINs with the default hashing parameters,
// in requests of 256 as set_pin sends them (target: under 60 s).
func BenchmarkSetPins10k(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		s := benchStore(b, dir)
		if err := sample.Generate(ctx, s, benchOp(), 10000, nil); err != nil {
			b.Fatal(err)
		}
		var reqs []store.SetPinRequest
		var after store.UserID
		for {
			us, next, _ := s.ScanUsers(ctx, store.UserQuery{}, after, 1024)
			for _, u := range us {
				reqs = append(reqs, store.SetPinRequest{ID: u.ID})
			}
			if next == 0 {
				break
			}
			after = next
		}
		s.UnlockPins(ctx, benchOp(), func() []store.UserID {
			ids := make([]store.UserID, len(reqs))
			for j, r := range reqs {
				ids[j] = r.ID
			}
			return ids
		}())
		b.StartTimer()
		start := time.Now()
		for j := 0; j < len(reqs); j += 256 {
			res, err := s.SetPins(ctx, benchOp(), reqs[j:min(j+256, len(reqs))])
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		}
		d := time.Since(start)
		b.StopTimer()
		s.Close()
		b.ReportMetric(d.Seconds(), "s/10k")
		p := pinhash.DefaultParams()
		b.ReportMetric(float64(p.MemoryKiB), "argon2-KiB")
	}
}

// BenchmarkVerifyPin is the latency of one verify_pin with the default
// hashing parameters (one argon2id evaluation plus two transactions).
func BenchmarkVerifyPin(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, b.TempDir())
	defer s.Close()
	if err := sample.Seed(ctx, s, benchOp()); err != nil {
		b.Fatal(err)
	}
	us, _ := s.FindUsers(ctx, "Pilar Ackerman")
	b.ResetTimer()
	for b.Loop() {
		if v, err := s.VerifyPin(ctx, benchOp(), us[0].ID, sample.PilarPIN); err != nil || !v.OK {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkCheckFile1M is the whole-file check a Store runs before its
// first write (beforeWrite), on a million users: its cost is what the
// first change of a session pays when the file changed since the last
// check.
func BenchmarkCheckFile1M(b *testing.B) {
	path := generated(b, million)
	fi, _ := os.Stat(path)
	s := reopen(b, path)
	defer s.Close()
	b.ResetTimer()
	for range b.N {
		if err := checkTx(s.db, s.path, checkFile, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/check")
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
}
