//go:build cuda

package tensor

// Elementwise ops on the GPU (kernels/cuda: Binary, Unary, UnaryGrad, Where).
// The output and the inputs are coalesced together, so a contiguous output
// with contiguous or broadcast inputs usually becomes one launch of rank 1 or
// 2; the kernels walk each input through its Layout (stride 0 where
// broadcast) and write the output contiguously. The op enums are those of
// kernels/ref, shared by every backend.

func (b cudaBackend) Binary(op BinaryOp, dst, x, y *Tensor) {
	defer keep(dst, x, y)
	b.need32("Binary", dst, x, y)
	if dst.Numel() == 0 {
		return
	}
	eachBlock(coalesce(dst, x, y), func(s []*Tensor) {
		b.check("Binary", b.d.rt.Binary(int(op), b.ptr("Binary", s[0]),
			b.ptr("Binary", s[1]), cudaLayout("Binary", s[1]),
			b.ptr("Binary", s[2]), cudaLayout("Binary", s[2]),
			cudaLayout("Binary", s[0])))
	})
}

func (b cudaBackend) Unary(op UnaryOp, dst, x *Tensor, p float64) {
	defer keep(dst, x)
	b.need32("Unary", dst, x)
	if dst.Numel() == 0 {
		return
	}
	eachBlock(coalesce(dst, x), func(s []*Tensor) {
		b.check("Unary", b.d.rt.Unary(int(op), b.ptr("Unary", s[0]),
			b.ptr("Unary", s[1]), cudaLayout("Unary", s[1]), s[0].Numel(), p))
	})
}

func (b cudaBackend) UnaryGrad(op UnaryOp, dx, x, y, dy *Tensor, p float64) {
	defer keep(dx, x, y, dy)
	b.need32("UnaryGrad", dx, x, y, dy)
	if dx.Numel() == 0 {
		return
	}
	eachBlock(coalesce(dx, x, y, dy), func(s []*Tensor) {
		b.check("UnaryGrad", b.d.rt.UnaryGrad(int(op), b.ptr("UnaryGrad", s[0]),
			b.ptr("UnaryGrad", s[1]), cudaLayout("UnaryGrad", s[1]),
			b.ptr("UnaryGrad", s[2]), cudaLayout("UnaryGrad", s[2]),
			b.ptr("UnaryGrad", s[3]), cudaLayout("UnaryGrad", s[3]),
			s[0].Numel(), p))
	})
}

func (b cudaBackend) Where(dst, cond, x, y *Tensor) {
	defer keep(dst, cond, x, y)
	b.need32("Where", dst, cond, x, y)
	if dst.Numel() == 0 {
		return
	}
	eachBlock(coalesce(dst, cond, x, y), func(s []*Tensor) {
		b.check("Where", b.d.rt.Where(b.ptr("Where", s[0]), cudaLayout("Where", s[0]),
			b.ptr("Where", s[1]), cudaLayout("Where", s[1]),
			b.ptr("Where", s[2]), cudaLayout("Where", s[2]),
			b.ptr("Where", s[3]), cudaLayout("Where", s[3])))
	})
}
