//go:build cuda

package tensor

import (
	"github.com/nori-ml/nori/kernels/cuda"
)

// Reductions on the GPU (kernels/cuda: Reduce, SumSquares).
//
// a's axes are grouped as on the CPU (size-1 axes dropped, neighbours of the
// same kind, kept or reduced, merged where their strides nest) but keeping
// their order, so dst's row-major order is that of the kept groups. The
// kernel takes at most cuda.MaxRank groups; more (a rank-9+ tensor whose
// axes do not nest, or more than four alternations of kept and reduced axes)
// are brought down first: a strided input is copied contiguous, and a
// contiguous one is reduced in two stages, its innermost reduced group
// first (a mean of equal-sized means is the mean, a max of maxes the max).

// reduceOpCode maps a ReduceOp to the launcher's enum.
func reduceOpCode(op ReduceOp) int {
	switch op {
	case OpSum:
		return cuda.ReduceSum
	case OpMean:
		return cuda.ReduceMean
	}
	return cuda.ReduceMax
}

// reduceGroup is a run of a's axes merged into one kernel axis.
type reduceGroup struct {
	size, stride int
	reduced      bool
	axes         []int // a's axes in the group
}

// reduceGroupsOrdered groups a's axes for the kernel (see the file comment).
func reduceGroupsOrdered(a *Tensor, axes []bool) []reduceGroup {
	var gs []reduceGroup
	for i, d := range a.shape {
		if d == 1 {
			continue
		}
		if n := len(gs) - 1; n >= 0 && gs[n].reduced == axes[i] && gs[n].stride == a.strides[i]*d {
			gs[n].size *= d
			gs[n].stride = a.strides[i]
			gs[n].axes = append(gs[n].axes, i)
			continue
		}
		gs = append(gs, reduceGroup{size: d, stride: a.strides[i], reduced: axes[i], axes: []int{i}})
	}
	return gs
}

func (b cudaBackend) Reduce(op ReduceOp, dst, a *Tensor, axes []bool) {
	defer keep(dst, a)
	b.need32("Reduce", dst, a)
	nOut := dst.Numel()
	if nOut == 0 {
		return
	}
	if a.Numel() == 0 { // an empty reduced axis
		b.Fill(dst, nanOrZero(op))
		return
	}
	gs := reduceGroupsOrdered(a, axes)
	reduced := false
	for _, g := range gs {
		reduced = reduced || g.reduced
	}
	if !reduced {
		// Every reduced axis has size 1: each output is its one input.
		b.Copy(dst, a.view(dst.shape, a.strides, a.offset))
		return
	}
	if len(gs) > cuda.MaxRank {
		if !a.IsContiguous() {
			c := a.Clone()
			defer c.Release()
			b.Reduce(op, dst, c, axes)
			return
		}
		// Reduce the innermost reduced group alone, then the rest.
		var last reduceGroup
		for _, g := range gs {
			if g.reduced {
				last = g
			}
		}
		mid := a.shape.Clone()
		first := make([]bool, len(axes))
		for _, i := range last.axes {
			mid[i], first[i] = 1, true
		}
		tmp := New(b.d, Float32, mid...)
		defer tmp.Release()
		b.Reduce(op, tmp, a, first)
		b.Reduce(op, dst, tmp, axes)
		return
	}
	l := cuda.Layout{Rank: len(gs)}
	var red [cuda.MaxRank]bool
	for k, g := range gs {
		l.Shape[k], l.Strides[k], red[k] = int64(g.size), int64(g.stride), g.reduced
	}
	b.check("Reduce", b.d.rt.Reduce(reduceOpCode(op), b.ptr("Reduce", dst), b.ptr("Reduce", a), l, red))
}

// SumSquares sums in float64 on the GPU (a fixed two-stage order, so the
// bits are deterministic but differ from the CPU's chunked sum in the last
// places); a strided input is copied contiguous first.
func (b cudaBackend) SumSquares(a *Tensor) float64 {
	defer keep(a)
	b.need32("SumSquares", a)
	n := a.Numel()
	if n == 0 {
		return 0
	}
	c, free := b.contiguousOn(a)
	defer free()
	s, err := b.d.rt.SumSquares(b.ptr("SumSquares", c), n)
	b.check("SumSquares", err)
	return s
}
