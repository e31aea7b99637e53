package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The garbage collector's policy for the whole process, set once at start.
//
// A pipeline over a big directory allocates a few small objects per record
// (records, decoded fields, script call frames) but keeps only a few MiB
// alive: records stream through, and a mutation holds one commit batch of
// target keys. Under the runtime's default (GOGC=100: collect whenever the
// heap doubles) a small live heap means a collection every few MiB
// allocated, hundreds per pass over a million users, and GC work and write
// barriers become a large part of the CPU. A high GOGC makes collections
// rare; the soft memory limit keeps that from letting the heap grow: the
// collector runs as the heap nears gcMemoryLimit.
//
// The limit only pays while the live heap is small. Once the live heap
// passes half the limit, a collection would come sooner than under the
// default, and a script that keeps a million records (collect) would be
// collected almost continuously (measured 5× the CPU): after the first
// collection that finds the live heap that big, the runtime's defaults are
// restored for the rest of the process.
//
// GOGC or GOMEMLIMIT in the environment means the user chose a policy: then
// the runtime's own settings (which read them) stand.
const (
	gcPercent     = 400
	gcMemoryLimit = 48 << 20
)

// setGCPolicy applies the policy above unless lookup (os.LookupEnv) finds
// GOGC or GOMEMLIMIT set, to anything. It reports whether it applied it.
func setGCPolicy(lookup func(string) (string, bool)) bool {
	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := lookup(v); set {
			return false
		}
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(gcMemoryLimit)
	runtime.SetFinalizer(&gcWatch{}, afterGC)
	return true
}

// gcWatch is an object nothing refers to: its finalizer runs after each
// collection that finds it unreachable, and sets itself again.
type gcWatch struct{ _ *byte } // a pointer keeps it out of the tiny allocator

// afterGC restores the runtime's defaults once the live heap outgrows the
// policy (see above), and otherwise watches the next collection.
func afterGC(w *gcWatch) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	if live[0].Value.Kind() == metrics.KindUint64 && live[0].Value.Uint64() > gcMemoryLimit/2 {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		return
	}
	runtime.SetFinalizer(w, afterGC)
}
