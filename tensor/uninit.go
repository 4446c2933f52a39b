package tensor

import (
	"sync/atomic"
	"testing"
)

// Most op outputs are overwritten in full by their kernel (a copy, a matrix
// product with beta = 0, an elementwise op), so zeroing their storage first
// is wasted memory traffic: on a CPU training step it was about 5% of the
// time, all of it in memclr of reused pool buffers. Such ops allocate with
// empty instead of New; ops that accumulate into their output (reductions,
// parameter gradients of norms, the attention backward) keep New's zeros.
//
// A kernel that skipped an element would leave stale data from an earlier
// tensor there: a silent, rare, run-dependent error. So in test binaries
// (testing.Testing) every uninitialised allocation is filled with NaN
// instead: any element an op forgets to write turns its result NaN, and
// the conformance, gradient and training tests fail. Benchmarks turn the
// poison off (SetPoisonUninit) to measure what users get.

// uninitAllocator is a Device that can hand out storage without zeroing it.
type uninitAllocator interface {
	allocUninit(dt DType, n int) Storage
}

var poisonUninit atomic.Bool

func init() { poisonUninit.Store(testing.Testing()) }

// SetPoisonUninit sets whether storage handed out uninitialised (the outputs
// of ops that overwrite them in full) is filled with NaN, and returns the
// previous setting. It is on in test binaries and off otherwise; it is a
// debugging aid (a kernel that leaves elements unwritten then yields NaN)
// and costs what zeroing costs.
func SetPoisonUninit(on bool) (was bool) { return poisonUninit.Swap(on) }

// empty returns a contiguous tensor on dev whose contents are unspecified
// (NaN under SetPoisonUninit): only for outputs the caller overwrites in full.
func empty(dev Device, dt DType, shape ...int) *Tensor {
	u, ok := dev.(uninitAllocator)
	if !ok {
		return New(dev, dt, shape...)
	}
	checkDims("empty", shape)
	s := Shape(shape).Clone()
	return &Tensor{shape: s, strides: contiguousStrides(s), st: u.allocUninit(dt, s.Numel())}
}

// emptyLike is empty with t's device and dtype.
func emptyLike(t *Tensor, shape ...int) *Tensor { return empty(t.Device(), t.DType(), shape...) }

// bf16NaN is a quiet bfloat16 NaN.
const bf16NaN = 0x7fc1

func (d *cpuDevice) allocUninit(dt DType, n int) Storage { return d.alloc(dt, n, false) }

func fillAll[T any](b []T, v T) {
	for i := range b {
		b[i] = v
	}
}

func (d *emuDevice) allocUninit(dt DType, n int) Storage {
	return &emuStorage{dev: d, inner: CPU.(*cpuDevice).allocUninit(dt, n)}
}
