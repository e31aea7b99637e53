package store

import (
	"fmt"
	"strings"

	"github.com/pinsh/pinsh/internal/cut"
)

// Policy field ranges and defaults (facts §6).
const (
	MinPinLengthLow, MinPinLengthHigh, DefaultMinPinLength = 4, 24, 5
	PinHistoryLow, PinHistoryHigh, DefaultPinHistory       = 0, 20, 0
	PinLifetimeLow, PinLifetimeHigh, DefaultPinLifetime    = 0, 999, 0
	LogonAttemptsLow, LogonAttemptsHigh                    = 1, 999 // 0 means unset
)

// GlobalPolicy is the identity of the one global policy.
const GlobalPolicy = "global"

// DefaultPolicy returns a policy with identity and every field at its
// default.
func DefaultPolicy(identity string) Policy {
	return Policy{
		Identity:          identity,
		MinPasswordLength: DefaultMinPinLength,
		PinHistoryCount:   DefaultPinHistory,
		PinLifetime:       DefaultPinLifetime,
	}
}

// ParsePolicyIdentity checks a policy identity and returns its canonical
// form: "global", "site:NAME" or "tag:NAME" (scope lower-case, NAME as given
// but trimmed), and its storage key (the canonical form lower-cased: policy
// identities are case-insensitive). As in the Lync cmdlets, a NAME without
// a scope is the per-user policy tag:NAME, and "global" in any case is the
// global policy. It fails with ErrInvalid, saying why, where the identity
// could be read more than one way: an unknown scope ("stie:Redmond" is not
// taken for a per-user policy), a wildcard (identities name one policy; a
// filter takes wildcards), and a per-user policy named "global" or with a
// ':' in its name (its bare NAME, as a user's pin_policy field shows it,
// would read as another identity).
func ParsePolicyIdentity(s string) (canonical, key string, err error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, GlobalPolicy) {
		return GlobalPolicy, GlobalPolicy, nil
	}
	scope, name, scoped := strings.Cut(t, ":")
	if scoped {
		scope = strings.ToLower(strings.TrimSpace(scope))
		name = strings.TrimSpace(name)
	} else {
		scope, name = "tag", t
	}
	bad := func(why string) (string, string, error) {
		return "", "", fieldErr("identity", s, ErrInvalid, "%s", why)
	}
	switch {
	case scope != "site" && scope != "tag":
		return bad(fmt.Sprintf("unknown policy scope %s; a policy identity is global, site:NAME, tag:NAME or NAME (a per-user policy)", cut.Quote(scope)))
	case name == "":
		return bad("a policy identity is global, site:NAME, tag:NAME or NAME (a per-user policy)")
	case strings.IndexFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		return bad("a policy name may not contain control characters")
	case strings.Contains(name, "*"):
		return bad(`an identity names one policy and takes no wildcard; get_pin_policy({filter: "tag:*"}) takes one`)
	case scope == "tag" && strings.EqualFold(name, GlobalPolicy):
		return bad(`a per-user policy may not be named global: its name would read as the global policy`)
	case scope == "tag" && strings.Contains(name, ":"):
		return bad(fmt.Sprintf("a per-user policy name may not contain ':' (%s would read as scope %s)", cut.Quote(name), cut.Quote(strings.ToLower(name[:strings.Index(name, ":")]))))
	}
	canonical = scope + ":" + name
	return canonical, strings.ToLower(canonical), nil
}

// MatchPolicyFilter reports whether the policy identity (canonical, as
// ParsePolicyIdentity returns it) matches pattern, a wildcard in the manner
// of Get-CsPinPolicy -Filter: '*' matches any run of characters, and case
// does not matter ("tag:*", "site:S*", "*redmond*").
func MatchPolicyFilter(pattern, identity string) bool {
	return MatchWildcard(strings.ToLower(strings.TrimSpace(pattern)), strings.ToLower(identity))
}

// TagPolicyKey returns the storage key of the tag policy granted as name
// ("NAME" or "tag:NAME").
func TagPolicyKey(name string) string {
	n := strings.TrimSpace(name)
	if hasPrefixFold(n, "tag:") {
		n = strings.TrimSpace(n[len("tag:"):])
	}
	return "tag:" + strings.ToLower(n)
}

// SitePolicyKey returns the storage key of the policy of site.
func SitePolicyKey(site string) string { return "site:" + strings.ToLower(strings.TrimSpace(site)) }

// Validate checks every field of p against its range and the rule that a
// lifetime above 0 needs a history count above 0. Errors are *FieldError
// values wrapping ErrPolicyRange.
func (p Policy) Validate() error {
	if err := (PolicyChanges{MinPasswordLength: &p.MinPasswordLength, PinHistoryCount: &p.PinHistoryCount,
		PinLifetime: &p.PinLifetime, MaximumLogonAttempts: &p.MaximumLogonAttempts}).Check(); err != nil {
		return err
	}
	if p.PinLifetime > 0 && p.PinHistoryCount == 0 {
		return fieldErr("pin_lifetime", fmt.Sprint(p.PinLifetime), ErrPolicyRange,
			"a PIN lifetime above 0 needs pin_history_count above 0; set pin_history_count too")
	}
	return nil
}

// Check checks each field c sets against its range (MaximumLogonAttempts
// 0 unsets it), the checks that do not depend on the policy changed: the
// rule that a lifetime needs a history count is checked by Apply. Errors are
// *FieldError values wrapping ErrPolicyRange.
func (c PolicyChanges) Check() error {
	for _, f := range []struct {
		field  string
		v      *int
		lo, hi int
	}{
		{"min_password_length", c.MinPasswordLength, MinPinLengthLow, MinPinLengthHigh},
		{"pin_history_count", c.PinHistoryCount, PinHistoryLow, PinHistoryHigh},
		{"pin_lifetime", c.PinLifetime, PinLifetimeLow, PinLifetimeHigh},
		{"maximum_logon_attempts", c.MaximumLogonAttempts, LogonAttemptsLow, LogonAttemptsHigh},
	} {
		if f.v == nil || (f.field == "maximum_logon_attempts" && *f.v == 0) {
			continue
		}
		if *f.v < f.lo || *f.v > f.hi {
			return fieldErr(f.field, fmt.Sprint(*f.v), ErrPolicyRange, "out of range: must be %d to %d", f.lo, f.hi)
		}
	}
	return nil
}

// Apply returns p with the changes made, validated (see Validate).
func (c PolicyChanges) Apply(p Policy) (Policy, error) {
	if c.MinPasswordLength != nil {
		p.MinPasswordLength = *c.MinPasswordLength
	}
	if c.PinHistoryCount != nil {
		p.PinHistoryCount = *c.PinHistoryCount
	}
	if c.PinLifetime != nil {
		p.PinLifetime = *c.PinLifetime
	}
	if c.AllowCommonPatterns != nil {
		p.AllowCommonPatterns = *c.AllowCommonPatterns
	}
	if c.MaximumLogonAttempts != nil {
		p.MaximumLogonAttempts = *c.MaximumLogonAttempts
	}
	if c.Description != nil {
		p.Description = *c.Description
	}
	return p, p.Validate()
}

// EffectivePolicy picks the policy of u: its granted tag policy, else its
// site's policy, else the global one. lookup returns the policy stored under
// a key (TagPolicyKey, SitePolicyKey, GlobalPolicy).
func EffectivePolicy(u User, lookup func(key string) (Policy, bool)) Policy {
	if u.PinPolicy != "" {
		if p, ok := lookup(TagPolicyKey(u.PinPolicy)); ok {
			return p
		}
	}
	if u.Site != "" {
		if p, ok := lookup(SitePolicyKey(u.Site)); ok {
			return p
		}
	}
	if p, ok := lookup(GlobalPolicy); ok {
		return p
	}
	return DefaultPolicy(GlobalPolicy)
}

// DescribePolicy is the audit detail of a policy change: its settings.
func DescribePolicy(p Policy) string {
	return fmt.Sprintf("min_password_length=%d pin_history_count=%d pin_lifetime=%d allow_common_patterns=%v maximum_logon_attempts=%d",
		p.MinPasswordLength, p.PinHistoryCount, p.PinLifetime, p.AllowCommonPatterns, p.MaximumLogonAttempts)
}

// NewPolicyFrom is the policy a new site or tag policy identity gets: the
// defaults, then changes c; key is its storage key. The global policy
// always exists, so it is refused with ErrDuplicate.
func NewPolicyFrom(identity string, c PolicyChanges) (p Policy, key string, err error) {
	canon, key, err := ParsePolicyIdentity(identity)
	if err != nil {
		return Policy{}, "", err
	}
	if canon == GlobalPolicy {
		return Policy{}, "", fmt.Errorf("policy global: %w (there is always one); change it with set_pin_policy", ErrDuplicate)
	}
	p, err = c.Apply(DefaultPolicy(canon))
	if err != nil {
		return Policy{}, "", err
	}
	return p, key, nil
}
