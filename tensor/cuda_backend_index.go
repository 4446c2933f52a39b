//go:build cuda

package tensor

// Gathers and scatters along one axis on the GPU (kernels/cuda: IndexSelect,
// IndexAdd). The kernels see contiguous [outer, axis, inner] grids, so a
// strided source is copied contiguous first; dst is contiguous by contract.
// IndexAdd is deterministic on the GPU too: each dst element receives its
// additions in j order (no atomics).

// axisGrid returns the [outer, axisLen, inner] view of shape around axis.
func axisGrid(shape Shape, axis int) (outer, axisLen, inner int) {
	return Shape(shape[:axis]).Numel(), shape[axis], Shape(shape[axis+1:]).Numel()
}

func (b cudaBackend) IndexSelect(dst, a *Tensor, axis int, idx []int) {
	defer keep(dst, a)
	const op = "IndexSelect"
	b.need32(op, dst, a)
	if dst.Numel() == 0 {
		return
	}
	a, free := b.contiguousOn(a)
	defer free()
	outer, axisLen, inner := axisGrid(a.shape, axis)
	b.check(op, b.d.rt.IndexSelect(b.ptr(op, dst), b.ptr(op, a), outer, axisLen, inner, idx))
}

func (b cudaBackend) IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	defer keep(dst, src)
	const op = "IndexAdd"
	b.need32(op, dst, src)
	if src.Numel() == 0 {
		return
	}
	src, free := b.contiguousOn(src)
	defer free()
	outer, axisLen, inner := axisGrid(dst.shape, axis)
	b.check(op, b.d.rt.IndexAdd(b.ptr(op, dst), outer, axisLen, inner, idx, b.ptr(op, src)))
}
