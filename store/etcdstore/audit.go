package etcdstore

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/pinsh/pinsh/store"
)

// auditBlock is the value of a/SEQ written by a change (schema 2): the
// entries of one transaction share its time, operator and acting account,
// and a bulk change's entries mostly share their action and outcome, so
// they are said once, and each entry carries its target (and detail):
// about 40 bytes an entry where a JSON store.AuditEntry takes 170, which a
// bulk lock of 1,792 users sends to every member. Entries copied from
// another directory (CopyAudit), whose times and operators differ, stay a
// JSON array of store.AuditEntry, as every block of schema 1 is.
type auditBlock struct {
	First    uint64      `json:"first"` // the first entry's sequence number
	Time     time.Time   `json:"time"`
	Operator string      `json:"op"`
	ActedBy  string      `json:"by,omitempty"`
	Entries  []auditItem `json:"e"`
}

// auditItem is one entry of an auditBlock; a nil Action or Outcome is the
// previous entry's.
type auditItem struct {
	Action  *string `json:"a,omitempty"`
	Target  string  `json:"t,omitempty"`
	Outcome *string `json:"o,omitempty"`
	Detail  string  `json:"d,omitempty"`
}

// encodeAudit encodes entries, numbered and stamped alike, as an
// auditBlock.
func encodeAudit(entries []store.AuditEntry) ([]byte, error) {
	e0 := entries[0]
	blk := auditBlock{First: e0.Seq, Time: e0.Time, Operator: e0.Operator, ActedBy: e0.ActedBy, Entries: make([]auditItem, len(entries))}
	for i := range entries {
		e := &entries[i]
		it := &blk.Entries[i]
		it.Target, it.Detail = e.Target, e.Detail
		if i == 0 || e.Action != entries[i-1].Action {
			it.Action = &e.Action
		}
		if i == 0 || e.Outcome != entries[i-1].Outcome {
			it.Outcome = &e.Outcome
		}
	}
	return json.Marshal(blk)
}

// decodeAudit decodes an audit block of either form.
func decodeAudit(kv *mvccpb.KeyValue) ([]store.AuditEntry, error) {
	if len(kv.Value) > 0 && kv.Value[0] == '[' {
		var entries []store.AuditEntry
		if err := json.Unmarshal(kv.Value, &entries); err != nil {
			return nil, fmt.Errorf("%w: audit block %s: %v", store.ErrDamaged, kv.Key, err)
		}
		return entries, nil
	}
	var blk auditBlock
	if err := json.Unmarshal(kv.Value, &blk); err != nil {
		return nil, fmt.Errorf("%w: audit block %s: %v", store.ErrDamaged, kv.Key, err)
	}
	out := make([]store.AuditEntry, len(blk.Entries))
	var action, outcome string
	for i, it := range blk.Entries {
		if it.Action != nil {
			action = *it.Action
		}
		if it.Outcome != nil {
			outcome = *it.Outcome
		}
		out[i] = store.AuditEntry{Seq: blk.First + uint64(i), Time: blk.Time, Operator: blk.Operator, ActedBy: blk.ActedBy,
			Action: action, Target: it.Target, Outcome: outcome, Detail: it.Detail}
	}
	return out, nil
}
