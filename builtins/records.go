package builtins

import (
	"time"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// Record schemas of the language surface (design §3). Field names are the
// snake_case of the Lync property names. Schemas are immutable once built.
var (
	userSchema = lang.NewSchema("user",
		"identity", "sip_address", "display_name", "user_principal_name", "sam_account_name",
		"domain", "distinguished_name", "enabled", "registrar_pool", "line_uri",
		"enterprise_voice_enabled", "site", "pin_policy",
		// directory attributes (store.User; ldap_filter names them as AD does)
		"title", "department", "city", "company", "mail", "given_name", "surname", "telephone_number", "member_of",
	).Columns("identity", "display_name", "enabled", "site", "line_uri", "pin_policy")

	pinInfoSchema = lang.NewSchema("pin_info",
		"identity", "display_name", "is_pin_set", "is_locked_out", "locked_by", "is_pin_expired",
		"last_pin_change_time", "pin_expiration_time", "failed_attempts", "temporarily_locked_until",
	).Columns("identity", "is_pin_set", "is_locked_out", "locked_by", "is_pin_expired", "pin_expiration_time")

	policySchema = lang.NewSchema("pin_policy",
		"identity", "min_password_length", "pin_history_count", "pin_lifetime",
		"allow_common_patterns", "maximum_logon_attempts", "description")

	roleSchema = lang.NewSchema("admin_role", "identity", "builtins", "members", "is_standard_role", "template").
			Columns("identity", "is_standard_role", "members")

	auditSchema = lang.NewSchema("audit_entry", "time", "operator", "action", "target", "outcome", "detail", "acted_by")

	summarySchema = lang.NewSchema("summary", "action", "changed", "skipped", "failed", "whatif").OneLine()

	// newPinSchema is the record of a generated PIN: precious (see
	// lang.Precious), and its pin a secret (lang.Schema.Secret), so that
	// it is always shown, written or read by the script; givenPinSchema
	// is the record of a PIN the admin gave (pin undefined).
	newPinSchema   = lang.NewSchema("new_pin", "identity", "display_name", "pin").Secret("pin")
	givenPinSchema = lang.NewSchema("new_pin", "identity", "display_name", "pin")

	verifySchema = lang.NewSchema("verify_result", "identity", "ok", "reason").OneLine()
)

func str(s string) tengo.Object { return &tengo.String{Value: s} }

// optStr is s, or undefined when s is empty.
func optStr(s string) tengo.Object {
	if s == "" {
		return tengo.UndefinedValue
	}
	return str(s)
}

func boolean(b bool) tengo.Object {
	if b {
		return tengo.TrueValue
	}
	return tengo.FalseValue
}

func integer(n int) tengo.Object { return &tengo.Int{Value: int64(n)} }

// timeOrUndefined is t as a time, or undefined when t is zero.
func timeOrUndefined(t time.Time) tengo.Object {
	if t.IsZero() {
		return tengo.UndefinedValue
	}
	return lang.NewTime(t)
}

func strings2array(ss []string) tengo.Object {
	arr := make([]tengo.Object, len(ss))
	for i, s := range ss {
		arr[i] = str(s)
	}
	return &tengo.ImmutableArray{Value: arr}
}

// userRecord is u as a record; its payload is its userFields, a userSource,
// so a builtin given the record needs no identity lookup. Its fields are
// made when first read: a pipeline over a million users reads few of them.
func userRecord(u store.User) *lang.Record {
	return lang.NewFieldsRecord(userSchema, userFields{u})
}

// userFields makes the fields of a user record.
type userFields struct{ u store.User }

func (f *userFields) ref() userRef { return userRef{f.u.ID, f.u.SipAddress} }

func (f *userFields) Field(i int) tengo.Object {
	u := &f.u
	switch i {
	case 0:
		return str(u.Identity())
	case 1:
		return str(u.SipAddress)
	case 2:
		return optStr(u.DisplayName)
	case 3:
		return optStr(u.UserPrincipalName)
	case 4:
		return optStr(u.SamAccountName)
	case 5:
		return optStr(u.Domain)
	case 6:
		return optStr(u.DistinguishedName)
	case 7:
		return boolean(u.Enabled)
	case 8:
		return optStr(u.RegistrarPool)
	case 9:
		return optStr(u.LineURI)
	case 10:
		return boolean(u.EnterpriseVoiceEnabled)
	case 11:
		return optStr(u.Site)
	case 12:
		return optStr(u.PinPolicy)
	case 13:
		return optStr(u.Title)
	case 14:
		return optStr(u.Department)
	case 15:
		return optStr(u.City)
	case 16:
		return optStr(u.Company)
	case 17:
		return optStr(u.Mail)
	case 18:
		return optStr(u.GivenName)
	case 19:
		return optStr(u.Surname)
	case 20:
		return optStr(u.TelephoneNumber)
	case 21:
		return strings2array(u.MemberOf) // no groups: an empty array, as PowerShell's MemberOf
	}
	return nil
}

// pinInfoRecord is p as a record at time now, its fields made when first
// read; its payload is its pinInfoFields, a userSource.
// pin_expiration_time is never (prints empty, is after every time) for a
// PIN that never expires and for a user without a PIN, so that comparing
// it with a time never fails a pipeline and never counts such a user as
// expired (facts §9.8).
func pinInfoRecord(p store.PinInfo, now time.Time) *lang.Record {
	return lang.NewFieldsRecord(pinInfoSchema, pinInfoFields{p, now})
}

// pinInfoFields makes the fields of a pin_info record.
type pinInfoFields struct {
	p   store.PinInfo
	now time.Time // is_pin_expired and temporarily_locked_until are judged at now
}

func (f *pinInfoFields) ref() userRef { return userRef{f.p.ID, f.p.Identity} }

func (f *pinInfoFields) Field(i int) tengo.Object { return pinInfoField(&f.p, f.now, i) }

// pinInfoKinds are the kinds of value each field of a pin_info record
// holds (pinInfoField), for the where functions Go judges itself
// (lang.FieldTest).
var pinInfoKinds = []lang.Kinds{
	lang.KindString,                      // identity
	lang.KindString | lang.KindUndefined, // display_name
	lang.KindBool,                        // is_pin_set
	lang.KindBool,                        // is_locked_out
	lang.KindString | lang.KindUndefined, // locked_by
	lang.KindBool,                        // is_pin_expired
	lang.KindTime | lang.KindUndefined,   // last_pin_change_time
	lang.KindTime,                        // pin_expiration_time (never included)
	lang.KindInt,                         // failed_attempts
	lang.KindTime | lang.KindUndefined,   // temporarily_locked_until
}

// pinInfoUserFields are the fields of a pin_info record that come from its
// user rather than its PIN state: identity and display_name.
const pinInfoUserFields = 2

// pinInfoView is the fields of p at now without a copy of p: what a
// pushed-down where function reads.
type pinInfoView struct {
	p   *store.PinInfo
	now time.Time
}

func (v *pinInfoView) Field(i int) tengo.Object { return pinInfoField(v.p, v.now, i) }

// pinInfoField is field i of the pin_info record of p at now.
func pinInfoField(p *store.PinInfo, now time.Time, i int) tengo.Object {
	switch i {
	case 0:
		return str(p.Identity)
	case 1:
		return optStr(p.DisplayName)
	case 2:
		return boolean(p.IsSet)
	case 3:
		return boolean(p.IsLockedOut())
	case 4:
		return optStr(p.LockedBy.String())
	case 5:
		return boolean(p.IsExpired(now))
	case 6:
		return timeOrUndefined(p.LastChange)
	case 7:
		if p.IsSet && !p.Expires.IsZero() {
			return lang.NewTime(p.Expires)
		}
		return lang.Never()
	case 8:
		return integer(p.GlobalFailures)
	case 9:
		if p.TempLockUntil.After(now) {
			return lang.NewTime(p.TempLockUntil)
		}
	}
	return nil
}

func policyRecord(p store.Policy) *lang.Record {
	maxAttempts := tengo.Object(tengo.UndefinedValue)
	if p.MaximumLogonAttempts > 0 {
		maxAttempts = integer(p.MaximumLogonAttempts)
	}
	return lang.NewRecord(policySchema, []tengo.Object{
		str(p.Identity), integer(p.MinPasswordLength), integer(p.PinHistoryCount), integer(p.PinLifetime),
		boolean(p.AllowCommonPatterns), maxAttempts, optStr(p.Description),
	}, nil)
}

func roleRecord(r store.Role) *lang.Record {
	return lang.NewRecord(roleSchema, []tengo.Object{
		str(r.Identity), strings2array(r.Builtins), strings2array(r.Members),
		boolean(r.IsStandardRole), optStr(r.Template),
	}, nil)
}

func auditRecord(e store.AuditEntry) *lang.Record {
	return lang.NewRecord(auditSchema, []tengo.Object{
		lang.NewTime(e.Time), str(e.Operator), str(e.Action), optStr(e.Target), str(e.Outcome), optStr(e.Detail), optStr(e.ActedBy),
	}, e.Seq)
}

// summary counts what a mutating builtin did.
type summary struct {
	action                   string
	changed, skipped, failed int
	whatIf                   bool
}

func (s *summary) record() *lang.Record {
	return lang.NewRecord(summarySchema, []tengo.Object{
		str(s.action), integer(s.changed), integer(s.skipped), integer(s.failed), boolean(s.whatIf),
	}, nil)
}
