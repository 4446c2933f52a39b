//go:build cuda

package tensor

import (
	"fmt"
	"runtime"

	"github.com/nori-ml/nori/kernels/cuda"
)

// cudaBackend implements Backend with the launchers of kernels/cuda; its
// methods are spread over cuda_backend_*.go, one file per kernel family.
//
// Layouts. Launchers take device addresses and, for strided operands, a
// cuda.Layout (shape and strides in elements, at most cuda.MaxRank axes).
// Every address passed is that of the tensor's first element (the storage
// base plus the tensor's offset), so the Layout offsets are always 0.
// Operands of one elementwise op are first coalesced together (coalesce:
// size-1 axes dropped, nested axes merged), which leaves contiguous tensors
// rank 1; a result still above cuda.MaxRank is cut into blocks over its
// leading axes (eachBlock), one launch per block.
//
// Dtypes. The kernels compute in float32. Float64 tensors may live on the
// GPU (created, copied, converted) but every compute op panics on them,
// naming the op; BFloat16 is storage only, as everywhere in this package.
//
// Lifetimes. A launch only queues work. Methods defer keep(...) on their
// tensors so that no storage whose address was taken is collected (and its
// block reused) before the launches using it are queued; after that the
// stream's program order protects them.
type cudaBackend struct{ d *cudaDevice }

// keep keeps ts reachable until the (deferred) call.
func keep(ts ...*Tensor) { runtime.KeepAlive(ts) }

// ptr returns the device address of t's first element (0 for nil).
func (b cudaBackend) ptr(op string, t *Tensor) cuda.Ptr {
	if t == nil {
		return 0
	}
	if t.st == nil {
		panic(fmt.Sprintf("tensor: %s on %v: tensor used after Release", op, b.d))
	}
	s, ok := t.st.(*cudaStorage)
	if !ok || s.dev != b.d {
		panic(fmt.Sprintf("tensor: %s: %v tensor passed to a kernel of %v", op, t.Device(), b.d))
	}
	return s.at(op, t.offset)
}

// need32 panics unless every non-nil tensor is float32: the GPU kernels
// compute in float32 only.
func (b cudaBackend) need32(op string, ts ...*Tensor) {
	for _, t := range ts {
		if t == nil || t.st == nil {
			continue
		}
		if dt := t.DType(); dt != Float32 {
			panic(fmt.Sprintf("tensor.%s: dtype %v is not supported on %v: the GPU kernels compute in float32 (convert with To(dev, Float32))",
				op, dt, b.d))
		}
	}
}

// check panics with op, the device and err when err is not nil.
func (b cudaBackend) check(op string, err error) {
	if err != nil {
		panic(fmt.Sprintf("tensor: %s on %v: %v", op, b.d, err))
	}
}

// cudaLayout describes t (rank at most cuda.MaxRank) to a launcher. The
// offset is 0: addresses passed with it point at t's first element.
func cudaLayout(op string, t *Tensor) cuda.Layout {
	if len(t.shape) > cuda.MaxRank {
		panic(fmt.Sprintf("tensor: %s: layout of rank %d (shape %v) passed to a CUDA kernel (max %d)", op, len(t.shape), t.shape, cuda.MaxRank))
	}
	l := cuda.Layout{Rank: len(t.shape)}
	for i, d := range t.shape {
		l.Shape[i] = int64(d)
		l.Strides[i] = int64(t.strides[i])
	}
	return l
}

// eachBlock calls fn with views of vs (one shape of rank >= 1, as coalesce
// returns them) of at most cuda.MaxRank axes: when there are more, the
// leading axes are walked index by index and fn gets one block per index
// tuple, in row-major order (a contiguous first view stays contiguous).
func eachBlock(vs []*Tensor, fn func(sub []*Tensor)) {
	shape := vs[0].shape
	lead := len(shape) - cuda.MaxRank
	if lead <= 0 {
		fn(vs)
		return
	}
	ws := make([]*tupleWalker, len(vs))
	for k, v := range vs {
		ws[k] = newTupleWalker(shape[:lead], v.strides[:lead])
	}
	sub := make([]*Tensor, len(vs))
	for i, n := 0, Shape(shape[:lead]).Numel(); i < n; i++ {
		for k, v := range vs {
			sub[k] = v.view(shape[lead:], v.strides[lead:], v.offset+ws[k].next())
		}
		fn(sub)
	}
}

// cudaDType maps a storage dtype to the kernels' enum.
func cudaDType(dt DType) cuda.DType {
	switch dt {
	case Float32:
		return cuda.DTF32
	case Float64:
		return cuda.DTF64
	case BFloat16:
		return cuda.DTBF16
	}
	panic(fmt.Sprintf("tensor: no CUDA dtype for %v", dt))
}

// contiguousOn returns t itself when contiguous, else a contiguous copy and a
// function that frees it (the launches reading it are queued by then).
func (b cudaBackend) contiguousOn(t *Tensor) (*Tensor, func()) {
	if t == nil || t.IsContiguous() {
		return t, func() {}
	}
	c := t.Clone()
	return c, c.Release
}
