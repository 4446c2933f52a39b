//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/cu"
)

// Dim3 is a grid or block shape.
type Dim3 struct{ X, Y, Z int }

// D1, D2 and D3 build grid/block shapes.
func D1(x int) Dim3       { return Dim3{x, 1, 1} }
func D2(x, y int) Dim3    { return Dim3{x, y, 1} }
func D3(x, y, z int) Dim3 { return Dim3{x, y, z} }

// Ptr is a device address. Kernel launchers take Ptr for every tensor
// argument (the base address plus the element offset in bytes).
type Ptr uint64

// Add returns p advanced by bytes.
func (p Ptr) Add(bytes int64) Ptr { return Ptr(int64(p) + bytes) }

// CeilDiv returns ceil(a/b) for grid sizing.
func CeilDiv(a, b int) int { return (a + b - 1) / b }

// function returns the kernel `name` of PTX module `module`, cached. Must run
// inside do.
func (r *Runtime) function(module, name string) (cu.Function, error) {
	key := module + "." + name
	if fn, ok := r.fns[key]; ok {
		return fn, nil
	}
	mod, ok := r.mods[module]
	if !ok {
		return cu.Function{}, fmt.Errorf("cuda: no PTX module %q loaded (have %v)", module, Modules())
	}
	fn, err := mod.Function(name)
	if err != nil {
		return cu.Function{}, fmt.Errorf("cuda: kernel %s not found in module %s: %w", name, module, err)
	}
	r.fns[key] = fn
	return fn, nil
}

// Launch queues kernel `name` of module `module` on the runtime's stream.
//
// Arguments are packed as the 8-byte slots gorgonia.org/cu passes to
// cuLaunchKernel, so kernels must declare every parameter 8 bytes wide:
// Ptr/cu.DevicePtr -> a pointer, int/int64/uint64 -> long long,
// float64/float32 -> double (float32 is widened). Any other type is an error.
// The launch's own error is returned; errors raised while the kernel runs
// surface at the next Sync (or copy back to the host).
func (r *Runtime) Launch(module, name string, grid, block Dim3, sharedBytes int, args ...any) error {
	slots := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Ptr:
			slots[i] = uint64(v)
		case cu.DevicePtr:
			slots[i] = uint64(v)
		case int:
			slots[i] = uint64(int64(v))
		case int64:
			slots[i] = uint64(v)
		case uint64:
			slots[i] = v
		case float64:
			slots[i] = math.Float64bits(v)
		case float32:
			slots[i] = math.Float64bits(float64(v))
		default:
			return fmt.Errorf("cuda: %s.%s argument %d has type %T; kernels take 8-byte pointers, long long or double", module, name, i, a)
		}
	}
	if grid.X <= 0 || grid.Y <= 0 || grid.Z <= 0 || block.X <= 0 || block.Y <= 0 || block.Z <= 0 {
		return fmt.Errorf("cuda: %s.%s launched with grid %v block %v", module, name, grid, block)
	}
	if grid.X > 1<<31-1 || grid.Y > 65535 || grid.Z > 65535 {
		return fmt.Errorf("cuda: %s.%s grid %v exceeds the limits (x < 2^31, y and z <= 65535)", module, name, grid)
	}
	if block.Z > 64 {
		return fmt.Errorf("cuda: %s.%s block %v: z is at most 64", module, name, block)
	}
	if t := block.X * block.Y * block.Z; t > 1024 {
		return fmt.Errorf("cuda: %s.%s block of %d threads (max 1024)", module, name, t)
	}
	ptrs := make([]unsafe.Pointer, len(slots))
	for i := range slots {
		ptrs[i] = unsafe.Pointer(&slots[i])
	}
	return r.do(func() error {
		fn, err := r.function(module, name)
		if err != nil {
			return err
		}
		if key := module + "." + name; sharedBytes > 48<<10 && sharedBytes > r.smemOptIn[key] {
			// Opt in to more than 48 KiB of dynamic shared memory (sm_80+),
			// once per kernel and size (the attribute is sticky).
			if err := setMaxDynamicShared(fn, sharedBytes); err != nil {
				return fmt.Errorf("cuda: %s.%s: %d bytes of shared memory: %w", module, name, sharedBytes, err)
			}
			r.smemOptIn[key] = sharedBytes
		}
		if err := fn.Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, r.stream, ptrs); err != nil {
			return fmt.Errorf("cuda: launching %s.%s grid %v block %v shared %d: %w", module, name, grid, block, sharedBytes, err)
		}
		r.counts.launches.Add(1)
		return nil
	})
}

// Time runs f (which queues work on the stream) between two timing events and
// returns the GPU time it took in milliseconds, waiting for the work to end.
func (r *Runtime) Time(f func() error) (float64, error) {
	var start, end cu.Event
	err := r.do(func() error {
		var e error
		if start, e = cu.MakeEvent(cu.DefaultEvent); e != nil {
			return e
		}
		if end, e = cu.MakeEvent(cu.DefaultEvent); e != nil {
			return e
		}
		return start.Record(r.stream)
	})
	if err != nil {
		return 0, err
	}
	ferr := f()
	var ms float64
	err = r.do(func() error {
		defer cu.DestroyEvent(&start)
		defer cu.DestroyEvent(&end)
		if e := end.Record(r.stream); e != nil {
			return e
		}
		if e := end.Synchronize(); e != nil {
			return e
		}
		var e error
		ms, e = start.Elapsed(end)
		return e
	})
	if ferr != nil {
		return 0, ferr
	}
	return ms, err
}
