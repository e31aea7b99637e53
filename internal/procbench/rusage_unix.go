//go:build unix

package procbench

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSS is the finished child's peak resident memory in bytes, from its
// rusage: Linux and the BSDs give ru_maxrss in KiB, macOS in bytes.
func maxRSS(st *os.ProcessState) int64 {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
