package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
)

// migrateChunk is how many users or audit entries pinsh migrate reads and
// writes at a time.
const migrateChunk = 2048

// migrateSample is how many PIN hashes pinsh migrate decodes after the
// copy to check the key they were made with.
const migrateSample = 100

// migrateEnd is the source or the destination of pinsh migrate.
type migrateEnd struct {
	name    string // as given: a file path or a URL
	st      store.Store
	account string // who runs pinsh there (the OS account for a file)
	remote  remoteDB
}

func (e *migrateEnd) close() {
	if e.st != nil {
		e.st.Close()
	}
	if e.remote != nil {
		e.remote.Close()
	}
}

// openMigrateEnd opens name, a file path or a database URL. The source
// (create false) must exist; it is opened for writing all the same, so that
// a file's lock keeps other pinsh runs from changing it during the copy,
// and so that the copy is audited there. The destination is created when
// it does not exist, with its account as CsAdministrator.
func (a *app) openMigrateEnd(ctx context.Context, cfg *config, clock *builtins.Clock, name string, create bool) (*migrateEnd, error) {
	e := &migrateEnd{name: name}
	opts := boltstore.Options{KeyFile: cfg.keyPath, Now: clock.Now}
	if remoteScheme(name) != "" {
		r, err := connectRemote(ctx, name, a.getenv)
		if err != nil {
			return nil, err
		}
		e.remote = r
		var warning string
		e.account, warning = r.Account()
		if warning != "" {
			warnAdvisory(a.stderr, warning)
		}
		if create {
			opts.Creator = e.account
		}
		st, _, err := r.Open(ctx, opts)
		if err != nil {
			r.Close()
			return nil, err
		}
		e.st = st
		return e, nil
	}
	e.account = boltstore.Operator()
	if _, err := os.Stat(name); err != nil {
		if !create {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	opts.Creator = e.account
	st, err := boltstore.Open(name, opts)
	if err != nil {
		return nil, err
	}
	e.st = st
	return e, nil
}

// dirSummary counts what a directory holds.
type dirSummary struct {
	users, pins, policies, customRoles, audit int
	globalChanged                             bool
	lastSeq                                   uint64
	onlyCreated                               bool // its audit log holds only its creation
}

// summarize counts the directory of st.
func summarize(ctx context.Context, st store.Store) (dirSummary, error) {
	var d dirSummary
	var after store.UserID
	for {
		infos, next, err := st.ScanPinInfos(ctx, store.UserQuery{}, after, migrateChunk)
		if err != nil {
			return d, err
		}
		for _, p := range infos {
			d.users++
			if p.IsSet {
				d.pins++
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	pols, err := st.Policies(ctx)
	if err != nil {
		return d, err
	}
	d.policies = len(pols)
	for _, p := range pols {
		if p.Identity == store.GlobalPolicy && p != store.DefaultPolicy(store.GlobalPolicy) {
			d.globalChanged = true
		}
	}
	roles, err := st.Roles(ctx)
	if err != nil {
		return d, err
	}
	for _, r := range roles {
		if !r.IsStandardRole {
			d.customRoles++
		}
	}
	d.onlyCreated = true
	var seq uint64
	for {
		es, next, err := st.ScanAudit(ctx, store.AuditQuery{}, seq, migrateChunk)
		if err != nil {
			return d, err
		}
		for _, e := range es {
			d.audit++
			d.lastSeq = e.Seq
			if e.Action != "create_database" {
				d.onlyCreated = false
			}
		}
		if next == 0 {
			break
		}
		seq = next
	}
	return d, nil
}

// empty reports whether a directory holds nothing but what creating it
// made.
func (d dirSummary) empty() bool {
	return d.users == 0 && d.policies == 1 && !d.globalChanged && d.customRoles == 0 && d.onlyCreated
}

func (d dirSummary) String() string {
	return fmt.Sprintf("%s users (%s with a PIN), %s policies, %s custom roles, %s audit entries",
		thousands(d.users), thousands(d.pins), thousands(d.policies), thousands(d.customRoles), thousands(d.audit))
}

// runMigrate runs pinsh migrate --from SRC --to DST: it copies a whole
// directory (users with their PIN state, hashes included; policies; roles;
// the audit log, entries as they were) from one database to another, of
// either kind, and then verifies the copy. Both accounts must be
// CsAdministrators of their databases: the copy reads every PIN hash.
func (a *app) runMigrate(cfg *config) int {
	clock := clockFor(cfg)
	ctx, stop := interruptible(context.Background(), nil)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintln(a.stderr, "pinsh migrate:", err)
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return exitInterrupted
		}
		return exitStatus(err, nil)
	}
	src, err := a.openMigrateEnd(ctx, cfg, clock, cfg.migrateFrom, false)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh migrate: --from:", err)
		return exitDatabase
	}
	defer src.close()
	dst, err := a.openMigrateEnd(ctx, cfg, clock, cfg.migrateTo, true)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh migrate: --to:", err)
		return exitDatabase
	}
	defer dst.close()
	srcOp := store.Op{Operator: src.account, Now: clock.Now()}
	dstOp := store.Op{Operator: dst.account, Now: clock.Now()}
	if err := requireRole(ctx, src.st, srcOp, store.CsAdministrator, "migrate"); err != nil {
		return fail(fmt.Errorf("--from %s: %w", src.name, err))
	}
	if err := requireRole(ctx, dst.st, dstOp, store.CsAdministrator, "migrate"); err != nil {
		return fail(fmt.Errorf("--to %s: %w", dst.name, err))
	}
	have, err := summarize(ctx, src.st)
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", src.name, err))
	}
	before, err := summarize(ctx, dst.st)
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", dst.name, err))
	}
	if !before.empty() && !cfg.migrateMerge {
		return fail(fmt.Errorf("%s is not empty (%s); migrate copies into a new or empty directory. To copy into this one all the same, add --merge: users it already has are then refused as duplicates, and its own entries stay in its audit log", dst.name, before))
	}
	if cfg.whatIf {
		fmt.Fprintf(a.stdout, "What if: would copy %s from %s to %s, and verify the copy\n", have, src.name, dst.name)
		return exitOK
	}
	m := &migration{src: src, dst: dst, srcOp: srcOp, dstOp: dstOp, keyFile: cfg.keyPath}
	// Every hash must have been made with the key of --key: checked before
	// anything is copied.
	if err := eachRecord(ctx, src.st, func(rec store.UserRecord) error { return m.checkKey(rec) }); err != nil {
		return fail(err)
	}
	report, err := m.copy(ctx)
	if err != nil {
		err = fmt.Errorf("%w; %s now holds part of the copy: remove it (a file: delete it; etcd: etcdctl del --prefix NAME/) and run migrate again", err, dst.name)
	} else {
		err = m.verify(ctx, have, before, &report)
	}
	outcome, detail := "ok", fmt.Sprintf("copied %s from %s to %s", have, src.name, dst.name)
	if err != nil {
		outcome, detail = "failed", detail+": "+err.Error()
	}
	if aerr := dst.st.Audit(ctx, dstOp, store.AuditEntry{Action: "migrate", Target: src.name, Outcome: outcome, Detail: cut.Message(detail)}); aerr != nil {
		err = errors.Join(err, fmt.Errorf("audit the migration in %s: %w", dst.name, aerr))
	}
	if aerr := src.st.Audit(ctx, srcOp, store.AuditEntry{Action: "migrate", Target: dst.name, Outcome: outcome, Detail: cut.Message(detail)}); aerr != nil {
		err = errors.Join(err, fmt.Errorf("audit the migration in %s: %w", src.name, aerr))
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(a.stdout, "copied %s from %s to %s\n", have, src.name, dst.name)
	if report.bad > 0 {
		fmt.Fprintf(a.stdout, "refused %s users already in %s (see the audit log of the copy)\n", thousands(report.bad), dst.name)
	}
	fmt.Fprintf(a.stdout, "verified: %s\n", report.verified)
	return exitOK
}

// migration is one run of pinsh migrate.
type migration struct {
	src, dst     *migrateEnd
	srcOp, dstOp store.Op
	keyFile      string
	key          *pinhash.Key // the key the hashes were made with; nil: no PIN seen yet
}

// migrateReport is what a copy did.
type migrateReport struct {
	auditFrom uint64 // the destination's last audit entry before the copy
	users     int    // users copied
	bad       int    // users refused (--merge: already there)
	badFirst  []store.RowError
	verified  string
}

// copy copies the audit log first (so that the destination's log reads in
// order: its creation, the source's history, then the copy's own
// entries), then the policies, the roles and the users.
func (m *migration) copy(ctx context.Context) (migrateReport, error) {
	var r migrateReport
	d, err := summarize(ctx, m.dst.st)
	if err != nil {
		return r, err
	}
	r.auditFrom = d.lastSeq
	var seq uint64
	for {
		es, next, err := m.src.st.ScanAudit(ctx, store.AuditQuery{}, seq, migrateChunk)
		if err != nil {
			return r, fmt.Errorf("read the audit log of %s: %w", m.src.name, err)
		}
		if len(es) > 0 {
			if err := m.dst.st.CopyAudit(ctx, es); err != nil {
				return r, err
			}
		}
		if next == 0 {
			break
		}
		seq = next
	}
	if err := m.copyPolicies(ctx); err != nil {
		return r, err
	}
	if err := m.copyRoles(ctx); err != nil {
		return r, err
	}
	return m.copyUsers(ctx, r)
}

// policyChanges sets every field of p.
func policyChanges(p store.Policy) store.PolicyChanges {
	return store.PolicyChanges{
		MinPasswordLength: &p.MinPasswordLength, PinHistoryCount: &p.PinHistoryCount, PinLifetime: &p.PinLifetime,
		AllowCommonPatterns: &p.AllowCommonPatterns, MaximumLogonAttempts: &p.MaximumLogonAttempts, Description: &p.Description,
	}
}

func (m *migration) copyPolicies(ctx context.Context) error {
	pols, err := m.src.st.Policies(ctx)
	if err != nil {
		return fmt.Errorf("read the policies of %s: %w", m.src.name, err)
	}
	for _, p := range pols {
		have, err := m.dst.st.Policy(ctx, p.Identity)
		switch {
		case err == nil && have == p:
			continue
		case err == nil:
			_, err = m.dst.st.SetPolicy(ctx, m.dstOp, p.Identity, policyChanges(p))
		case errors.Is(err, store.ErrNotFound):
			_, err = m.dst.st.NewPolicy(ctx, m.dstOp, p.Identity, policyChanges(p))
		}
		if err != nil {
			return fmt.Errorf("copy policy %s: %w", p.Identity, err)
		}
	}
	return nil
}

// copyRoles makes the custom roles and adds every member; a member of the
// destination that the source does not have (its creator) stays.
func (m *migration) copyRoles(ctx context.Context) error {
	roles, err := m.src.st.Roles(ctx)
	if err != nil {
		return fmt.Errorf("read the roles of %s: %w", m.src.name, err)
	}
	have, err := m.dst.st.Roles(ctx)
	if err != nil {
		return fmt.Errorf("read the roles of %s: %w", m.dst.name, err)
	}
	members := map[string][]string{}
	for _, r := range have {
		members[strings.ToLower(r.Identity)] = r.Members
	}
	for _, r := range roles {
		old, ok := members[strings.ToLower(r.Identity)]
		if !ok {
			if _, err := m.dst.st.NewRole(ctx, m.dstOp, r.Identity, r.Template); err != nil {
				return fmt.Errorf("copy role %s: %w", r.Identity, err)
			}
		}
		for _, mem := range r.Members {
			if slices.ContainsFunc(old, func(o string) bool { return strings.EqualFold(o, mem) }) {
				continue
			}
			if err := m.dst.st.AddRoleMember(ctx, m.dstOp, r.Identity, mem); err != nil {
				return fmt.Errorf("copy role %s: add %s: %w", r.Identity, mem, err)
			}
		}
	}
	return nil
}

// copyUsers loads the source's users with their PIN state into the
// destination. Every hash must have been made with the key of --key: the
// destination checks PINs with that key, and records its id.
func (m *migration) copyUsers(ctx context.Context, r migrateReport) (migrateReport, error) {
	var scanErr error
	rows := func(yield func(store.LoadRow) bool) {
		var after store.UserID
		line := 0
		for {
			recs, next, err := m.src.st.ScanRecords(ctx, after, migrateChunk)
			if err != nil {
				scanErr = fmt.Errorf("read the users of %s: %w", m.src.name, err)
				return
			}
			for _, rec := range recs {
				if err := m.checkKey(rec); err != nil {
					scanErr = err
					return
				}
				line++
				if !yield(store.LoadRow{Line: line, User: rec.User, State: rec.State}) {
					return
				}
			}
			if next == 0 {
				return
			}
			after = next
		}
	}
	rep, err := m.dst.st.LoadUsers(ctx, m.dstOp, rows, nil)
	r.users, r.bad, r.badFirst = rep.Imported, rep.BadCount, rep.Bad
	if scanErr != nil {
		return r, scanErr
	}
	if err != nil {
		return r, fmt.Errorf("copy the users into %s: %w", m.dst.name, err)
	}
	return r, nil
}

// checkKey refuses a hash made with another key than the one of --key.
func (m *migration) checkKey(rec store.UserRecord) error {
	for _, h := range append([][]byte{rec.State.Hash}, rec.State.History...) {
		if h == nil {
			continue
		}
		d, err := pinhash.Decode(h)
		if err != nil {
			return fmt.Errorf("%s: the PIN hash of %s: %w", m.src.name, rec.User.SipAddress, err)
		}
		if m.key == nil {
			k, err := pinhash.LoadKey(m.keyFile, false)
			if err != nil {
				return fmt.Errorf("%w: the PINs of %s need the key file they were hashed with (key %s), and --key names none: %v; give it with --key", store.ErrKey, m.src.name, d.KeyID, err)
			}
			m.key = &k
		}
		if d.KeyID != m.key.ID() {
			return fmt.Errorf("%w: the PINs of %s were hashed with key %s, but %s holds key %s: give the source's key file with --key", store.ErrKey, m.src.name, d.KeyID, m.keyFile, m.key.ID())
		}
	}
	return nil
}

// verify compares the copy with the source: the counts; every copied
// user's record and whole PIN state, hashes byte for byte; the policies;
// the roles' members; every copied audit entry. The plain PINs are not
// known, so no PIN can be tried: a PIN verifies in the destination as in
// the source when its hash is the same bytes and the destination checks
// it with the key the hash was made with. verify decodes a sample of the
// hashes to show that key's id is the one of --key, which the destination
// now records.
func (m *migration) verify(ctx context.Context, have, before dirSummary, r *migrateReport) error {
	after, err := summarize(ctx, m.dst.st)
	if err != nil {
		return fmt.Errorf("verify: read %s: %w", m.dst.name, err)
	}
	var problems []string
	if want := before.users + have.users - r.bad; after.users != want || r.users != have.users-r.bad {
		problems = append(problems, fmt.Sprintf("%s has %d users, want %d", m.dst.name, after.users, want))
	}
	srcUsers := map[string][32]byte{}
	var sample [][]byte
	if err := eachRecord(ctx, m.src.st, func(rec store.UserRecord) error {
		srcUsers[rec.User.SipAddress] = recordDigest(rec)
		return nil
	}); err != nil {
		return fmt.Errorf("verify: read %s: %w", m.src.name, err)
	}
	same, pins := 0, 0
	if err := eachRecord(ctx, m.dst.st, func(rec store.UserRecord) error {
		want, ok := srcUsers[rec.User.SipAddress]
		if !ok {
			return nil
		}
		delete(srcUsers, rec.User.SipAddress)
		if want != recordDigest(rec) {
			if len(problems) < 10 {
				problems = append(problems, fmt.Sprintf("user %s differs", rec.User.SipAddress))
			}
			return nil
		}
		same++
		if rec.State.IsSet {
			pins++
			if len(sample) < migrateSample {
				sample = append(sample, rec.State.Hash)
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("verify: read %s: %w", m.dst.name, err)
	}
	if len(srcUsers) > r.bad {
		problems = append(problems, fmt.Sprintf("%d users of %s are missing from %s", len(srcUsers)-r.bad, m.src.name, m.dst.name))
	}
	for _, h := range sample {
		d, err := pinhash.Decode(h)
		if err != nil || m.key == nil || d.KeyID != m.key.ID() {
			problems = append(problems, "a copied PIN hash was not made with the key of --key")
			break
		}
	}
	problems = append(problems, m.verifyPolicies(ctx)...)
	problems = append(problems, m.verifyRoles(ctx)...)
	copied, p := m.verifyAudit(ctx, r.auditFrom)
	problems = append(problems, p...)
	if len(problems) > 0 {
		return fmt.Errorf("the copy differs from its source: %s", strings.Join(problems, "; "))
	}
	keyNote := "no PIN is set"
	if m.key != nil {
		keyNote = fmt.Sprintf("%d sampled hashes carry key %s, the key of %s, which %s now records: each PIN verifies there as it did in %s",
			len(sample), m.key.ID(), m.keyFile, m.dst.name, m.src.name)
	}
	r.verified = fmt.Sprintf("%s users equal field by field with their PIN state, hashes and history byte for byte (%s PINs set); %s; policies and roles equal; %s audit entries equal in order",
		thousands(same), thousands(pins), keyNote, thousands(copied))
	return nil
}

// eachRecord visits every user of st with its whole PIN state, until fn
// fails.
func eachRecord(ctx context.Context, st store.Store, fn func(store.UserRecord) error) error {
	var after store.UserID
	for {
		recs, next, err := st.ScanRecords(ctx, after, migrateChunk)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		after = next
	}
}

// recordDigest sums up a user and its PIN state, without the user's ID
// (the destination assigns its own).
func recordDigest(r store.UserRecord) [32]byte {
	r.User.ID = 0
	if len(r.User.MemberOf) == 0 {
		r.User.MemberOf = nil
	}
	st := &r.State
	for _, t := range []*time.Time{&st.LastChange, &st.Expires, &st.WindowStart, &st.TempLockUntil} {
		*t = t.UTC()
	}
	if len(st.History) == 0 {
		st.History = nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a UserRecord always encodes
	}
	return sha256.Sum256(b)
}

func (m *migration) verifyPolicies(ctx context.Context) []string {
	want, err := m.src.st.Policies(ctx)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range want {
		got, err := m.dst.st.Policy(ctx, p.Identity)
		if err != nil || got != p {
			out = append(out, fmt.Sprintf("policy %s differs", p.Identity))
		}
	}
	return out
}

func (m *migration) verifyRoles(ctx context.Context) []string {
	want, err := m.src.st.Roles(ctx)
	if err != nil {
		return []string{err.Error()}
	}
	got, err := m.dst.st.Roles(ctx)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, w := range want {
		i := slices.IndexFunc(got, func(g store.Role) bool { return strings.EqualFold(g.Identity, w.Identity) })
		if i < 0 {
			out = append(out, fmt.Sprintf("role %s is missing", w.Identity))
			continue
		}
		g := got[i]
		if !slices.Equal(g.Builtins, w.Builtins) || g.Template != w.Template {
			out = append(out, fmt.Sprintf("role %s differs", w.Identity))
		}
		for _, mem := range w.Members {
			if !slices.ContainsFunc(g.Members, func(o string) bool { return strings.EqualFold(o, mem) }) {
				out = append(out, fmt.Sprintf("role %s lacks member %s", w.Identity, mem))
			}
		}
	}
	return out
}

// verifyAudit compares the source's audit log with the entries copied
// after the destination's entry from, in order, and returns how many.
func (m *migration) verifyAudit(ctx context.Context, from uint64) (int, []string) {
	var srcSeq, dstSeq uint64 = 0, from
	var want, got []store.AuditEntry
	n := 0
	for {
		if len(want) == 0 && srcSeq != ^uint64(0) {
			es, next, err := m.src.st.ScanAudit(ctx, store.AuditQuery{}, srcSeq, migrateChunk)
			if err != nil {
				return n, []string{err.Error()}
			}
			want, srcSeq = es, next
			if next == 0 {
				srcSeq = ^uint64(0)
			}
		}
		if len(want) == 0 {
			return n, nil
		}
		if len(got) == 0 {
			es, next, err := m.dst.st.ScanAudit(ctx, store.AuditQuery{}, dstSeq, migrateChunk)
			if err != nil {
				return n, []string{err.Error()}
			}
			got, dstSeq = es, next
			if len(got) == 0 {
				return n, []string{fmt.Sprintf("%s lacks audit entries from seq %d of %s on", m.dst.name, want[0].Seq, m.src.name)}
			}
		}
		k := min(len(want), len(got))
		for i := range k {
			if !sameEntry(want[i], got[i]) {
				return n, []string{fmt.Sprintf("audit entry %d of %s differs from its copy %d", want[i].Seq, m.src.name, got[i].Seq)}
			}
			n++
		}
		want, got = want[k:], got[k:]
	}
}

// sameEntry compares two audit entries but for their sequence numbers.
func sameEntry(a, b store.AuditEntry) bool {
	a.Seq, b.Seq = 0, 0
	return a.Time.Equal(b.Time) && a.Operator == b.Operator && a.ActedBy == b.ActedBy && a.Action == b.Action &&
		a.Target == b.Target && a.Outcome == b.Outcome && a.Detail == b.Detail
}
