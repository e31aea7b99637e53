package store

import (
	"fmt"
	"strings"
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
// identities are case-insensitive). It fails with ErrInvalid otherwise.
func ParsePolicyIdentity(s string) (canonical, key string, err error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, GlobalPolicy) {
		return GlobalPolicy, GlobalPolicy, nil
	}
	scope, name, ok := strings.Cut(t, ":")
	scope = strings.ToLower(strings.TrimSpace(scope))
	name = strings.TrimSpace(name)
	if !ok || (scope != "site" && scope != "tag") || name == "" ||
		strings.IndexFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return "", "", fieldErr("identity", s, ErrInvalid, "a policy identity is global, site:NAME or tag:NAME")
	}
	canonical = scope + ":" + name
	return canonical, strings.ToLower(canonical), nil
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
	check := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fieldErr(field, fmt.Sprint(v), ErrPolicyRange, "out of range: must be %d to %d", lo, hi)
		}
		return nil
	}
	if err := check("min_password_length", p.MinPasswordLength, MinPinLengthLow, MinPinLengthHigh); err != nil {
		return err
	}
	if err := check("pin_history_count", p.PinHistoryCount, PinHistoryLow, PinHistoryHigh); err != nil {
		return err
	}
	if err := check("pin_lifetime", p.PinLifetime, PinLifetimeLow, PinLifetimeHigh); err != nil {
		return err
	}
	if p.MaximumLogonAttempts != 0 {
		if err := check("maximum_logon_attempts", p.MaximumLogonAttempts, LogonAttemptsLow, LogonAttemptsHigh); err != nil {
			return err
		}
	}
	if p.PinLifetime > 0 && p.PinHistoryCount == 0 {
		return fieldErr("pin_lifetime", fmt.Sprint(p.PinLifetime), ErrPolicyRange,
			"a PIN lifetime above 0 needs pin_history_count above 0; set pin_history_count too")
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
