package tensor

import "github.com/nori-ml/nori/kernels/ref"

// CPU gathers and scatters along one axis. Operands are described to the
// kernels as [outer, axis, inner] grids through precomputed offsets
// (ref.AxisLayout), which covers every stride pattern with O(outer + inner)
// extra memory; a unit-stride inner part (the usual case) needs no offsets.

// axisLayout describes t around axis for the ref kernels.
func axisLayout(t *Tensor, axis int) ref.AxisLayout {
	ow := newTupleWalker(t.shape[:axis], t.strides[:axis])
	outer := make([]int, Shape(t.shape[:axis]).Numel())
	for i := range outer {
		outer[i] = ow.next()
	}
	in := t.view(t.shape[axis+1:], t.strides[axis+1:], t.offset)
	l := ref.AxisLayout{OuterOff: outer, AxisStride: t.strides[axis], Inner: in.Numel()}
	if l.Inner == 0 {
		return l
	}
	c := coalesce(in)[0]
	if len(c.shape) == 1 && c.strides[0] == 1 {
		return l
	}
	iw := newTupleWalker(c.shape, c.strides)
	l.InnerOff = make([]int, l.Inner)
	for k := range l.InnerOff {
		l.InnerOff[k] = iw.next()
	}
	return l
}

func (cpuBackend) IndexSelect(dst, a *Tensor, axis int, idx []int) {
	if dst.DType() == Float64 {
		indexSelectCPU[float64](dst, a, axis, idx)
	} else {
		indexSelectCPU[float32](dst, a, axis, idx)
	}
}

// indexSelectCPU splits the [outer, len(idx)] grid of dst rows over the
// workers; each dst row is written by one task.
func indexSelectCPU[T Float](dst, a *Tensor, axis int, idx []int) {
	if dst.Numel() == 0 {
		return
	}
	la := axisLayout(a, axis)
	dd, ad := cpuData[T](dst)[:dst.Numel()], cpuData[T](a)
	Parallel(len(la.OuterOff)*len(idx), grainRows(la.Inner), func(lo, hi int) {
		ref.IndexSelect(dd, ad, la, idx, lo, hi)
	})
}

func (cpuBackend) IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	if dst.DType() == Float64 {
		indexAddCPU[float64](dst, axis, idx, src)
	} else {
		indexAddCPU[float32](dst, axis, idx, src)
	}
}

// indexAddCPU parallelises over (outer index, inner column range) pairs,
// never over j: each dst element belongs to one pair and receives its
// additions in j order, so the result is the same for every split (the
// column width may therefore depend on the worker count).
func indexAddCPU[T Float](dst *Tensor, axis int, idx []int, src *Tensor) {
	if src.Numel() == 0 {
		return
	}
	ls := axisLayout(src, axis)
	outer, inner := len(ls.OuterOff), ls.Inner
	// Enough column ranges for about four tasks per worker when the outer
	// extent alone does not provide them, but at least 64 columns each.
	cols := inner
	if w := Workers(); outer < 4*w {
		per := (outer*inner + 4*w - 1) / (4 * w)
		cols = min(inner, max(64, per))
	}
	nc := (inner + cols - 1) / cols
	dd, sd := cpuData[T](dst)[:dst.Numel()], cpuData[T](src)
	axisLen := dst.shape[axis]
	Parallel(outer*nc, max(1, elemGrain/(len(idx)*cols)), func(lo, hi int) {
		for it := lo; it < hi; it++ {
			o, c := it/nc, it%nc
			k0 := c * cols
			ref.IndexAdd(dd, axisLen, sd, ls, idx, o, k0, min(inner, k0+cols))
		}
	})
}
