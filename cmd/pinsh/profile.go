//go:build pinshprof

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// A build with -tags pinshprof writes profiles of the whole process, for
// measuring where a pipeline's time and memory go:
//
//	go build -tags pinshprof -o /tmp/pinsh-prof ./cmd/pinsh
//	PINSH_CPUPROFILE=cpu.out PINSH_MEMPROFILE=mem.out /tmp/pinsh-prof --db D -c '...'
//	go tool pprof -top /tmp/pinsh-prof cpu.out
//
// The default build leaves runtime/pprof (and its package initialisation)
// out of pinsh. PINSH_MEMPROFILE is written at exit: allocations over the
// whole run (-sample_index=alloc_space) and what was live at the last
// collection (inuse_space).
func init() {
	if path := os.Getenv("PINSH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pinsh: PINSH_CPUPROFILE:", err)
			os.Exit(2)
		}
		atExit = append(atExit, func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	if path := os.Getenv("PINSH_MEMPROFILE"); path != "" {
		atExit = append(atExit, func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "pinsh: PINSH_MEMPROFILE:", err)
			}
		})
	}
}
