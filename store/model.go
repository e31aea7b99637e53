// Package store is pinsh's data model and the interface to its persistence:
// the user directory, per-user PIN state, PIN policies, admin roles and the
// audit log. Backends (see store/boltstore) implement Store and must pass the
// contract tests in store/storetest.
package store

import (
	"reflect"
	"slices"
	"time"
)

// UserID is a user's internal key: assigned once when the user is created,
// never reused, and never shown to admins (they see Identity). Scans return
// users in UserID order, so a UserID is also the resume point of a chunked read.
type UserID uint64

// User is one directory entry (Get-CsUser). String fields are stored as given,
// except SipAddress, which is canonical: "sip:" + lower-case address.
type User struct {
	ID                     UserID
	SipAddress             string // canonical identity, e.g. "sip:kenmyer@litwareinc.com"
	DisplayName            string
	UserPrincipalName      string
	SamAccountName         string // logon name without the domain
	Domain                 string // NetBIOS domain of domain\logon
	DistinguishedName      string
	Enabled                bool
	RegistrarPool          string
	LineURI                string // e.g. "tel:+14255550100;ext=100"
	EnterpriseVoiceEnabled bool
	Site                   string // site name used for site:NAME policies
	PinPolicy              string // name of the granted per-user (tag:) policy, or ""

	// Directory attributes of the account, as Active Directory names them
	// (csvde and ldifde export them; get_users' ldap_filter selects on
	// them). pinsh keeps them as given and never derives them.
	Title           string   // title
	Department      string   // department
	City            string   // l (locality)
	Company         string   // company
	Mail            string   // mail
	GivenName       string   // givenName
	Surname         string   // sn
	TelephoneNumber string   // telephoneNumber, as written ("+1 (425) 555-0101")
	MemberOf        []string // memberOf: distinguished names of the user's groups
}

// Equal reports whether u and v hold the same values; a nil and an empty
// MemberOf are equal. (A User is not comparable with ==: MemberOf is a
// slice.)
func (u User) Equal(v User) bool {
	if !slices.Equal(u.MemberOf, v.MemberOf) {
		return false
	}
	u.MemberOf, v.MemberOf = nil, nil
	return reflect.DeepEqual(u, v)
}

// Identity is the canonical identity of the user: its SIP address.
func (u User) Identity() string { return u.SipAddress }

// LockSource says who locked a PIN.
type LockSource uint8

const (
	NotLocked LockSource = iota
	LockedByAdmin
	LockedBySystem
)

// String returns "", "admin" or "system".
func (l LockSource) String() string {
	switch l {
	case LockedByAdmin:
		return "admin"
	case LockedBySystem:
		return "system"
	}
	return ""
}

// PinState is the PIN data kept per user, apart from the user record so that
// bulk lock and unlock rewrite little. Zero times mean "never" / "not set".
type PinState struct {
	IsSet      bool
	LockedBy   LockSource
	LastChange time.Time // may be set even when IsSet is false
	Expires    time.Time // zero: never expires; fixed when the PIN is set
	Length     int       // digits in the current PIN; drives lockout limits

	// Hash is the encoded keyed, salted hash of the current PIN (see
	// store/pinhash); History holds earlier hashes, newest first.
	Hash    []byte
	History [][]byte

	// Two-tier lockout (facts §6).
	LocalFailures  int       // failures in the current observation window
	GlobalFailures int       // failures since the last admin unlock
	WindowStart    time.Time // start of the observation window; zero: none open
	TempLockUntil  time.Time // temporary lock end; zero: not temporarily locked
}

// PinInfo is what Get-CsClientPinInfo shows: never the PIN or its hash.
type PinInfo struct {
	ID             UserID
	Identity       string
	DisplayName    string
	Enabled        bool
	IsSet          bool
	LockedBy       LockSource
	LastChange     time.Time
	Expires        time.Time
	LocalFailures  int
	GlobalFailures int
	TempLockUntil  time.Time
}

// IsLockedOut reports whether the PIN is locked by an admin or the system.
func (p PinInfo) IsLockedOut() bool { return p.LockedBy != NotLocked }

// IsExpired reports whether the PIN has an expiry that is not after now.
func (p PinInfo) IsExpired(now time.Time) bool {
	return p.IsSet && !p.Expires.IsZero() && !p.Expires.After(now)
}

// Policy is a PIN policy (CsPinPolicy). Identity is "global", "site:NAME" or
// "tag:NAME". MaximumLogonAttempts 0 means unset (limits follow PIN length).
type Policy struct {
	Identity             string
	MinPasswordLength    int // 4-24, default 5
	PinHistoryCount      int // 0-20, default 0
	PinLifetime          int // days, 0-999, default 0 (never expires)
	AllowCommonPatterns  bool
	MaximumLogonAttempts int // 0 (unset) or 1-999
	Description          string
}

// Role is an admin role (CsAdminRole): the builtins its members may run.
type Role struct {
	Identity       string
	Builtins       []string
	Members        []string
	IsStandardRole bool
	Template       string // for a custom role: the built-in role it copies
}

// AuditEntry records one change or one refused attempt. Detail never holds a
// PIN or a hash.
type AuditEntry struct {
	Seq      uint64 // assigned by the store; increases with every entry
	Time     time.Time
	Operator string
	ActedBy  string // the account that acted for Operator (--as), or ""
	Action   string // builtin name, e.g. "lock_pin"
	Target   string // canonical identity, policy identity or role
	Outcome  string // "ok", "denied", "failed", "skipped", or a verify_pin reason
	Detail   string
}
