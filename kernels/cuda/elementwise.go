//go:build cuda

package cuda

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/ref"
)

// Elementwise launchers (src/elementwise.cu): float32 unary ops, their
// gradients, binary ops with broadcasting and where. Ops are kernels/ref's
// enums (ref.UnaryOp, ref.BinaryOp) passed as int; the formulas and their
// float64 evaluation are the reference's (see the .cu header). Measured
// speed: not yet run on a GPU.

// launchStrided runs a strided elementwise entry over f in slabs of fewer
// than 2^31 elements: parameters n, rank, dims, then per operand pointer and
// strides (float32 operands), then extra.
func (r *Runtime) launchStrided(kernel string, f flatLayout, bases []Ptr, extra ...any) error {
	return f.slabs(func(p flatLayout) error {
		args := p.args(make([]any, 0, 10+9*len(bases)+len(extra)))
		for j, b := range bases {
			args = p.operandArgs(args, j, b, 4)
		}
		args = append(args, extra...)
		n := int(p.numel())
		return r.Launch("elementwise", kernel, r.elementwiseGrid(n, ewBlock), D1(ewBlock), 0, args...)
	})
}

// contigGrid sizes a `_contig` launch (four elements per thread).
func (r *Runtime) contigGrid(n int64) Dim3 {
	return r.elementwiseGrid(int(min((n+3)/4, 1<<30)), ewBlock)
}

// Unary computes dst = op(a, p) for op a ref.UnaryOp: dst is n contiguous
// float32, a any layout of n elements (broadcast allowed).
func (r *Runtime) Unary(op int, dst Ptr, a Ptr, al Layout, n int, p float64) error {
	name, ok := unaryKernels[ref.UnaryOp(op)]
	if !ok {
		return fmt.Errorf("cuda: Unary: unknown op %d", op)
	}
	if err := al.check("Unary input", false); err != nil {
		return err
	}
	if al.Numel() != int64(n) {
		return fmt.Errorf("cuda: Unary: n = %d but the input has %d elements (%v)", n, al.Numel(), al)
	}
	if n == 0 {
		return nil
	}
	dl := contiguousLike(al)
	f := coalesce([]Layout{dl, al})
	if f.contiguous(1) {
		return r.Launch("elementwise", "nori_elementwise_unary_"+name+"_contig", r.contigGrid(int64(n)), D1(ewBlock), 0,
			dst, f.offsetPtr(1, a, 4), int64(n), p)
	}
	return r.launchStrided("nori_elementwise_unary_"+name, f, []Ptr{dst, a}, p)
}

// UnaryGrad computes dx = dy * op'(x) (ref.UnaryGrad's formulas); y is the
// forward output op(x). dx is n contiguous float32; x, y and dy have any
// layout of the same shape. Only the inputs ref.UnaryGradInputs names for op
// are read: the others may be 0 with a zero Layout.
func (r *Runtime) UnaryGrad(op int, dx, x Ptr, xl Layout, y Ptr, yl Layout, dy Ptr, dyl Layout, n int, p float64) error {
	name, ok := unaryKernels[ref.UnaryOp(op)]
	if !ok {
		return fmt.Errorf("cuda: UnaryGrad: unknown op %d", op)
	}
	usesX, usesY := ref.UnaryGradInputs(ref.UnaryOp(op))
	if !usesX {
		x, xl = 0, dyl
	}
	if !usesY {
		y, yl = 0, dyl
	}
	if usesX && x == 0 || usesY && y == 0 || dy == 0 {
		return fmt.Errorf("cuda: UnaryGrad: op %s needs x=%v y=%v and dy, got a nil pointer", name, usesX, usesY)
	}
	ls := []Layout{contiguousLike(dyl), xl, yl, dyl}
	for i, l := range ls[1:] {
		if err := l.check([]string{"x", "y", "dy"}[i], false); err != nil {
			return err
		}
	}
	if err := sameShape([]string{"dx", "x", "y", "dy"}, ls); err != nil {
		return err
	}
	if dyl.Numel() != int64(n) {
		return fmt.Errorf("cuda: UnaryGrad: n = %d but dy has %d elements (%v)", n, dyl.Numel(), dyl)
	}
	if n == 0 {
		return nil
	}
	f := coalesce(ls)
	if f.contiguous(1) && f.contiguous(2) && f.contiguous(3) {
		return r.Launch("elementwise", "nori_elementwise_grad_"+name+"_contig", r.contigGrid(int64(n)), D1(ewBlock), 0,
			dx, f.offsetPtr(1, x, 4), f.offsetPtr(2, y, 4), f.offsetPtr(3, dy, 4), int64(n), p)
	}
	return r.launchStrided("nori_elementwise_grad_"+name, f, []Ptr{dx, x, y, dy}, p)
}

// Binary computes dst = a op b for op a ref.BinaryOp. dl is dst's layout
// (normally contiguous; any non-overlapping strides work); al and bl have
// dst's shape, with stride 0 on broadcast axes.
func (r *Runtime) Binary(op int, dst Ptr, a Ptr, al Layout, b Ptr, bl Layout, dl Layout) error {
	name, ok := binaryKernels[ref.BinaryOp(op)]
	if !ok {
		return fmt.Errorf("cuda: Binary: unknown op %d", op)
	}
	ls := []Layout{dl, al, bl}
	for i, l := range ls {
		if err := l.check([]string{"dst", "a", "b"}[i], i == 0); err != nil {
			return err
		}
	}
	if err := sameShape([]string{"dst", "a", "b"}, ls); err != nil {
		return err
	}
	n := dl.Numel()
	if n == 0 {
		return nil
	}
	f := coalesce(ls)
	if f.contiguous(0) && f.contiguous(1) && f.contiguous(2) {
		return r.Launch("elementwise", "nori_elementwise_binary_"+name+"_contig", r.contigGrid(n), D1(ewBlock), 0,
			f.offsetPtr(0, dst, 4), f.offsetPtr(1, a, 4), f.offsetPtr(2, b, 4), n)
	}
	return r.launchStrided("nori_elementwise_binary_"+name, f, []Ptr{dst, a, b})
}

// Where computes dst = cond != 0 ? a : b (NaN counts as true); cond, a and b
// have dst's shape (stride 0 where broadcast), cond is float32.
func (r *Runtime) Where(dst Ptr, dl Layout, cond Ptr, cl Layout, a Ptr, al Layout, b Ptr, bl Layout) error {
	ls := []Layout{dl, cl, al, bl}
	for i, l := range ls {
		if err := l.check([]string{"dst", "cond", "a", "b"}[i], i == 0); err != nil {
			return err
		}
	}
	if err := sameShape([]string{"dst", "cond", "a", "b"}, ls); err != nil {
		return err
	}
	n := dl.Numel()
	if n == 0 {
		return nil
	}
	f := coalesce(ls)
	if f.contiguous(0) && f.contiguous(1) && f.contiguous(2) && f.contiguous(3) {
		return r.Launch("elementwise", "nori_elementwise_where_contig", r.contigGrid(n), D1(ewBlock), 0,
			f.offsetPtr(0, dst, 4), f.offsetPtr(1, cond, 4), f.offsetPtr(2, a, 4), f.offsetPtr(3, b, 4), n)
	}
	return r.launchStrided("nori_elementwise_where", f, []Ptr{dst, cond, a, b})
}

// offsetPtr is base advanced by the layout offset of operand j in f.
func (f *flatLayout) offsetPtr(j int, base Ptr, elemSize int) Ptr {
	return base.Add(f.offsets[j] * int64(elemSize))
}

// operandArgs appends operand j's pointer (base advanced to its offset) and
// its eight strides.
func (f *flatLayout) operandArgs(a []any, j int, base Ptr, elemSize int) []any {
	a = append(a, base.Add(f.offsets[j]*int64(elemSize)))
	for k := 0; k < MaxRank; k++ {
		a = append(a, f.strides[j][k])
	}
	return a
}
