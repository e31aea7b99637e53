package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/importfmt"
	"github.com/pinsh/pinsh/store/ldapfilter"
)

// scanChunk is how many users get_users reads per store call.
const scanChunk = 1024

func (sh *Shell) userBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "get_users", Kind: lang.Source,
			Cmdlets:    []string{"Get-CsUser"},
			PowerShell: `Get-CsUser -Identity X -Filter {...} -LdapFilter "(...)" -ResultSize N -> get_users("X"), get_users({filter: {...}, ldap_filter: "(...)", result_size: N})`,
			Sig:        "get_users([identity | {identity, ou, filter, ldap_filter, result_size, error_action}])",
			Doc: `Get-CsUser: a stream of user records. With no argument, every user. With an
identity in any form (SIP address, UPN, domain\logon, display name,
distinguished name; case-insensitive) the users it names; the display-name
form takes the * wildcard ("* Smith", "Pil*"). As in Get-CsUser, an
identity that names no user is a per-item error ("get_users: ken: no such
user", shown on standard error; the exit status is 1; the stream is
empty); a wildcard that matches nobody gives an empty stream, no error.
With a map: identity; ou (a distinguished name: users under it, child OUs
included); filter (a function of the user record, or a map of field: value
that must all be equal, strings ignoring case; an undefined value or one
of the wrong kind is refused, as in where); ldap_filter (an LDAP search
filter, as Get-CsUser -LdapFilter takes it; below); result_size (the most
users to return); error_action for the no-such-user error ("stop",
"silently_continue", ...; see lock_pin). The keys combine: a user is
returned when it matches all of them. Fields: identity, sip_address,
display_name, user_principal_name, sam_account_name, domain,
distinguished_name, enabled, registrar_pool, line_uri,
enterprise_voice_enabled, site, pin_policy, and the directory attributes
title, department, city, company, mail, given_name, surname,
telephone_number and member_of (the DNs of the user's groups, an array).

ldap_filter is RFC 4515 syntax over the directory attributes, named as
Active Directory names them, in any case: title, department, l (city),
company, mail, givenName, sn, telephoneNumber, memberOf, displayName, cn,
sAMAccountName, userPrincipalName, distinguishedName, objectClass,
objectCategory, msRTCSIP-PrimaryUserAddress, -Line, -PrimaryHomeServer,
-UserEnabled. (attr=value) is equal, ignoring case and extra blanks as AD
does; (attr=*) has a value; (sn=Sm*), (title=*an*er) substrings;
(attr>=value), (attr<=value) order (ignoring case); (&(...)(...)) and,
(|(...)(...)) or, (!(...)) not; \XX is the byte XX in a value (a for a
literal *, 8 (, 9 ), c \). The outer parentheses may be left out, as
in Microsoft's examples ("Department=Finance",
"&(Department=Finance)(Title=Manager)"). memberOf and distinguishedName
compare whole DNs: (memberOf=CN=Finance,OU=Groups,DC=litwareinc,DC=com).
A mistake is an error naming its column, never a filter that quietly
matches nothing: an unknown attribute (with the closest, or the AD name
of a pinsh field: city is l, surname sn), bad syntax, a substring of a
DN, ~= and := matches, an empty (&). pinsh fields that are not AD
attributes (site, pin_policy) are for filter.`,
			Examples: []lang.Example{
				{Code: `get_users() | count`, Output: "7\n"},
				{Code: `get_users("* Smith") | select("identity") | collect`},
				{Code: `get_users({filter: {enabled: false}}) | count`, Output: "1\n"},
				{Code: `get_users("zz*") | count`, Output: "0\n"},
				{Code: `get_users({identity: "ken", error_action: "silently_continue"}) | count`, Output: "0\n"},
				{Code: `get_users({ou: "OU=Redmond,DC=litwareinc,DC=com", result_size: 2}) | count`, Output: "2\n"},
				{Code: `get_users({ldap_filter: "(&(department=Finance)(title=Manager))"}) | select("display_name", "title", "city")`,
					Output: "display_name  title    city\n------------  -----    ----\nKen Myer      Manager  Redmond\nTony Smith    Manager  Dublin\n"},
				{Code: `get_users({ldap_filter: "|(Title=Supervisor)(Title=Manager)"}) | count`, Output: "4\n"},
				{Code: `get_users({ldap_filter: "(&(l=Dublin)(memberOf=CN=Managers,OU=Groups,DC=litwareinc,DC=com))"}) | pin_info | count`, Output: "2\n"},
			},
			Call: sh.getUsers,
		},
		{
			Name: "new_user", Kind: lang.Func,
			Cmdlets:    []string{"Enable-CsUser"},
			PowerShell: `Enable-CsUser -Identity X -SipAddress sip:S -RegistrarPool P -> new_user({sip_address: "sip:S", registrar_pool: "P", ...})`,
			Sig:        "new_user(fields[, opts])",
			Doc: `Enable-CsUser: add a user to the directory and return its record. fields is
a map of user fields; sip_address is required, and user_principal_name,
sam_account_name and domain default from it. SIP address, UPN,
domain\logon and distinguished name must be unique. A field whose value is
undefined is refused (a misspelt variable?): to leave a field empty, leave it
out. opts: {whatif, confirm,
force, error_action}; a user that already exists is a per-item error.`,
			Examples: []lang.Example{
				{Code: `new_user({sip_address: "sip:maria@litwareinc.com", display_name: "Maria Garcia", line_uri: "tel:+14255550199;ext=199"}).identity`, Output: "sip:maria@litwareinc.com\n"},
			},
			Call: sh.newUser,
		},
		{
			Name: "remove_user", Kind: lang.Sink, Targets: true, Bind: digitsBind("remove_user", 0), Options: mutationOptionKeys,
			Cmdlets:    []string{"Disable-CsUser"},
			PowerShell: `Disable-CsUser -Identity X -> remove_user("X")`,
			Sig:        "remove_user([opts]) | remove_user(target[, opts])",
			Doc: `Remove each target user from the directory, with its PIN state. Returns a
summary. opts: {whatif, confirm, force, error_action}.`,
			Examples: []lang.Example{
				{Code: `remove_user("jeffhay@litwareinc.com", {whatif: true}).changed`, Output: "What if: Performing the operation \"remove_user\" on target \"sip:jeffhay@litwareinc.com\".\n1\n"},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return sh.runMutation(env, in, "remove_user", args, reportAll(sh.cfg.Store.RemoveUsers))
			},
		},
		{
			Name: "import_users", Kind: lang.Func,
			Sig: "import_users(path[, opts])",
			Doc: `Import users from a file: CSV with a header (pinsh field names, or csvde
attribute names such as msRTCSIP-PrimaryUserAddress, userPrincipalName,
sAMAccountName, displayName, distinguishedName, telephoneNumber), JSON
Lines, or LDIF as ldifde writes it. Bad rows are skipped whole and good
rows imported; the first 20 bad rows are shown with their line numbers and
reasons, the rest only counted, so a file of millions of bad rows takes
little memory. Returns {imported, bad}. The same as "pinsh import FILE".
opts: {whatif} reads the file and shows its bad rows, but imports nothing;
{confirm} asks once for the file; a bad row is a per-item error that force
and error_action govern: with "stop" the first row the file gets wrong ends
the import (the rows before it are imported), and a row the directory
refuses (a duplicate) ends the call after the import.`,
			Call: sh.importUsers,
		},
	}
}

// userFieldSetters maps the fields new_user takes to the store.User field
// they set.
var userFieldSetters = map[string]func(u *store.User, v tengo.Object) error{
	"sip_address":              stringField(func(u *store.User) *string { return &u.SipAddress }),
	"display_name":             stringField(func(u *store.User) *string { return &u.DisplayName }),
	"user_principal_name":      stringField(func(u *store.User) *string { return &u.UserPrincipalName }),
	"sam_account_name":         stringField(func(u *store.User) *string { return &u.SamAccountName }),
	"domain":                   stringField(func(u *store.User) *string { return &u.Domain }),
	"distinguished_name":       stringField(func(u *store.User) *string { return &u.DistinguishedName }),
	"registrar_pool":           stringField(func(u *store.User) *string { return &u.RegistrarPool }),
	"line_uri":                 stringField(func(u *store.User) *string { return &u.LineURI }),
	"site":                     stringField(func(u *store.User) *string { return &u.Site }),
	"pin_policy":               stringField(func(u *store.User) *string { return &u.PinPolicy }),
	"title":                    stringField(func(u *store.User) *string { return &u.Title }),
	"department":               stringField(func(u *store.User) *string { return &u.Department }),
	"city":                     stringField(func(u *store.User) *string { return &u.City }),
	"company":                  stringField(func(u *store.User) *string { return &u.Company }),
	"mail":                     stringField(func(u *store.User) *string { return &u.Mail }),
	"given_name":               stringField(func(u *store.User) *string { return &u.GivenName }),
	"surname":                  stringField(func(u *store.User) *string { return &u.Surname }),
	"telephone_number":         stringField(func(u *store.User) *string { return &u.TelephoneNumber }),
	"member_of":                groupsField,
	"enabled":                  boolField(func(u *store.User) *bool { return &u.Enabled }),
	"enterprise_voice_enabled": boolField(func(u *store.User) *bool { return &u.EnterpriseVoiceEnabled }),
}

func stringField(field func(*store.User) *string) func(*store.User, tengo.Object) error {
	return func(u *store.User, v tengo.Object) error {
		switch v := v.(type) {
		case *tengo.String:
			*field(u) = v.Value
			return nil
		}
		return fmt.Errorf("must be a string, not %s", v.TypeName())
	}
}

// groupsField sets MemberOf from an array of group DNs.
func groupsField(u *store.User, v tengo.Object) error {
	elems, ok := lang.Elems(v)
	if !ok {
		return fmt.Errorf("must be an array of group DNs such as [\"CN=Finance,OU=Groups,DC=litwareinc,DC=com\"], not %s", v.TypeName())
	}
	u.MemberOf = make([]string, len(elems))
	for i, e := range elems {
		s, ok := e.(*tengo.String)
		if !ok {
			return fmt.Errorf("must be an array of strings (group DNs); element %d is %s", i, e.TypeName())
		}
		u.MemberOf[i] = s.Value
	}
	return nil
}

func boolField(field func(*store.User) *bool) func(*store.User, tengo.Object) error {
	return func(u *store.User, v tengo.Object) error {
		b, ok := v.(*tengo.Bool)
		if !ok {
			return fmt.Errorf("must be true or false, not %s", v.TypeName())
		}
		*field(u) = !b.IsFalsy()
		return nil
	}
}

func (sh *Shell) newUser(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, errors.New("want new_user(fields[, opts]) with fields a map such as {sip_address: \"sip:ann@example.com\"}")
	}
	// The options map is the argument after fields, so fields is never read
	// as options.
	rest, opts, err := sh.splitOptions("new_user", args[1:], mutationOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("the second argument must be an options map, not %s", rest[0].TypeName())
	}
	fields, ok := mapValue(args[0])
	if !ok {
		return nil, fmt.Errorf("fields must be a map, not %s", args[0].TypeName())
	}
	u := store.User{Enabled: true}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		set, ok := userFieldSetters[k]
		if !ok {
			return nil, fmt.Errorf("unknown user field %s; %s", cut.Quote(k),
				lang.Hint(k, slices.Sorted(maps.Keys(userFieldSetters)), "fields are"))
		}
		if lang.IsUndefined(fields[k]) {
			return nil, fmt.Errorf("field %s: the value is undefined (a misspelt variable or field?); to leave %s empty, leave it out", k, k)
		}
		if err := set(&u, fields[k]); err != nil {
			return nil, fmt.Errorf("field %s %w", k, err)
		}
	}
	norm, err := store.NormalizeUser(u)
	if err != nil {
		return nil, err
	}
	if err := sh.authorizeOn(env.Context(), "new_user", norm.Identity()); err != nil {
		return nil, err
	}
	return sh.actOne(env, "new_user", norm.Identity(), opts, func(ctx context.Context) (tengo.Object, error) {
		created, err := sh.cfg.Store.CreateUser(ctx, sh.op(), u)
		if err != nil {
			return nil, err
		}
		return userRecord(created), nil
	})
}

// confirmOne applies whatif and confirm to a builtin acting on one target:
// it reports whether to go ahead.
func (sh *Shell) confirmOne(env *lang.Env, name, target string, opts options) (bool, error) {
	if opts.whatIf {
		fmt.Fprintln(env.Stdout(), WhatIfText(name, target))
		return false, nil
	}
	if opts.confirm {
		c := confirmer{prompter: sh.cfg.Prompter}
		return c.ok(name, target)
	}
	return true, nil
}

func mapValue(o tengo.Object) (map[string]tengo.Object, bool) {
	switch m := o.(type) {
	case *tengo.Map:
		return m.Value, true
	case *tengo.ImmutableMap:
		return m.Value, true
	}
	return nil, false
}

func (sh *Shell) getUsers(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) > 1 {
		return nil, errors.New("want get_users(), get_users(identity) or get_users({identity, ou, filter, ldap_filter, result_size})")
	}
	var (
		identity   string
		byIdentity bool // an identity was given, even an empty one
		query      store.UserQuery
		filter     tengo.Object
		resultSize = -1
		opts       options
	)
	if len(args) == 1 {
		switch a := args[0].(type) {
		case *tengo.String:
			identity, byIdentity = a.Value, true
		default:
			m, ok := mapValue(a)
			if !ok {
				return nil, fmt.Errorf("want an identity string or a map, not %s", a.TypeName())
			}
			if len(m) == 0 {
				return nil, errors.New("an empty map selects every user; call get_users() to mean all")
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				v := m[k]
				switch k {
				case "identity", "ou":
					s, ok := v.(*tengo.String)
					if !ok {
						return nil, fmt.Errorf("%s must be a string, not %s", k, v.TypeName())
					}
					if k == "ou" {
						if _, err := store.OUPathKey(s.Value); err != nil {
							return nil, fmt.Errorf("ou %s: %v; write it as a distinguished name such as OU=Redmond,DC=litwareinc,DC=com", cut.Quote(s.Value), err)
						}
						query.OU = s.Value
					} else {
						identity, byIdentity = s.Value, true
					}
				case "filter":
					if m, ok := mapValue(v); ok && len(m) == 0 {
						// {} matches everything: a filter built from
						// nothing must not quietly select every user.
						return nil, errors.New("an empty filter selects every user; call get_users() to mean all")
					}
					filter = v
				case "ldap_filter":
					s, ok := v.(*tengo.String)
					if !ok {
						return nil, fmt.Errorf("ldap_filter must be a string such as \"(&(department=Finance)(title=Manager))\", not %s", v.TypeName())
					}
					f, err := ldapfilter.Parse(s.Value)
					if err != nil {
						return nil, fmt.Errorf("ldap_filter %s: %w", cut.Quote(s.Value), err)
					}
					// The store runs it inside its scan: no record is made
					// for a user it rejects, and pin_info stays fused.
					query.Filter = func(u store.User) bool { return f.Match(&u) }
				case "result_size":
					n, ok := v.(*tengo.Int)
					if !ok || n.Value < 0 {
						return nil, fmt.Errorf("result_size must be a whole number, 0 or more, not %s", v)
					}
					resultSize = int(n.Value)
				case "error_action":
					o, err := parseOptions("get_users", map[string]tengo.Object{k: v}, k)
					if err != nil {
						return nil, err
					}
					opts.errorAction = o.errorAction
				default:
					return nil, fmt.Errorf("unknown key %s; %s", cut.Quote(k),
						lang.Hint(k, []string{"identity", "ou", "filter", "ldap_filter", "result_size", "error_action"}, "get_users takes"))
				}
			}
		}
	}
	if byIdentity && strings.TrimSpace(identity) == "" {
		return nil, errors.New("the identity is empty; get_users() lists every user")
	}
	if digitsTarget(identity) {
		return nil, errDigitsTarget("get_users")
	}
	ctx := env.Context()
	if err := sh.authorizeOn(ctx, "get_users", identity); err != nil {
		return nil, err
	}
	var s *lang.Stream
	if byIdentity {
		users, err := sh.cfg.Store.FindUsers(ctx, identity)
		switch {
		case errors.Is(err, store.ErrInvalid):
			// As pin_info("...") and Get-CsUser: an identity that names no
			// user is said so, per item; a wildcard may match nobody.
			if err := sh.reporter(env, "get_users", opts).report(&itemError{input: identity, err: err}); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		case len(users) == 0 && !strings.Contains(identity, "*"):
			if err := sh.reporter(env, "get_users", opts).report(&itemError{input: identity, err: errNoSuchUser}); err != nil {
				return nil, err
			}
		}
		items := make([]tengo.Object, 0, len(users))
		for _, u := range users {
			if (query.OU == "" || inOU(u, query.OU)) && (query.Filter == nil || query.Filter(u)) {
				items = append(items, userRecord(u))
			}
		}
		s = env.Items(items)
	} else {
		s = env.Source(sh.userScan(query)).WithOrigin(userScanOrigin{sh, query})
	}
	if filter != nil {
		keep, err := env.Predicate(filter)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		s = env.Filter(s, keep)
	}
	if resultSize >= 0 {
		s = limit(env, s, resultSize)
	}
	return s, nil
}

// userScanOrigin marks the stream of a plain scan of users (no filter
// function, no result size), which pin_info reads in one pass of the store
// (ScanPinInfos) instead of looking every user up again, and count counts
// without records.
type userScanOrigin struct {
	sh *Shell
	q  store.UserQuery
}

// counter counts the users of the scan without making them, as
// pinScanOrigin's count of the same users does (see streamCount).
func (o userScanOrigin) counter() func(ctx context.Context) (int, bool, error) {
	return pinScanOrigin{sh: o.sh, q: o.q}.counter()
}

// userScan returns the chunk function of a scan over every user q selects.
func (sh *Shell) userScan(q store.UserQuery) func(ctx context.Context) ([]tengo.Object, error) {
	return chunks(func(ctx context.Context, _ []store.User, after store.UserID) ([]store.User, store.UserID, error) {
		return sh.cfg.Store.ScanUsers(ctx, q, after, scanChunk)
	}, oneByOne(userRecord))
}

// oneByOne is the records function of chunks that makes a record of each
// item with record.
func oneByOne[T any, R tengo.Object](record func(T) R) func(items []T, out []tengo.Object) []tengo.Object {
	return func(items []T, out []tengo.Object) []tengo.Object {
		for _, it := range items {
			out = append(out, record(it))
		}
		return out
	}
}

// chunks turns a resumable store scan into the pull function of a
// lang.Source: read appends to its buffer (or returns a slice of its own)
// the items after a key and returns the key to resume from (zero at the
// end); records appends their records to out. An empty chunk before the
// end (a filter rejected a whole chunk) is skipped. The item buffer and the
// chunk of records are reused from chunk to chunk: a Source asks for the
// next chunk only when the last one was consumed, and records copies what
// it keeps of an item.
func chunks[T any, K comparable](read func(ctx context.Context, buf []T, after K) ([]T, K, error),
	records func(items []T, out []tengo.Object) []tengo.Object) func(ctx context.Context) ([]tengo.Object, error) {
	var after, zero K
	var buf []T
	var out []tengo.Object
	done := false
	return func(ctx context.Context) ([]tengo.Object, error) {
		for !done {
			items, next, err := read(ctx, buf[:0], after)
			if err != nil {
				return nil, err
			}
			buf = items
			after, done = next, next == zero
			if len(items) == 0 {
				continue
			}
			out = records(items, out[:0])
			return out, nil
		}
		return nil, nil
	}
}

func inOU(u store.User, ou string) bool {
	path, err := store.OUPathKey(ou)
	if err != nil {
		return false
	}
	upath, err := store.ParentOUPath(u.DistinguishedName)
	return err == nil && store.UnderOU(upath, path)
}

// limit returns the first n items of in, pulling no more.
func limit(env *lang.Env, in *lang.Stream, n int) *lang.Stream {
	taken := 0
	return env.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		if taken >= n {
			return nil, false, nil
		}
		taken++
		return in.Next(ctx)
	})
}

func (sh *Shell) importUsers(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, errors.New("want import_users(path[, opts])")
	}
	rest, opts, err := sh.splitOptions("import_users", args[1:], mutationOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("the second argument must be an options map, not %s", rest[0].TypeName())
	}
	path, ok := args[0].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("path must be a string, not %s", args[0].TypeName())
	}
	ctx := env.Context()
	if err := sh.authorizeOn(ctx, "import_users", path.Value); err != nil {
		return nil, err
	}
	var report store.ImportReport
	var stopped *store.RowError // error_action "stop": the bad row that ended the import
	if opts.whatIf {
		// Read the file and show its bad rows, but store nothing: rows that
		// clash with existing users are found only by a real import.
		report, err = readImportFile(path.Value, func(rows iter.Seq[store.ImportRow]) (store.ImportReport, error) {
			var r store.ImportReport
			for row := range rows {
				if row.Err != nil {
					r.AddBad(store.RowError{Line: row.Line, Err: row.Err})
				}
			}
			r.Sort()
			return r, nil
		})
		if err == nil {
			fmt.Fprintln(env.Stdout(), WhatIfText("import_users", path.Value))
		}
	} else {
		if opts.confirm {
			if ok, err := (&confirmer{prompter: sh.cfg.Prompter}).ok("import_users", path.Value); err != nil || !ok {
				return tengo.UndefinedValue, err
			}
		}
		report, err = readImportFile(path.Value, func(rows iter.Seq[store.ImportRow]) (store.ImportReport, error) {
			if opts.errorAction == Stop {
				rows = untilBad(rows, &stopped)
			}
			return sh.cfg.Store.ImportUsers(ctx, sh.op(), rows, nil)
		})
	}
	if stopped != nil {
		report.AddBad(*stopped)
		report.Sort()
	}
	rep := sh.reporter(env, "import_users", opts)
	for _, bad := range report.Bad {
		if err := rep.report(fmt.Errorf("%s:%d: %w", path.Value, bad.Line, bad.Err)); err != nil {
			return nil, err
		}
	}
	if more := report.BadCount - len(report.Bad); more > 0 {
		err := fmt.Errorf("%s: %d more bad rows not shown (%d in all); fix the ones above and import again to see the next",
			path.Value, more, report.BadCount)
		if err := rep.report(err); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	return lang.NewRecord(importSchema, []tengo.Object{integer(report.Imported), integer(report.BadCount)}, nil), nil
}

// untilBad passes on the rows of rows up to the first one the file gets
// wrong, which it keeps in *bad: with error_action "stop" that row ends
// the import, and the rows before it are imported.
func untilBad(rows iter.Seq[store.ImportRow], bad **store.RowError) iter.Seq[store.ImportRow] {
	return func(yield func(store.ImportRow) bool) {
		for row := range rows {
			if row.Err != nil {
				*bad = &store.RowError{Line: row.Line, Err: row.Err}
				return
			}
			if !yield(row) {
				return
			}
		}
	}
}

var importSchema = lang.NewSchema("import_report", "imported", "bad").OneLine()

// ImportFile imports the users of the file at path (CSV, JSON Lines or
// LDIF, by its name or content) into s. Bad rows are in the report; the
// error is for a file that cannot be read or an import that could not go
// on. progress, when not nil, gets the running count of imported users.
func ImportFile(ctx context.Context, s store.Store, op store.Op, path string, progress func(int)) (store.ImportReport, error) {
	return readImportFile(path, func(rows iter.Seq[store.ImportRow]) (store.ImportReport, error) {
		return s.ImportUsers(ctx, op, rows, progress)
	})
}

// readImportFile opens path, detects its format and hands its rows to use.
func readImportFile(path string, use func(iter.Seq[store.ImportRow]) (store.ImportReport, error)) (store.ImportReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.ImportReport{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := f.Read(head)
	if err != nil && n == 0 {
		return store.ImportReport{}, fmt.Errorf("read %s: %w (is it empty?)", path, err)
	}
	format, err := importfmt.DetectFormat(path, head[:n])
	if err != nil {
		return store.ImportReport{}, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return store.ImportReport{}, fmt.Errorf("read %s: %w", path, err)
	}
	return use(func(yield func(store.ImportRow) bool) {
		for r := range importfmt.Rows(f, format) {
			if !yield(store.ImportRow(r)) {
				return
			}
		}
	})
}
