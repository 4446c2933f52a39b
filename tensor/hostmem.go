package tensor

import (
	"runtime"
	"sync/atomic"
)

// Host memory accounting, off by default. While it is on, every host storage
// that CPU.Alloc hands out is counted from its allocation until it is freed
// (Tensor.Release) or, when it is dropped without a Release, until the
// garbage collector reclaims it (a runtime cleanup), so the counter does not
// drift upwards. The peak is what a caller measuring one workload wants:
// turn accounting on, reset the peak, run the workload, read it. Bytes are
// counted at the buffer's capacity (its size class), which is what the
// process holds. Storage allocated while accounting was off is never
// counted, even when freed later. Off, an allocation pays one atomic load:
// the cleanup costs about 0.5 us per allocation, too much for every small
// tensor of a kernel benchmark.

// HostMemStats are the host tensor memory counters in bytes.
type HostMemStats struct {
	InUse     int64 // storage allocated and neither freed nor collected
	PeakInUse int64 // maximum of InUse since the last ResetHostPeakMem
	Pooled    int64 // released buffers kept by the buffer pool for reuse
}

var (
	hostAccounting      atomic.Bool
	hostInUse, hostPeak atomic.Int64
)

// SetHostMemAccounting turns host memory accounting on or off (see above)
// and returns its previous state.
func SetHostMemAccounting(on bool) bool { return hostAccounting.Swap(on) }

// hostAcct is one storage's share of the counters; done makes Free and the
// cleanup subtract it once between them.
type hostAcct struct {
	bytes int64
	done  atomic.Bool
}

// HostMem returns the host tensor memory counters.
func HostMem() HostMemStats {
	return HostMemStats{InUse: hostInUse.Load(), PeakInUse: hostPeak.Load(), Pooled: pooledBytes.Load()}
}

// ResetHostPeakMem sets the peak to the bytes in use now.
func ResetHostPeakMem() { hostPeak.Store(hostInUse.Load()) }

// countHost adds s's bytes to the counters, when accounting is on, and
// arranges for them to be subtracted when s is garbage collected without a
// Free.
func countHost(s *cpuStorage, bytes int64) {
	if !hostAccounting.Load() {
		return
	}
	a := &hostAcct{bytes: bytes}
	s.acct = a
	now := hostInUse.Add(bytes)
	for {
		p := hostPeak.Load()
		if now <= p || hostPeak.CompareAndSwap(p, now) {
			break
		}
	}
	runtime.AddCleanup(s, uncountHost, a)
}

// uncountHost subtracts a's bytes unless they already were.
func uncountHost(a *hostAcct) {
	if a != nil && a.done.CompareAndSwap(false, true) {
		hostInUse.Add(-a.bytes)
	}
}
