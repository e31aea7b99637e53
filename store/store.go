package store

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/pinsh/pinsh/store/pinhash"
)

// Op is the context of one mutating call: who makes the change and when.
// The store never reads the wall clock for domain decisions (expiry, lockout
// windows, audit times); callers pass the time, so tests can freeze and
// advance it.
type Op struct {
	Operator string // whose roles allow the change; the audit's operator
	// ActedBy is the authenticated account that acts for Operator (pinsh
	// --as on a real database, allowed to a CsAdministrator); empty when
	// the account acts as itself. The audit records both.
	ActedBy string
	Now     time.Time
}

// Check reports whether op can be used for a change: both fields are required.
func (op Op) Check() error {
	if op.Operator == "" {
		return errors.New("no operator given for the change")
	}
	if op.Now.IsZero() {
		return errors.New("no time given for the change")
	}
	return nil
}

// Outcome is what happened to one item of a batch.
type Outcome uint8

const (
	Changed Outcome = iota // the change was made and committed
	Skipped                // nothing to do (e.g. already locked); Err says why
	Failed                 // the item could not be changed; Err says why
)

// String returns "changed", "skipped" or "failed".
func (o Outcome) String() string {
	switch o {
	case Changed:
		return "changed"
	case Skipped:
		return "skipped"
	}
	return "failed"
}

// ItemResult reports one item of a batched change. A result with Outcome
// Changed is only returned after the transaction holding it has committed.
// Err is nil for Changed, and otherwise says why (errors.Is-able against the
// sentinels of this package, e.g. ErrNoPin, ErrNotFound).
type ItemResult struct {
	ID       UserID
	Identity string // canonical identity, or "" when the user does not exist
	Outcome  Outcome
	Err      error
}

// UserQuery selects users for ScanUsers. The zero value selects everyone.
type UserQuery struct {
	// OU is a distinguished name such as "OU=Redmond,DC=litwareinc,DC=com":
	// users whose DN lies under it (child OUs included). Matching is
	// case-insensitive and ignores spaces around ',' and '='.
	OU string
	// Filter, when not nil, keeps only the users for which it returns true.
	// It runs inside a read transaction and must not call the store.
	Filter func(User) bool
	// Pin, when not zero, keeps only the users whose PIN state it matches
	// (PinQuery.Match; a user without PIN state matches as a PinInfo with
	// no PIN): where({is_pin_set: true}) after get_users() | pin_info,
	// evaluated in the scan.
	Pin PinQuery
}

// Want is a wanted truth value in a PinQuery: WantAny sets no condition.
type Want uint8

const (
	WantAny Want = iota
	WantTrue
	WantFalse
)

// holds reports whether v is wanted.
func (w Want) holds(v bool) bool { return w == WantAny || (w == WantTrue) == v }

// PinQuery selects users by their PIN state, as a field map selects
// pin_info records: each field that is set must hold, the rest are free.
// The zero value selects everyone. A backend evaluates it with Match, so
// the pushed-down form selects exactly what the field map would; its
// contract is storetest.RunPinQuery.
type PinQuery struct {
	IsSet       Want       // is_pin_set
	IsLockedOut Want       // is_locked_out (locked by an admin or the system)
	IsExpired   Want       // is_pin_expired at Now (see PinInfo.IsExpired)
	LockedBy    LockSource // locked_by: when not NotLocked, locked by this source
	Now         time.Time  // the time IsExpired and Func judge at
	// Func, when not nil, must hold too: a test of the PIN state judged at
	// now (where(func(p) { ... }) proven to be a plain test of fields). It
	// reads only the PIN fields of p (IsSet, LockedBy, LastChange,
	// Expires, the failure counts, TempLockUntil), never its user's
	// (ID, Identity, DisplayName, Enabled), so that a backend may judge
	// every user without PIN state at once by Match(&PinInfo{}). It runs
	// inside the backend's read and must not call the store.
	Func func(p *PinInfo, now time.Time) bool
}

// IsZero reports whether q selects everyone.
func (q PinQuery) IsZero() bool {
	return q.IsSet == WantAny && q.IsLockedOut == WantAny && q.IsExpired == WantAny && q.LockedBy == NotLocked &&
		q.Func == nil
}

// Match reports whether the PIN state of p is selected by q.
func (q PinQuery) Match(p *PinInfo) bool {
	return q.IsSet.holds(p.IsSet) && q.IsLockedOut.holds(p.IsLockedOut()) &&
		(q.IsExpired == WantAny || q.IsExpired.holds(p.IsExpired(q.Now))) &&
		(q.LockedBy == NotLocked || p.LockedBy == q.LockedBy) &&
		(q.Func == nil || q.Func(p, q.Now))
}

// ImportRow is one parsed input row for ImportUsers. Its fields match
// importfmt.Row, so an importfmt row converts with store.ImportRow(row).
// A row with Err set is bad: it is reported with its Line and skipped.
type ImportRow struct {
	Line int
	User User
	Err  error
}

// LoadRow is one row for LoadUsers: a user and its PIN state, for trusted,
// pre-built directories (the sample directory, synthetic users).
type LoadRow struct {
	Line int
	User User
	// Pin, when not empty, is hashed by the store (with the database's key)
	// and becomes State's hash; State.IsSet and State.Length follow it.
	// Rows of one LoadUsers call with the same Pin share one hash (one
	// salt): meant for synthetic data, where hashing every row would cost
	// hours. State's other fields are stored as given.
	Pin   string
	State PinState
}

// RowError is one rejected import row.
type RowError struct {
	Line int
	Err  error
}

// Error returns "line N: reason".
func (e RowError) Error() string { return "line " + itoa(e.Line) + ": " + e.Err.Error() }

// ImportReport sums up an import: how many users were added, how many rows
// were bad, and the first MaxBadRows of them with their line numbers and
// reasons, in line order. A file of millions of bad rows costs no more
// memory than one of MaxBadRows.
type ImportReport struct {
	Imported int
	Bad      []RowError // the bad rows of the lowest lines, at most MaxBadRows
	BadCount int        // all bad rows
}

// MaxBadRows is how many bad rows an ImportReport keeps in full.
const MaxBadRows = 20

// AddBad counts a bad row and keeps it if it may be among the MaxBadRows of
// the lowest lines. Rows may come in any order; call Sort when all are in.
func (r *ImportReport) AddBad(e RowError) {
	r.BadCount++
	r.Bad = append(r.Bad, e)
	if len(r.Bad) >= 2*MaxBadRows {
		r.Sort()
	}
}

// Merge adds the counts and bad rows of o to r, and sorts r.
func (r *ImportReport) Merge(o ImportReport) {
	r.Imported += o.Imported
	r.BadCount += o.BadCount
	r.Bad = append(r.Bad, o.Bad...)
	r.Sort()
}

// Sort puts Bad in line order and keeps its first MaxBadRows.
func (r *ImportReport) Sort() {
	slices.SortStableFunc(r.Bad, func(a, b RowError) int { return cmp.Compare(a.Line, b.Line) })
	if len(r.Bad) > MaxBadRows {
		clear(r.Bad[MaxBadRows:]) // let the dropped errors go
		r.Bad = r.Bad[:MaxBadRows]
	}
}

// SetPinRequest asks SetPins to set one user's PIN.
type SetPinRequest struct {
	ID UserID
	// Pin is the new PIN; "" asks the store to generate one.
	Pin string
	// EnforceHistory refuses a PIN equal to the current one or one of the
	// policy's remembered earlier PINs. Admin resets leave it false (facts
	// §4); a user's own change sets it.
	EnforceHistory bool
}

// SetPinResult reports one SetPins request. Pin holds the generated PIN when
// the request asked for one and the change committed; it is the only time a
// PIN leaves the store, and it is never stored or logged.
type SetPinResult struct {
	ItemResult
	DisplayName string // of the user, for a mail merge of generated PINs
	Pin         string
}

// VerifyResult is the result of one PIN logon attempt. Reason is one of
// "ok", "wrong_pin", "temporarily_locked", "locked", "expired", "no_pin",
// "disabled", "no_such_user".
type VerifyResult struct {
	OK     bool
	Reason string
}

// AuditQuery selects audit entries. Zero fields do not filter; the string
// fields match exactly (Target and Operator case-insensitively).
type AuditQuery struct {
	Since    time.Time // entries at or after Since
	Until    time.Time // entries before Until
	Operator string
	Action   string
	Target   string
}

// Match reports whether e is selected by q.
func (q AuditQuery) Match(e AuditEntry) bool {
	if !q.Since.IsZero() && e.Time.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !e.Time.Before(q.Until) {
		return false
	}
	if q.Action != "" && e.Action != q.Action {
		return false
	}
	if q.Operator != "" && !equalFold(e.Operator, q.Operator) && !equalFold(e.ActedBy, q.Operator) {
		return false
	}
	if q.Target != "" && !equalFold(e.Target, q.Target) {
		return false
	}
	return true
}

// PolicyChanges holds the fields to change in a policy; nil fields are left
// as they are (or at their defaults for a new policy). MaximumLogonAttempts
// 0 unsets the field.
type PolicyChanges struct {
	MinPasswordLength    *int
	PinHistoryCount      *int
	PinLifetime          *int
	AllowCommonPatterns  *bool
	MaximumLogonAttempts *int
	Description          *string
}

// Store is pinsh's persistence. Every backend implements it and passes the
// contract suite in store/storetest.
//
// Reads are chunked: a call reads at most what it returns inside one short
// read transaction and keeps nothing open afterwards, so callers may run
// arbitrary code (and other store calls, including writes) between chunks.
// Writes are batched: one call commits its items in one or a few
// transactions, and reports an item done only after its transaction
// committed. Every change is committed together with its audit entry.
//
// Errors wrap the sentinels of this package (errors.Is) and name the input
// that was wrong. Methods are safe for concurrent use.
type Store interface {
	Close() error

	// CreateUser adds u (u.ID is ignored and assigned). It normalizes u (see
	// NormalizeUser) and returns the stored user. Enabled is stored as given:
	// set it, the zero value is a disabled user. It fails with ErrInvalid or
	// ErrDuplicate (as a *FieldError naming the field and value), or
	// ErrNotFound when u.PinPolicy names no tag policy.
	CreateUser(ctx context.Context, op Op, u User) (User, error)
	// UpdateUser replaces the user u.ID with u, under the same rules as
	// CreateUser; the user's PIN state is kept. It fails with ErrNotFound when
	// there is no such user.
	UpdateUser(ctx context.Context, op Op, u User) (User, error)
	// RemoveUsers removes users and their PIN state. Missing users fail
	// with ErrNotFound; the others are removed.
	RemoveUsers(ctx context.Context, op Op, ids []UserID) ([]ItemResult, error)
	// Users reads users by ID. The result is aligned with ids; a missing
	// user is a zero User (ID 0).
	Users(ctx context.Context, ids []UserID) ([]User, error)
	// FindUsers resolves an identity in any form of facts §1 (SIP address
	// with or without "sip:", UPN, domain\logon, display name, distinguished
	// name), case-insensitively, through indexes. A display name may use the
	// '*' wildcard ("* Smith", "Pil*"). It returns every match in UserID
	// order (none: an empty slice and no error).
	FindUsers(ctx context.Context, identity string) ([]User, error)
	// ScanUsers returns up to limit users selected by q with ID > after, in
	// ID order. next is the after of the following chunk, or 0 when the scan
	// is complete; a chunk may hold fewer than limit users (even none) while
	// next is not 0, when a filter rejected many users.
	ScanUsers(ctx context.Context, q UserQuery, after UserID, limit int) (users []User, next UserID, err error)
	// ScanPinInfos is ScanUsers joined with PinInfos in one pass: the PIN
	// info of the users selected by q with ID > after, in ID order, chunked
	// the same way. It is the fused form of get_users() | pin_info.
	ScanPinInfos(ctx context.Context, q UserQuery, after UserID, limit int) (infos []PinInfo, next UserID, err error)
	// ImportUsers adds the users of rows in large batches. Bad rows (Err set,
	// invalid fields, duplicates of existing users or of earlier rows) are
	// reported in the ImportReport and skipped whole; good rows are imported.
	// progress, when not nil, is called with the running total after each
	// batch commits. An error is returned only when the import could not go
	// on (the report then counts what was committed).
	ImportUsers(ctx context.Context, op Op, rows iter.Seq[ImportRow], progress func(imported int)) (ImportReport, error)
	// LoadUsers is ImportUsers for rows that carry a PIN state (see LoadRow).
	LoadUsers(ctx context.Context, op Op, rows iter.Seq[LoadRow], progress func(imported int)) (ImportReport, error)

	// PinInfos reads the PIN state of users. The result is aligned with ids;
	// a missing user has an empty Identity.
	PinInfos(ctx context.Context, ids []UserID) ([]PinInfo, error)
	// SetPins sets PINs (see SetPinRequest). A given PIN must pass the
	// user's effective policy (the error is a *pinrule.RuleError); a locked
	// PIN is refused with ErrLocked ("unlock it first"). The expiry is fixed
	// now: Now + the effective policy's lifetime (never when 0). The
	// previous hash joins the history, kept to the policy's count.
	SetPins(ctx context.Context, op Op, reqs []SetPinRequest) ([]SetPinResult, error)
	// LockPins locks PINs as an admin. Users without a PIN (ErrNoPin) or
	// already locked (ErrAlreadyLocked) are skipped.
	LockPins(ctx context.Context, op Op, ids []UserID) ([]ItemResult, error)
	// UnlockPins lifts admin, system and temporary locks and resets both
	// failure counters. Users that are not locked are skipped (ErrNotLocked).
	UnlockPins(ctx context.Context, op Op, ids []UserID) ([]ItemResult, error)
	// VerifyPin makes one PIN logon attempt under the two-tier lockout of
	// facts §6 and records it in the audit log (never the PIN).
	VerifyPin(ctx context.Context, op Op, id UserID, pin string) (VerifyResult, error)
	// ResetKey makes key the PIN hashing key, for when the key the stored
	// PINs were hashed with is lost (pinsh reset-key): in one transaction it
	// clears every PIN (IsSet false, no hash or history, failure counts and
	// temporary locks gone; an admin lock stays), records key's id, and
	// audits a "reset_key" entry per cleared PIN (Target its user) and one
	// for the store. Later hashes use key. It returns how many PINs were
	// cleared, and fails with ErrKey when the PINs already use key.
	ResetKey(ctx context.Context, op Op, key pinhash.Key) (cleared int, err error)

	// Policies returns every policy: global first, then site and tag
	// policies by identity.
	Policies(ctx context.Context) ([]Policy, error)
	// Policy returns one policy ("global", "site:NAME", "tag:NAME", or
	// "NAME" for tag:NAME). The policy methods read identities with
	// ParsePolicyIdentity.
	Policy(ctx context.Context, identity string) (Policy, error)
	// NewPolicy creates a site or tag policy: defaults, then changes.
	NewPolicy(ctx context.Context, op Op, identity string, changes PolicyChanges) (Policy, error)
	// SetPolicy changes a policy. Out-of-range values fail with
	// ErrPolicyRange naming the field. Expiries of PINs already set do not
	// change.
	SetPolicy(ctx context.Context, op Op, identity string, changes PolicyChanges) (Policy, error)
	// RemovePolicy resets the global policy to its defaults, or removes a
	// site or tag policy; a tag policy is ungranted from its users.
	RemovePolicy(ctx context.Context, op Op, identity string) error
	// GrantPolicy grants the tag policy name ("tag:NAME" or "NAME") to
	// users; "" unassigns. Users that already have it are skipped.
	GrantPolicy(ctx context.Context, op Op, ids []UserID, name string) ([]ItemResult, error)
	// EffectivePolicy returns the policy that applies to a user: its tag
	// policy, else its site's policy, else the global policy.
	EffectivePolicy(ctx context.Context, id UserID) (Policy, error)

	// Roles returns the standard roles (in StandardRoles order) and then the
	// custom roles by identity.
	Roles(ctx context.Context) ([]Role, error)
	// NewRole creates a custom role with the builtins of the standard role
	// template.
	NewRole(ctx context.Context, op Op, identity, template string) (Role, error)
	// RemoveRole removes a custom role; standard roles fail with
	// ErrStandardRole.
	RemoveRole(ctx context.Context, op Op, identity string) error
	// AddRoleMember adds member to role (ErrDuplicate when already there).
	AddRoleMember(ctx context.Context, op Op, role, member string) error
	// RemoveRoleMember removes member from role (ErrNotFound when not
	// there; ErrLastAdmin for the last CsAdministrator).
	RemoveRoleMember(ctx context.Context, op Op, role, member string) error
	// RolesOf returns the roles operator is a member of.
	RolesOf(ctx context.Context, operator string) ([]Role, error)

	// Audit records an event that changes nothing else (e.g. a denied
	// command). Time and Operator come from op.
	Audit(ctx context.Context, op Op, e AuditEntry) error
	// ScanAudit returns up to limit entries selected by q with Seq >
	// afterSeq, oldest first. next is the afterSeq of the following chunk, or
	// 0 when the log has been read to its end.
	ScanAudit(ctx context.Context, q AuditQuery, afterSeq uint64, limit int) (entries []AuditEntry, next uint64, err error)

	// Copying a whole directory to another store (pinsh migrate), which no
	// builtin does: the hashes never leave pinsh.

	// ScanRecords returns up to limit users with ID > after with their
	// whole PIN state, hashes and history included, in ID order, chunked
	// as ScanUsers. Loaded with LoadUsers into another store whose PIN key
	// is the same, they make the same directory.
	ScanRecords(ctx context.Context, after UserID, limit int) (recs []UserRecord, next UserID, err error)
	// CopyAudit appends entries copied from another store's audit log after
	// the entries already there, in their order and as they are: Time,
	// Operator, ActedBy, Action, Target, Outcome and Detail are kept, Seq
	// is assigned anew. Every entry needs an Action and a Time
	// (ErrInvalid). It records history that happened elsewhere; a change
	// is never recorded this way.
	CopyAudit(ctx context.Context, entries []AuditEntry) error
}

// PinInfoAppender is implemented by a Store that can read a chunk of
// ScanPinInfos into the caller's slice: a scan of a million users then
// reuses one slice instead of making one per chunk.
type PinInfoAppender interface {
	// AppendPinInfos appends to dst what ScanPinInfos(ctx, q, after,
	// limit) returns, and returns the extended slice and next.
	AppendPinInfos(ctx context.Context, dst []PinInfo, q UserQuery, after UserID, limit int) (infos []PinInfo, next UserID, err error)
}

// AppendPinInfos appends a chunk of s.ScanPinInfos to dst, without a slice
// of its own when s is a PinInfoAppender.
func AppendPinInfos(ctx context.Context, s Store, dst []PinInfo, q UserQuery, after UserID, limit int) ([]PinInfo, UserID, error) {
	if a, ok := s.(PinInfoAppender); ok {
		return a.AppendPinInfos(ctx, dst, q, after, limit)
	}
	infos, next, err := s.ScanPinInfos(ctx, q, after, limit)
	return append(dst, infos...), next, err
}

// PinCounter is implemented by a Store that can count what ScanPinInfos
// would return without returning it: get_users() | pin_info | where(...) |
// count then makes no PIN info, and may read no user record.
type PinCounter interface {
	// CountPinInfos counts the users selected by q with ID > after, in
	// chunks as ScanPinInfos: it examines at most about limit users and
	// returns next, the after of the following chunk, or 0 when the scan
	// is complete. The counts of the chunks add up to the number of PIN
	// infos ScanPinInfos returns for q.
	CountPinInfos(ctx context.Context, q UserQuery, after UserID, limit int) (n int, next UserID, err error)
}

// CountPinInfos counts a chunk of what s.ScanPinInfos returns for q, as
// PinCounter does, without a PIN info when s is a PinCounter; otherwise
// it scans chunks of at most 4096 infos and counts them.
func CountPinInfos(ctx context.Context, s Store, q UserQuery, after UserID, limit int) (int, UserID, error) {
	if c, ok := s.(PinCounter); ok {
		return c.CountPinInfos(ctx, q, after, limit)
	}
	infos, next, err := s.ScanPinInfos(ctx, q, after, min(limit, 4096))
	return len(infos), next, err
}

// Changes is the lean report of a batched change (LeanChanger): how many
// items changed, and the result of each other item, in the order of the
// ids.
type Changes struct {
	Changed int
	Others  []ItemResult
}

// LeanChanger is implemented by a Store whose bulk changes can report
// leanly: LockPins, UnlockPins and GrantPolicy with a count of the items
// that changed and a result only for the others, so that a batch of
// 65,536 locks builds no result for the locks that simply happened. The
// changes, their audit entries and the other results are those of the
// full methods.
type LeanChanger interface {
	LockPinsLean(ctx context.Context, op Op, ids []UserID) (Changes, error)
	UnlockPinsLean(ctx context.Context, op Op, ids []UserID) (Changes, error)
	GrantPolicyLean(ctx context.Context, op Op, ids []UserID, name string) (Changes, error)
}

// Lean returns the results of a full batched method as Changes.
func Lean(res []ItemResult, err error) (Changes, error) {
	var c Changes
	for _, r := range res {
		if r.Outcome == Changed {
			c.Changed++
		} else {
			c.Others = append(c.Others, r)
		}
	}
	return c, err
}
