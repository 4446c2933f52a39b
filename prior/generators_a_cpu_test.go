//go:build unix

package prior

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used. The
// benchmarks report tables per CPU-second besides tables per wall-second
// because the development machine is shared: wall time there measures the
// load of other jobs as much as the generator.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
