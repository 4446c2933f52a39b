//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"sync"

	"gorgonia.org/cu"
)

// Runtime is one CUDA context on one device with one stream, the loaded PTX
// modules, the caching allocator and the pinned staging buffers. Every driver
// call goes through do, which pins the calling goroutine to its OS thread and
// makes the context current there (the driver's current context is per
// thread, and Go moves goroutines between threads). A mutex serialises the
// calls: kernels are issued in program order on one stream, which is also what
// makes GPU results independent of the number of goroutines.
type Runtime struct {
	mu     sync.Mutex
	dev    cu.Device
	ctx    cu.CUContext
	stream cu.Stream
	name   string
	cc     [2]int // compute capability
	sms    int    // multiprocessors
	mods   map[string]cu.Module
	fns    map[string]cu.Function
	// smemOptIn is the dynamic shared memory each kernel has been allowed.
	smemOptIn map[string]int
	alloc     *cachingAllocator
	staging   *staging
	closed    bool
	counts    counters
}

// Open creates a context on GPU ordinal (0 for the first), a non-blocking
// stream, and loads every embedded PTX module.
func Open(ordinal int) (*Runtime, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d requested, %d present", ordinal, n)
	}
	r := &Runtime{mods: map[string]cu.Module{}, fns: map[string]cu.Function{}, smemOptIn: map[string]int{}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if r.dev, err = cu.GetDevice(ordinal); err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	if r.name, err = r.dev.Name(); err != nil {
		return nil, fmt.Errorf("cuda: device name: %w", err)
	}
	if r.cc[0], err = r.dev.Attribute(cu.ComputeCapabilityMajor); err != nil {
		return nil, err
	}
	if r.cc[1], err = r.dev.Attribute(cu.ComputeCapabilityMinor); err != nil {
		return nil, err
	}
	if r.sms, err = r.dev.Attribute(cu.MultiprocessorCount); err != nil {
		return nil, err
	}
	if r.cc[0] < 8 {
		return nil, fmt.Errorf("cuda: %s has compute capability %d.%d; nori's kernels need 8.0 or newer (mma.sync bf16, cp.async)",
			r.name, r.cc[0], r.cc[1])
	}
	if r.ctx, err = r.dev.MakeContext(cu.SchedAuto); err != nil {
		return nil, fmt.Errorf("cuda: creating a context on %s: %w", r.name, err)
	}
	if err = cu.SetCurrentContext(r.ctx); err != nil {
		return nil, err
	}
	if r.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return nil, fmt.Errorf("cuda: creating a stream: %w", err)
	}
	for _, m := range Modules() {
		src, err := PTX(m)
		if err != nil {
			return nil, err
		}
		mod, err := cu.LoadData(src)
		if err != nil {
			return nil, fmt.Errorf("cuda: loading PTX module %q (JIT for sm_%d%d): %w", m, r.cc[0], r.cc[1], err)
		}
		r.mods[m] = mod
	}
	r.alloc = newCachingAllocator(driverAlloc{r})
	r.staging = newStaging()
	return r, nil
}

// do runs f with the context current on a locked OS thread, one caller at a
// time.
func (r *Runtime) do(f func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("cuda: runtime used after Close")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(r.ctx); err != nil {
		return fmt.Errorf("cuda: making the context current: %w", err)
	}
	return f()
}

// Counts returns the runtime's counters (launches, copies, synchronisations)
// since Open.
func (r *Runtime) Counts() Counts { return r.counts.snapshot() }

// Name is the device's name, e.g. "NVIDIA H100 80GB HBM3".
func (r *Runtime) Name() string { return r.name }

// ComputeCapability returns the device's major and minor version.
func (r *Runtime) ComputeCapability() (int, int) { return r.cc[0], r.cc[1] }

// SMs is the number of streaming multiprocessors (kernels size their grids
// from it, e.g. attention's KV split).
func (r *Runtime) SMs() int { return r.sms }

// Stream is the runtime's stream; every launch and copy is issued on it.
func (r *Runtime) Stream() cu.Stream { return r.stream }

// Sync waits for all work on the stream and returns the first error a kernel
// raised since the last check.
func (r *Runtime) Sync() error {
	r.counts.syncs.Add(1)
	return r.do(func() error {
		if err := r.stream.Synchronize(); err != nil {
			return fmt.Errorf("cuda: stream synchronize (an earlier kernel failed): %w", err)
		}
		return nil
	})
}

// Close frees the cached memory, the staging buffers, the stream and the
// context. The runtime must not be used afterwards.
func (r *Runtime) Close() error {
	err := r.do(func() error {
		var first error
		keep := func(e error) {
			if e != nil && first == nil {
				first = e
			}
		}
		keep(r.stream.Synchronize())
		keep(r.alloc.Trim())
		keep(r.staging.release())
		keep(r.stream.Destroy())
		keep(r.ctx.Destroy())
		return first
	})
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return err
}
