//go:build !unix

package procbench

import "os"

// maxRSS is zero where the system's accounting of a child gives no peak
// resident memory that this package reads.
func maxRSS(*os.ProcessState) int64 { return 0 }
