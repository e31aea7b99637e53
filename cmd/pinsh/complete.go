package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// Completion limits: completion must answer at once, so it gives up on a
// busy database, and never reads the whole directory.
const (
	completeLockWait = 200 * time.Millisecond
	completeTimeout  = 500 * time.Millisecond
	completeUsers    = 20 // users looked at per lookup
	maxCandidates    = 50
)

// identityBuiltins take an identity string as their first argument; it is
// completed from the directory.
var identityBuiltins = map[string]bool{
	"get_users": true, "pin_info": true, "lock_pin": true, "unlock_pin": true, "set_pin": true,
	"verify_pin": true, "remove_user": true, "grant_pin_policy": true,
}

// policyBuiltins take a policy identity as their first argument.
var policyBuiltins = map[string]bool{"get_pin_policy": true, "set_pin_policy": true, "remove_pin_policy": true}

// roleBuiltins take a role name as their first argument; memberBuiltins
// take an operator as their second.
var (
	roleBuiltins   = map[string]bool{"admin_roles": true, "remove_admin_role": true, "add_role_member": true, "remove_role_member": true}
	memberBuiltins = map[string]bool{"add_role_member": true, "remove_role_member": true}
)

// propsBuiltins take a map of policy fields.
var propsBuiltins = map[string]bool{"new_pin_policy": true, "set_pin_policy": true}

// whereOptions are the keys of where's options map.
var whereOptions = []string{"case_sensitive"}

// fieldArgBuiltins take field names as string arguments.
var fieldArgBuiltins = map[string]bool{"select": true, "sort_by": true, "format_table": true, "format_list": true}

// sameRecords are the stages whose output records are their input records.
var sameRecords = map[string]bool{"where": true, "first": true, "sort_by": true}

// recordSources are the builtins whose record fields complete after the
// parameter of a function they feed (builtins.RecordFields).
var recordSources = map[string]bool{
	"get_users": true, "pin_info": true, "admin_roles": true, "get_pin_policy": true, "audit_log": true,
}

var keywords = []string{
	"break", "continue", "else", "error", "export", "false", "for", "func", "if",
	"immutable", "import", "in", "return", "true", "undefined",
}

// completer is the prompt's tab completion, by where the cursor is:
//   - after "|", the stages and sinks; elsewhere builtin and global names;
//   - record fields after "." (of a variable holding a record, or of the
//     parameter of a function given to where, each, sort_by... in a
//     pipeline), as the keys of where's field map, and inside the string
//     arguments of select, sort_by, format_table and format_list: the
//     fields of the records flowing there, as far as the source and the
//     stages before it tell;
//   - the keys of a trailing options map (whatif, confirm, force,
//     error_action, and those a builtin's signature lists), and the values
//     of error_action;
//   - identities, in any form, inside the string argument of get_users,
//     pin_info, lock_pin, ...; policy identities for the policy builtins;
//     role names and operators for the role builtins.
//
// A list longer than maxCandidates is cut, and the prompt says how many
// more there are.
type completer struct {
	r *repl
	// note is what complete found worth saying about its list (that the
	// directory was not read to the end), or "".
	note string
}

// Do implements readline.AutoCompleter.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	cands, n := c.complete(fromBuffer(string(line[:pos])))
	note := c.note
	if more := len(cands) - maxCandidates; more > 0 {
		cands = cands[:maxCandidates]
		note = fmt.Sprintf("%d shown, %d more: type more letters to narrow the list", maxCandidates, more)
	}
	if note != "" && len(cands) > 1 && c.r.rl != nil {
		// Written through readline, which redraws the line below it.
		fmt.Fprintf(c.r.rl.Stdout(), "(%s)\n", note)
	}
	out := make([][]rune, len(cands))
	for i, s := range cands {
		out[i] = []rune(s)
	}
	return out, n
}

// complete returns the suffixes that complete text (everything before the
// cursor), sorted, and the length, in runes, of the part of text they
// complete. It sets c.note.
func (c *completer) complete(text string) (suffixes []string, n int) {
	c.note = ""
	if c.r.running() {
		return nil, 0 // Tab at a Confirm prompt or read_pin
	}
	if c.r.ev.ps != nil {
		defer c.r.db.conn.Close()
		return c.psComplete(text)
	}
	toks, open := lex(text)
	defer c.r.db.conn.Close() // completion holds no lock once it has answered
	if len(toks) > 0 && toks[len(toks)-1].kind == tOpenString {
		return c.inString(toks, open)
	}

	word := ""
	end := len(toks)
	if end > 0 && toks[end-1].kind == tIdent && toks[end-1].end == len(text) {
		word = toks[end-1].text
		end--
	}
	n = len([]rune(word))
	if end >= 2 && toks[end-1].is(".") && toks[end-2].kind == tIdent && (end < 3 || !toks[end-3].is(".")) {
		obj := end - 2
		return withPrefix(c.objectFields(toks, open, obj), word, ""), n
	}
	if end >= 1 && toks[end-1].is(".") {
		return nil, 0 // a field of something completion cannot know
	}
	if keys, ok := c.mapKeys(toks[:end], open); ok {
		return withPrefix(keys, word, ": "), n
	}
	if end >= 1 && toks[end-1].is("|") {
		return withPrefix(c.builtinNames(lang.Stage, lang.Sink), word, ""), n
	}
	names := append(c.r.sess.Names(), keywords...)
	return withPrefix(names, word, ""), n
}

// inString completes the string literal that the text ends in.
func (c *completer) inString(toks []token, open []int) ([]string, int) {
	s := toks[len(toks)-1]
	n := len([]rune(s.text))
	if k := len(toks); k >= 3 && toks[k-2].text == ":" && toks[k-3].text == "error_action" {
		return withPrefix(builtins.ErrorActions(), s.text, `"`), n
	}
	call, arg, ok := enclosingCall(toks, open)
	if !ok {
		return nil, 0
	}
	name := toks[call-1].text
	bound := call >= 2 && toks[call-2].is("|") // x | b(...): the input is not an argument
	var cands []string
	switch {
	case name == "grant_pin_policy" && (arg == 1 || bound && arg == 0):
		cands = c.policies(true)
	case identityBuiltins[name] && arg == 0 && s.quote == '"' && !bound:
		return c.identities(s.text)
	case policyBuiltins[name] && arg == 0 && !bound:
		cands = c.policies(false)
	case roleBuiltins[name] && arg == 0:
		cands = c.roles(false)
	case name == "new_admin_role" && arg == 1:
		cands = c.roles(true)
	case memberBuiltins[name] && arg == 1:
		cands = c.operators()
	case fieldArgBuiltins[name]:
		cands = c.upstreamFields(toks, open, call)
	case name == "help":
		cands = c.r.sess.Names()
		for _, b := range c.r.builtins {
			cands = append(cands, b.Cmdlets...)
		}
	}
	return withPrefix(cands, s.text, `"`), n
}

// mapKeys returns the keys that can be typed next when toks end where a key
// of a map literal goes (after its "{" or a ","), and that map is an
// argument of a builtin's call: the fields of where's field map, of a
// policy's props, or the keys of the options map.
func (c *completer) mapKeys(toks []token, open []int) ([]string, bool) {
	if len(open) < 2 || len(toks) == 0 || !toks[len(toks)-1].isAny("{", ",") {
		return nil, false
	}
	brace := open[len(open)-1]
	if !toks[brace].is("{") || toks[len(toks)-1].depth != toks[brace].depth+1 && !toks[len(toks)-1].is("{") {
		return nil, false
	}
	call, arg, ok := enclosingCall(toks[:brace+1], open[:len(open)-1])
	if !ok {
		return nil, false
	}
	name := toks[call-1].text
	b := c.builtin(name)
	if b == nil {
		return nil, false
	}
	switch {
	case name == "where":
		// The first map or function argument is the predicate; a map
		// after it holds the options.
		for k := call + 1; k < brace; k++ {
			if toks[k].depth == toks[call].depth+1 && (toks[k].is("{") || toks[k].text == "func") {
				return whereOptions, true
			}
		}
		return c.upstreamFields(toks, open[:len(open)-1], call), true
	case propsBuiltins[name] && (arg == 1 || call >= 2 && toks[call-2].is("|") && arg == 0):
		fields := slices.DeleteFunc(builtins.RecordFields("get_pin_policy"), func(f string) bool { return f == "identity" })
		return append(fields, optionKeys(b)...), true
	}
	return optionKeys(b), true
}

// optionKeys returns the keys of b's options map: those it declares, and
// those its signature lists in braces ({since, until, ...}).
func optionKeys(b *lang.Builtin) []string {
	keys := slices.Clone(b.Options)
	sig := b.Sig
	for {
		i := strings.IndexByte(sig, '{')
		j := strings.IndexByte(sig, '}')
		if i < 0 || j < i {
			break
		}
		for _, k := range strings.Split(sig[i+1:j], ",") {
			if k = strings.TrimSpace(k); isIdentifier(k) {
				keys = append(keys, k)
			}
		}
		sig = sig[j+1:]
	}
	return keys
}

func isIdentifier(s string) bool {
	toks, _ := lex(s)
	return len(toks) == 1 && toks[0].kind == tIdent && toks[0].text == s
}

// builtin returns the builtin named name, or nil.
func (c *completer) builtin(name string) *lang.Builtin {
	return lang.ByName(c.r.builtins, name)
}

// builtinNames returns the names of the builtins of the given kinds.
func (c *completer) builtinNames(kinds ...lang.Kind) []string {
	var names []string
	for _, b := range c.r.builtins {
		if slices.Contains(kinds, b.Kind) {
			names = append(names, b.Name)
		}
	}
	return names
}

// policies returns the identities of the PIN policies; tags: of the
// per-user ones only, which grant_pin_policy takes.
func (c *completer) policies(tags bool) []string {
	st, ctx, cancel, ok := c.open()
	if !ok {
		return nil
	}
	defer cancel()
	ps, err := st.Policies(ctx)
	if err != nil {
		return nil
	}
	var ids []string
	for _, p := range ps {
		if !tags || strings.HasPrefix(p.Identity, "tag:") {
			ids = append(ids, p.Identity)
		}
	}
	return ids
}

// roles returns the names of the admin roles; standard: of the standard
// ones only, the templates of a custom role.
func (c *completer) roles(standard bool) []string {
	rs := c.readRoles()
	var ids []string
	for _, r := range rs {
		if !standard || r.IsStandardRole {
			ids = append(ids, r.Identity)
		}
	}
	return ids
}

// operators returns the members of the admin roles.
func (c *completer) operators() []string {
	var ops []string
	for _, r := range c.readRoles() {
		ops = append(ops, r.Members...)
	}
	return ops
}

func (c *completer) readRoles() []store.Role {
	st, ctx, cancel, ok := c.open()
	if !ok {
		return nil
	}
	defer cancel()
	rs, _ := st.Roles(ctx)
	return rs
}

// open opens the database for a lookup of completion, giving up at once
// when another process holds it.
func (c *completer) open() (store.Store, context.Context, context.CancelFunc, bool) {
	st, err := c.r.db.conn.tryOpen(completeLockWait)
	if err != nil {
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	return st, ctx, cancel, true
}

// withPrefix returns the suffixes of the candidates that start with prefix,
// sorted, without duplicates, each followed by tail.
func withPrefix(cands []string, prefix, tail string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && c != prefix+tail {
			out = append(out, c[len(prefix):]+tail)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// objectFields returns the fields that can follow the identifier at toks[obj]
// and a ".": the fields of the records flowing into the function when the
// identifier is the parameter of a function literal given to a pipeline
// builtin, else the fields of the global of that name.
func (c *completer) objectFields(toks []token, open []int, obj int) []string {
	name := toks[obj].text
	for i := len(open) - 1; i >= 0; i-- {
		params, ok := funcParams(toks, open[i])
		if !ok || !slices.Contains(params, name) {
			continue
		}
		if i == 0 || !toks[open[i-1]].is("(") || open[i-1] == 0 || toks[open[i-1]-1].kind != tIdent {
			return nil // a function literal that is not an argument of a call
		}
		return c.upstreamFields(toks, open[:i], open[i-1])
	}
	v, ok := c.r.sess.Lookup(name)
	if !ok {
		return nil
	}
	return lang.FieldNames(firstElem(v))
}

// upstreamFields returns the fields of the records that reach the call whose
// "(" is toks[call]: what is piped into it (x | where(...)), or its first
// argument (where(x, ...)).
func (c *completer) upstreamFields(toks []token, open []int, call int) []string {
	d := toks[call].depth
	if head := call - 1; head > 0 && toks[head-1].is("|") && toks[head-1].depth == d {
		return c.sourceFields(toks, head-2, d)
	}
	// The first argument is the input when the cursor is past it.
	for k := call + 1; k < len(toks) && toks[k].depth > d; k++ {
		if toks[k].depth == d+1 && toks[k].is(",") {
			return c.sourceFields(toks, k-1, d+1)
		}
	}
	return nil
}

// sourceFields returns the fields of the records of the pipeline segment
// that ends at toks[end], at bracket depth d.
func (c *completer) sourceFields(toks []token, end, d int) []string {
	k := end
	for ; k >= 0; k-- {
		t := toks[k]
		if t.depth < d || t.depth == d && (t.isAny("|", ",", ";", ":=", "=") || t.kind == tIdent && isKeyword(t.text)) {
			break
		}
	}
	head := k + 1
	if head > end || toks[head].kind != tIdent {
		return nil
	}
	name := toks[head].text
	called := head+1 <= end && toks[head+1].is("(")
	switch {
	case recordSources[name]:
		return builtins.RecordFields(name)
	case sameRecords[name]:
		if k >= 0 && toks[k].is("|") && toks[k].depth == d {
			return c.sourceFields(toks, k-1, d)
		}
		if called {
			return c.upstreamFields(toks, nil, head+1)
		}
		return nil
	case name == "select" && called:
		var fields []string
		for j := head + 2; j <= end && toks[j].depth > d; j++ {
			if toks[j].kind == tString && toks[j].depth == d+1 {
				fields = append(fields, toks[j].text)
			}
		}
		return fields
	}
	if v, ok := c.r.sess.Lookup(name); ok && head == end {
		return lang.FieldNames(firstElem(v))
	}
	return nil
}

// firstElem returns the first element of an array, or v itself. A stream
// is left alone: reading it would take a record from the admin's pipeline.
func firstElem(v tengo.Object) tengo.Object {
	switch x := v.(type) {
	case *lang.Stream:
		return tengo.UndefinedValue
	case *tengo.Array:
		if len(x.Value) > 0 {
			return x.Value[0]
		}
		return tengo.UndefinedValue
	case *tengo.ImmutableArray:
		if len(x.Value) > 0 {
			return x.Value[0]
		}
		return tengo.UndefinedValue
	}
	return v
}

// identities completes the identity typed inside a string literal (raw:
// the literal's text so far, escapes included).
func (c *completer) identities(raw string) ([]string, int) {
	return withPrefix(c.identityMatches(unescapeString(raw), raw, escapeString), raw, `"`), len([]rune(raw))
}

// identityMatches returns the identity forms (facts §1), as escape writes
// them, of the users it finds with a form that starts with typed (raw: as
// it was typed, escapes included). It looks the display-name prefix up in
// the index and looks at a bounded number of users for the other forms; it
// never reads the whole directory. The forms that start with raw, case
// and all, are returned; when none does, those that start with it ignoring
// case, with raw in place of their start (identities match ignoring case).
func (c *completer) identityMatches(typed, raw string, escape func(string) string) []string {
	st, ctx, cancel, ok := c.open()
	if !ok {
		return nil
	}
	defer cancel()
	lower := strings.ToLower(typed)
	var users []store.User
	if typed != "" && !strings.ContainsAny(typed, `*@\=`) && !strings.HasPrefix(lower, "sip:") {
		found, _ := st.FindUsers(ctx, typed+"*")
		users = append(users, found...)
	}
	found, _, _ := st.ScanUsers(ctx, store.UserQuery{Filter: func(u store.User) bool {
		for _, f := range identityForms(u) {
			if strings.HasPrefix(strings.ToLower(f), lower) {
				return true
			}
		}
		return false
	}}, 0, completeUsers)
	if len(found) == completeUsers {
		c.note = fmt.Sprintf("the first %d users that match; more may: type more letters", completeUsers)
	}
	users = append(users, found...)

	var exact, folded []string
	for _, u := range users {
		for _, f := range identityForms(u) {
			// Compared as typed, escapes and all.
			e := escape(f)
			switch {
			case strings.HasPrefix(e, raw):
				exact = append(exact, e)
			case len(e) >= len(raw) && strings.EqualFold(e[:len(raw)], raw):
				folded = append(folded, raw+e[len(raw):])
			}
		}
	}
	if len(exact) == 0 {
		return folded
	}
	return exact
}

// identityForms returns the identity forms of u (facts §1).
func identityForms(u store.User) []string {
	forms := []string{strings.TrimPrefix(u.SipAddress, "sip:"), u.SipAddress}
	for _, f := range []string{u.UserPrincipalName, u.DisplayName} {
		if f != "" {
			forms = append(forms, f)
		}
	}
	if u.Domain != "" && u.SamAccountName != "" {
		forms = append(forms, u.Domain+`\`+u.SamAccountName)
	}
	return forms
}

// escapeString writes s as the inside of a double-quoted Tengo string.
func escapeString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// unescapeString reads the inside of a double-quoted Tengo string typed so
// far; a backslash at its end (the start of an escape) is dropped.
func unescapeString(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i++; i == len(s) {
			break
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isKeyword(s string) bool { return slices.Contains(keywords, s) }

// funcParams reports whether the "{" at toks[brace] opens the body of a
// function literal, and returns its parameter names.
func funcParams(toks []token, brace int) ([]string, bool) {
	if !toks[brace].is("{") || brace < 3 || !toks[brace-1].is(")") {
		return nil, false
	}
	d := toks[brace].depth
	var params []string
	k := brace - 2
	for ; k >= 0 && toks[k].depth > d; k-- {
		if toks[k].kind == tIdent {
			params = append(params, toks[k].text)
		}
	}
	if k < 1 || !toks[k].is("(") || toks[k-1].text != "func" {
		return nil, false
	}
	return params, true
}

// enclosingCall returns the index of the "(" of the innermost call the end
// of the text is inside, and which argument (from 0) the text ends in.
func enclosingCall(toks []token, open []int) (paren, arg int, ok bool) {
	if len(open) == 0 {
		return 0, 0, false
	}
	p := open[len(open)-1]
	if !toks[p].is("(") || p == 0 || toks[p-1].kind != tIdent {
		return 0, 0, false
	}
	for k := p + 1; k < len(toks); k++ {
		if toks[k].depth == toks[p].depth+1 && toks[k].is(",") {
			arg++
		}
	}
	return p, arg, true
}

type tokKind uint8

const (
	tIdent      tokKind = iota
	tString             // a complete string literal; text is its inside
	tOpenString         // a string literal the text ends in; text is its inside so far
	tPunct              // brackets, | , ; . := =
	tOther              // numbers, other operators
)

// token is a token of the text before the cursor, for completion.
type token struct {
	kind  tokKind
	text  string
	quote byte // tString, tOpenString: '"' or '`'
	depth int  // brackets open before it (a bracket itself counts outside)
	end   int  // offset just past it
}

func (t token) is(p string) bool { return t.kind == tPunct && t.text == p }

func (t token) isAny(ps ...string) bool {
	return t.kind == tPunct && slices.Contains(ps, t.text)
}

// lex splits the text before the cursor into tokens, and returns the indexes
// of the brackets still open at its end, outermost first. A newline after a
// token that can end a statement is a ";", as Tengo's scanner makes it.
func lex(s string) (toks []token, open []int) {
	depth := 0
	add := func(t token) {
		t.depth = depth
		toks = append(toks, t)
	}
	endsStatement := func() bool {
		if len(toks) == 0 {
			return false
		}
		t := toks[len(toks)-1]
		return t.kind == tIdent || t.kind == tString || t.kind == tOther || t.isAny(")", "]", "}")
	}
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '\n':
			if endsStatement() {
				add(token{kind: tPunct, text: ";", end: i + 1})
			}
			i++
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case strings.HasPrefix(s[i:], "//"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return toks, open
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return toks, open
			}
			i += j + 4
		case ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			add(token{kind: tIdent, text: s[i:j], end: j})
			i = j
		case ch == '"' || ch == '`':
			j := i + 1
			for j < len(s) && s[j] != ch {
				if ch == '"' && s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				add(token{kind: tOpenString, text: s[i+1:], quote: ch, end: len(s)})
				return toks, open
			}
			text := s[i+1 : j]
			if ch == '"' {
				text = unescapeString(text)
			}
			add(token{kind: tString, text: text, quote: ch, end: j + 1})
			i = j + 1
		case ch == '\'':
			j := i + 1
			for j < len(s) && s[j] != '\'' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = min(j+1, len(s))
			add(token{kind: tOther, text: "'", end: i})
		case strings.ContainsRune("([{", rune(ch)):
			add(token{kind: tPunct, text: string(ch), end: i + 1})
			open = append(open, len(toks)-1)
			depth++
			i++
		case strings.ContainsRune(")]}", rune(ch)):
			if depth > 0 {
				depth--
				open = open[:len(open)-1]
			}
			add(token{kind: tPunct, text: string(ch), end: i + 1})
			i++
		case strings.HasPrefix(s[i:], ":="):
			add(token{kind: tPunct, text: ":=", end: i + 2})
			i += 2
		case strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "|=") || strings.HasPrefix(s[i:], "=="):
			add(token{kind: tOther, text: s[i : i+2], end: i + 2})
			i += 2
		case strings.ContainsRune("|,;.=", rune(ch)):
			add(token{kind: tPunct, text: string(ch), end: i + 1})
			i++
		default:
			j := i + 1
			if ch >= '0' && ch <= '9' {
				for j < len(s) && (s[j] == '.' || s[j] == '_' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
					j++
				}
			}
			add(token{kind: tOther, text: s[i:j], end: j})
			i = j
		}
	}
	return toks, open
}
