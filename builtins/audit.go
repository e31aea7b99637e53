package builtins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

func (sh *Shell) auditBuiltins() []lang.Builtin {
	return []lang.Builtin{{
		Name: "audit_log", Kind: lang.Source,
		Sig: "audit_log([{since, until, operator, action, target}])",
		Doc: `Every change pinsh made, every PIN logon attempt and every refused command,
oldest first, as a stream of {time, operator, action, target, outcome,
detail, acted_by}. acted_by is set when an account acted for the operator
(pinsh --as, which only a CsAdministrator may use on a real database). A
PIN or its hash is never in the log. since (from, inclusive) and until
(before) take dates as admins type them: "today", "yesterday", a date
"2026-12-02", a time "2026-12-02T15:04:05Z" (UTC without a zone), an
offset from now "-7d", or a time value such as now("-7d"). Days are UTC
days, as pinsh prints times; a day given as until includes that day, so
{since: "2026-12-02", until: "2026-12-02"} is that one day. operator,
action and target must match exactly (operator and
target case-insensitively); operator also selects what an account did for
others (its acted_by).`,
		Examples: []lang.Example{
			{Code: `summary := lock_pin("kenmyer@litwareinc.com"); audit_log({action: "lock_pin"}) | count`, Output: "1\n"},
			{Code: `summary := lock_pin("kenmyer@litwareinc.com"); audit_log({since: "today", action: "lock_pin"}) | count`, Output: "1\n"},
			{Code: `audit_log({since: "yesterday", until: "yesterday"}) | count`, Output: "0\n"},
		},
		Call: sh.auditLog,
	}}
}

// auditFilters are the keys of audit_log's filter map.
var auditFilters = []string{"since", "until", "operator", "action", "target"}

func (sh *Shell) auditLog(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	var q store.AuditQuery
	switch len(args) {
	case 0:
	case 1:
		m, ok := mapValue(args[0])
		if !ok {
			return nil, fmt.Errorf("want a map of filters, not %s", args[0].TypeName())
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v := m[k]
			if lang.IsUndefined(v) && slices.Contains(auditFilters, k) {
				return nil, fmt.Errorf("filter %s is undefined (a misspelt variable or field?); leave %s out to not filter on it", k, k)
			}
			switch k {
			case "since", "until":
				tm, err := parseWhen(v, sh.cfg.Clock.Now(), k == "until")
				if err != nil {
					return nil, fmt.Errorf("%s %w", k, err)
				}
				if k == "since" {
					q.Since = tm
				} else {
					q.Until = tm
				}
			case "operator", "action", "target":
				s, err := stringArg(v, k)
				if err != nil {
					return nil, err
				}
				switch k {
				case "operator":
					q.Operator = s
				case "action":
					q.Action = s
				default:
					q.Target = s
				}
			default:
				return nil, fmt.Errorf("unknown filter %s; %s", cut.Quote(k), lang.Hint(k, auditFilters, "audit_log takes"))
			}
		}
	default:
		return nil, errors.New("want audit_log() or audit_log({since, until, operator, action, target})")
	}
	ctx := env.Context()
	if err := sh.authorize(ctx, "audit_log"); err != nil {
		return nil, err
	}
	return env.Source(chunks(func(ctx context.Context, _ []store.AuditEntry, after uint64) ([]store.AuditEntry, uint64, error) {
		return sh.cfg.Store.ScanAudit(ctx, q, after, scanChunk)
	}, oneByOne(auditRecord))), nil
}
