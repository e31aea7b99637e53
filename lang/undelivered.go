package lang

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/d5/tengo/v2"
)

// Every record a precious stream makes whose schema has a secret field
// (Schema.Secret: set_pin's generated PIN) is undelivered until its secret
// has reached the admin, a file or the script:
//
//   - printed, in any output format (a statement's value, a stream, the
//     values printed at the end of an input);
//   - written by a sink that calls Delivered once the file is synced
//     (export_csv, export_jsonl);
//   - or read by the script: r.pin, r["pin"], a for loop over the record's
//     fields, to_map(r), string(r). Once the script holds the secret as a
//     value of its own, keeping it is the script's business.
//
// When an input (Session.Eval) ends, however it ends, the records its
// precious streams made that are still undelivered are printed, under a
// header on the error output (Precious.Unshown), before Eval returns its
// error. Only undelivered records are held here: delivering one forgets it.
var undelivered struct {
	sync.Mutex
	n   atomic.Int64 // len(m), read without the lock
	seq uint64
	m   map[*Record]pendingSecret
}

// pendingSecret is an undelivered record's entry.
type pendingSecret struct {
	sess *Session
	from *preciousState
	seq  uint64 // order made, to print in that order
}

// track notes the records among batch, made by the precious stream st of
// session s, that hold a secret.
func track(s *Session, st *preciousState, batch []tengo.Object) {
	undelivered.Lock()
	defer undelivered.Unlock()
	for _, v := range batch {
		r, ok := v.(*Record)
		if !ok || r.schema.secret < 0 || r.Value(r.schema.secret) == tengo.UndefinedValue {
			continue
		}
		if undelivered.m == nil {
			undelivered.m = make(map[*Record]pendingSecret)
		}
		undelivered.seq++
		undelivered.m[r] = pendingSecret{sess: s, from: st, seq: undelivered.seq}
		undelivered.n.Store(int64(len(undelivered.m)))
	}
}

// deliver forgets r: its secret reached the admin, a file or the script.
func (r *Record) deliver() {
	if r.schema.secret < 0 || undelivered.n.Load() == 0 {
		return
	}
	undelivered.Lock()
	delete(undelivered.m, r)
	undelivered.n.Store(int64(len(undelivered.m)))
	undelivered.Unlock()
}

// Delivered notes that the records in v (v itself, or held in arrays and
// maps within it) have reached the admin or a file: a sink that writes
// values to a file calls it once they are synced, so that they are not
// printed at the end of the input (see Schema.Secret).
func Delivered(v tengo.Object) {
	if undelivered.n.Load() == 0 {
		return
	}
	walkRecords(v, 0, (*Record).deliver)
}

// Undelivered reports whether v holds a record whose secret has not yet
// reached the admin, a file or the script (see Schema.Secret).
func Undelivered(v tengo.Object) bool {
	if undelivered.n.Load() == 0 {
		return false
	}
	found := false
	walkRecords(v, 0, func(r *Record) {
		if r.schema.secret < 0 {
			return
		}
		undelivered.Lock()
		_, ok := undelivered.m[r]
		undelivered.Unlock()
		found = found || ok
	})
	return found
}

// walkRecords calls f for each record in v, held in arrays and maps down to
// maxValueDepth.
func walkRecords(v tengo.Object, depth int, f func(*Record)) {
	if depth > maxValueDepth {
		return
	}
	var elems []tengo.Object
	switch v := v.(type) {
	case *Record:
		f(v)
		return
	case *tengo.Array:
		elems = v.Value
	case *tengo.ImmutableArray:
		elems = v.Value
	case *tengo.Map:
		for _, e := range v.Value {
			walkRecords(e, depth+1, f)
		}
	case *tengo.ImmutableMap:
		for _, e := range v.Value {
			walkRecords(e, depth+1, f)
		}
	}
	for _, e := range elems {
		walkRecords(e, depth+1, f)
	}
}

// Secret names the field of s that holds a secret made once and kept
// nowhere else (set_pin's generated PIN), and marks s precious (see
// Schema.Precious): a record of s made by a precious stream is printed at
// the end of the input unless its secret was delivered before (see
// Delivered). It returns s, and panics if field is not a field of s.
func (s *Schema) Secret(field string) *Schema {
	i, ok := s.index[field]
	if !ok {
		panic(fmt.Sprintf("lang.Schema(%q).Secret: no field %q", s.name, field))
	}
	s.secret = i
	return s.Precious()
}

// readField notes that the script read field i of r.
func (r *Record) readField(i int) {
	if i == r.schema.secret {
		r.deliver()
	}
}

// showUndelivered prints the records of s's precious streams that are
// still undelivered, in the order they were made, each stream's under its
// header on the error output.
func (s *Session) showUndelivered() {
	if undelivered.n.Load() == 0 {
		return
	}
	type rec struct {
		r *Record
		pendingSecret
	}
	var recs []rec
	undelivered.Lock()
	for r, p := range undelivered.m {
		if p.sess == s {
			recs = append(recs, rec{r, p})
			delete(undelivered.m, r)
		}
	}
	undelivered.n.Store(int64(len(undelivered.m)))
	undelivered.Unlock()
	sort.Slice(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
	for len(recs) > 0 {
		// One header for the records of every stream with the same
		// header: a loop that calls set_pin(u) once per user makes a
		// stream per call, and its records are shown together.
		from := recs[0].from
		var items []tengo.Object
		var later []rec
		for _, r := range recs {
			if r.from == from || (from.Header != "" && r.from.Header == from.Header) {
				items = append(items, r.r)
			} else {
				later = append(later, r)
			}
		}
		recs = later
		header := ""
		if from.Unshown != nil {
			header = from.Unshown(len(items))
		}
		s.showLate(header, items)
	}
}
