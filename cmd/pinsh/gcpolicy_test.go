package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// keepGCSettings restores the test process's own GC settings when t ends.
func keepGCSettings(t *testing.T) {
	t.Helper()
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

func TestSetGCPolicy(t *testing.T) {
	keepGCSettings(t)
	const unlimited = 1<<63 - 1
	tests := []struct {
		name        string
		env         map[string]string
		applied     bool
		wantPercent int
		wantLimit   int64
	}{
		{"no variable: the policy", nil, true, gcPercent, gcMemoryLimit},
		{"GOGC set: left alone", map[string]string{"GOGC": "100"}, false, 100, unlimited},
		{"GOMEMLIMIT set: left alone", map[string]string{"GOMEMLIMIT": "1GiB"}, false, 100, unlimited},
		{"GOGC set empty: left alone", map[string]string{"GOGC": ""}, false, 100, unlimited},
		{"other variables: the policy", map[string]string{"GODEBUG": "gctrace=1"}, true, gcPercent, gcMemoryLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(unlimited)
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			if got := setGCPolicy(lookup); got != tt.applied {
				t.Fatalf("setGCPolicy applied = %v, want %v", got, tt.applied)
			}
			if got := debug.SetGCPercent(100); got != tt.wantPercent {
				t.Errorf("GOGC = %d, want %d", got, tt.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tt.wantLimit)
			}
		})
	}
}

// TestGCPolicyGivesWayToABigLiveHeap keeps more than half the memory limit
// alive and collects until the policy has handed back to the runtime's
// defaults (a collection's finalizers run asynchronously: wait on the
// condition, bounded by a number of collections, not by time).
func TestGCPolicyGivesWayToABigLiveHeap(t *testing.T) {
	keepGCSettings(t)
	none := func(string) (string, bool) { return "", false }
	if !setGCPolicy(none) {
		t.Fatal("setGCPolicy did not apply the policy")
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > gcMemoryLimit/4 {
		t.Skipf("the test process already keeps %d bytes alive", ms.HeapAlloc)
	}
	if got := debug.SetMemoryLimit(-1); got != gcMemoryLimit {
		t.Fatalf("with a small live heap the limit became %d, want %d", got, gcMemoryLimit)
	}
	live := make([][]byte, 0, 64)
	for range 40 {
		live = append(live, make([]byte, 1<<20))
	}
	for i := 0; debug.SetMemoryLimit(-1) == gcMemoryLimit; i++ {
		if i == 1000 {
			t.Fatal("the memory limit stayed with 40 MiB live")
		}
		runtime.GC()
		runtime.Gosched()
	}
	runtime.KeepAlive(live)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC = %d after the live heap outgrew the policy, want 100", got)
	}
}
