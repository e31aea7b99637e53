package lang

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
)

// BenchmarkInvoke measures one call of a script predicate from Go, the cost
// where(func(p) {...}) pays per record.
func BenchmarkInvoke(b *testing.B) {
	for _, tc := range []struct{ name, fn string }{
		{"field", `func(p) { return p.is_pin_set }`},
		{"closure", `func(p) { return p.is_pin_set && p.display_name != skip }`},
		{"variadic", `func(...ps) { return ps[0].is_pin_set }`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, Options{})
			h.must(`skip := "nobody"; pred := ` + tc.fn)
			pred, _ := h.s.Lookup("pred")
			rec := pinRecord(0)
			env := h.s.Env()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := env.Invoke(pred, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call")
		})
	}
}

const benchRecords = 1_000_000

// goLoop is the Go equivalent of fake_pins(n) | where({is_pin_set: true}) |
// count: the same records made in the same chunks, filtered in a plain loop.
func goLoop(n int) int {
	count := 0
	for start := 0; start < n; start += 1024 {
		chunk := make([]tengo.Object, 0, 1024)
		for i := start; i < n && len(chunk) < 1024; i++ {
			chunk = append(chunk, pinRecord(i))
		}
		for _, o := range chunk {
			if o.(*Record).Get("is_pin_set") == tengo.TrueValue {
				count++
			}
		}
	}
	return count
}

// BenchmarkWhereCount runs a 1,000,000-record where | count pipeline over a
// fake in-memory source, with a script predicate and with a map predicate,
// next to the equivalent Go loop, and reports ns per record and the ratios.
// Run it with -benchtime=3x: one iteration is three full passes.
func BenchmarkWhereCount(b *testing.B) {
	h := newHarness(b, Options{})
	pipelines := []struct{ name, src string }{
		{"func", fmt.Sprintf(`n := fake_pins(%d) | where(func(p) { return p.is_pin_set }) | count`, benchRecords)},
		{"closure", fmt.Sprintf(`want := true; n := fake_pins(%d) | where(func(p) { return p.is_pin_set == want }) | count`, benchRecords)},
		{"map", fmt.Sprintf(`n := fake_pins(%d) | where({is_pin_set: true}) | count`, benchRecords)},
	}
	elapsed := make([]time.Duration, len(pipelines))
	var goTime time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if got := goLoop(benchRecords); got != benchRecords/2 {
			b.Fatalf("go loop counted %d", got)
		}
		goTime += time.Since(start)
		for i, p := range pipelines {
			start := time.Now()
			h.must(p.src)
			elapsed[i] += time.Since(start)
			if v, _ := h.s.Lookup("n"); v.(*tengo.Int).Value != benchRecords/2 {
				b.Fatalf("%s counted %v", p.name, v)
			}
		}
	}
	perRec := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / benchRecords }
	b.ReportMetric(perRec(goTime), "go-ns/rec")
	for i, p := range pipelines {
		b.ReportMetric(perRec(elapsed[i]), p.name+"-ns/rec")
		b.ReportMetric(float64(elapsed[i])/float64(goTime), p.name+"-x-go")
	}
}

// BenchmarkPeakMemory compares the heap high-water mark of a lazy 1M-record
// pipeline with the same pipeline over collected records.
func BenchmarkPeakMemory(b *testing.B) {
	h := newHarness(b, Options{})
	var peak uint64
	var ms runtime.MemStats
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	measure := func(src string) uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		peak = base
		h.w.onPull = sample
		defer func() { h.w.onPull = nil }()
		if err := h.s.Eval(context.Background(), "mem", []byte(src)); err != nil {
			b.Fatal(err)
		}
		sample()
		return peak - base
	}
	lazySrc := fmt.Sprintf(`n := fake_pins(%d) | where({is_pin_set: true}) | count`, benchRecords)
	collectedSrc := fmt.Sprintf(`n := fake_pins(%d) | collect | where({is_pin_set: true}) | count`, benchRecords)
	var lazy, collected uint64
	for b.Loop() {
		lazy = max(lazy, measure(lazySrc))
		collected = max(collected, measure(collectedSrc))
	}
	b.ReportMetric(float64(lazy)/(1<<20), "lazy-MiB")
	b.ReportMetric(float64(collected)/(1<<20), "collected-MiB")
	b.ReportMetric(float64(collected)/float64(max(lazy, 1)), "collected/lazy")
}
