package cuda

import (
	"fmt"
	"math/bits"
)

// Strided operands of the elementwise, copy and reduce families.
//
// A tensor operand is a base Ptr (the start of its storage) plus a Layout in
// elements: element (i0, ..., i_{r-1}) lives at
// base + (Offset + sum_k i_k*Strides[k]) * elementSize. Strides may be 0 on
// inputs (broadcast) and are signed; outputs must not overlap themselves
// (no stride 0 on an axis longer than 1).
//
// How layouts reach the kernels: as kernel parameters, not through a device
// buffer. The launcher coalesces the operands (drops size-1 axes, merges
// neighbouring axes that are contiguous in every operand), orders the axes
// innermost first and passes
//
//	n, rank, dim[0..7], then per operand: pointer, stride[0..7]
//
// as 8-byte `long long` parameters, where dim[k] packs the size (low 32
// bits) with a 32-bit magic multiplier (high 32 bits) so the kernel splits a
// flat index into coordinates with a multiply-high instead of a division.
// Parameters rather than a device buffer because they are copied by value at
// launch: no allocation and upload per call, nothing to free, and a launch
// recorded in a CUDA graph keeps the layout it was captured with (an upload
// from a staging buffer would be replayed with whatever the buffer holds).
// The kernels index in 32 bits; the launcher splits operands of 2^31
// elements or more into slabs along their outer axes.

// MaxRank is the largest number of axes a Layout describes.
const MaxRank = 8

// DType is an element type of CopyStrided. The values follow tensor.DType's
// order (Float32, Float64, BFloat16) so a tensor dtype converts with
// DType(t.DType()).
type DType int

// The dtypes.
const (
	DTF32  DType = iota // float32
	DTF64               // float64
	DTBF16              // bfloat16 (upper half of a float32, round to nearest even)
)

// Size returns the bytes of one element.
func (d DType) Size() int {
	switch d {
	case DTF32:
		return 4
	case DTF64:
		return 8
	case DTBF16:
		return 2
	}
	return 0
}

func (d DType) String() string {
	switch d {
	case DTF32:
		return "f32"
	case DTF64:
		return "f64"
	case DTBF16:
		return "bf16"
	}
	return fmt.Sprintf("dtype(%d)", int(d))
}

// Layout is the shape and element strides of an operand (row-major axis
// order, axis 0 outermost) and the element offset of element 0 from the
// operand's base Ptr.
type Layout struct {
	Rank    int
	Shape   [MaxRank]int64
	Strides [MaxRank]int64
	Offset  int64
}

// Contiguous returns the row-major contiguous layout of shape at offset 0.
func Contiguous(shape ...int) Layout {
	var l Layout
	l.Rank = len(shape)
	s := int64(1)
	for k := len(shape) - 1; k >= 0 && k < MaxRank; k-- {
		l.Shape[k] = int64(shape[k])
		l.Strides[k] = s
		s *= int64(shape[k])
	}
	return l
}

// Numel returns the number of elements (1 for rank 0).
func (l Layout) Numel() int64 {
	n := int64(1)
	for k := 0; k < l.Rank && k < MaxRank; k++ {
		n *= l.Shape[k]
	}
	return n
}

// IsContiguous reports whether the elements are row-major and dense from
// Offset (size-1 axes may have any stride).
func (l Layout) IsContiguous() bool {
	s := int64(1)
	for k := l.Rank - 1; k >= 0; k-- {
		if l.Shape[k] != 1 && l.Strides[k] != s {
			return false
		}
		s *= l.Shape[k]
	}
	return true
}

func (l Layout) String() string {
	return fmt.Sprintf("shape %v strides %v offset %d", l.Shape[:max(0, min(l.Rank, MaxRank))], l.Strides[:max(0, min(l.Rank, MaxRank))], l.Offset)
}

// check validates one layout; out marks an output (no self-overlap).
func (l Layout) check(what string, out bool) error {
	if l.Rank < 0 || l.Rank > MaxRank {
		return fmt.Errorf("cuda: %s has rank %d (0..%d supported)", what, l.Rank, MaxRank)
	}
	for k := 0; k < l.Rank; k++ {
		if l.Shape[k] < 0 {
			return fmt.Errorf("cuda: %s has a negative size: %v", what, l)
		}
		if out && l.Shape[k] > 1 && l.Strides[k] == 0 {
			return fmt.Errorf("cuda: output %s has stride 0 on axis %d of size %d (would write one element many times): %v", what, k, l.Shape[k], l)
		}
	}
	if l.Offset < 0 {
		return fmt.Errorf("cuda: %s has a negative offset: %v", what, l)
	}
	return nil
}

// sameShape checks that every layout has the shape of ls[0].
func sameShape(names []string, ls []Layout) error {
	for i := 1; i < len(ls); i++ {
		if ls[i].Rank != ls[0].Rank || ls[i].Shape != ls[0].Shape {
			return fmt.Errorf("cuda: %s (%v) and %s (%v) differ in shape", names[0], ls[0], names[i], ls[i])
		}
	}
	return nil
}

// flatLayout is the kernel-side form of several same-shape operands:
// axes innermost first, size-1 axes dropped, contiguous neighbours merged.
type flatLayout struct {
	rank    int
	shape   [MaxRank]int64
	strides [][MaxRank]int64 // per operand
	offsets []int64          // per operand, elements
}

// coalesce builds the flat form of same-shape layouts. A zero-element shape
// gives n == 0 (the caller launches nothing); a scalar gives rank 1, size 1.
func coalesce(ls []Layout) flatLayout {
	f := flatLayout{strides: make([][MaxRank]int64, len(ls)), offsets: make([]int64, len(ls))}
	for j, l := range ls {
		f.offsets[j] = l.Offset
	}
	for k := ls[0].Rank - 1; k >= 0; k-- {
		d := ls[0].Shape[k]
		if d == 1 {
			continue
		}
		if f.rank > 0 {
			// Merge axis k into the current outermost flat axis when it
			// continues it in every operand.
			i := f.rank - 1
			merge := true
			for j := range ls {
				if ls[j].Strides[k] != f.strides[j][i]*f.shape[i] {
					merge = false
					break
				}
			}
			if merge {
				f.shape[i] *= d
				continue
			}
		}
		i := f.rank
		f.shape[i] = d
		for j := range ls {
			f.strides[j][i] = ls[j].Strides[k]
		}
		f.rank++
	}
	if f.rank == 0 {
		f.rank, f.shape[0] = 1, 1
		for j := range ls {
			f.strides[j][0] = 1
		}
	}
	return f
}

func (f *flatLayout) numel() int64 {
	n := int64(1)
	for k := 0; k < f.rank; k++ {
		n *= f.shape[k]
	}
	return n
}

// contiguous reports whether operand j walks its storage densely in the
// flat order (after coalescing: rank 1 with stride 1).
func (f *flatLayout) contiguous(j int) bool {
	return f.rank == 1 && f.strides[j][0] == 1
}

// maxKernelElems bounds the elements of one launch so that flat indices fit
// the kernels' unsigned 32-bit arithmetic with headroom (see udiv's range).
const maxKernelElems = 1<<31 - 1

// magicDiv returns the multiplier m for unsigned division by d of numbers
// below 2^31: n/d = (umulhi(n, m) + n) >> s with s = ceil(log2 d)
// (the kernel recomputes s as 32 - clz(d-1)). This is the round-up method of
// Granlund and Montgomery as used by PyTorch's IntDivider; m fits 32 bits
// for 1 <= d < 2^31.
func magicDiv(d int64) uint32 {
	s := uint(bits.Len64(uint64(d - 1))) // ceil(log2 d); 0 for d = 1
	m := (uint64(1)<<32)*((uint64(1)<<s)-uint64(d))/uint64(d) + 1
	return uint32(m)
}

// packDims returns the kernel's dim parameters: size | magic<<32.
func (f *flatLayout) packDims() [MaxRank]int64 {
	var p [MaxRank]int64
	for k := 0; k < MaxRank; k++ {
		d := int64(1)
		if k < f.rank {
			d = f.shape[k]
		}
		p[k] = int64(uint64(d) | uint64(magicDiv(d))<<32)
	}
	return p
}

// slabs calls fn for pieces of f of fewer than 2^31 elements each, with the
// element offsets of each piece's first element added to f.offsets. Pieces
// are slabs of the outermost axis; when one slice of it is too large alone,
// each slice is split along the next axis.
func (f flatLayout) slabs(fn func(p flatLayout) error) error {
	n := f.numel()
	if n <= maxKernelElems {
		return fn(f)
	}
	o := f.rank - 1
	inner := n / f.shape[o]
	step := int64(1)
	if inner <= maxKernelElems {
		step = maxKernelElems / inner
	}
	for s := int64(0); s < f.shape[o]; s += step {
		p := f
		p.strides = f.strides // shared, read-only
		p.offsets = make([]int64, len(f.offsets))
		for j := range f.offsets {
			p.offsets[j] = f.offsets[j] + s*f.strides[j][o]
		}
		cnt := min(step, f.shape[o]-s)
		if inner > maxKernelElems {
			// One slice at a time, one axis fewer.
			p.rank--
			p.shape[o] = 0
		} else {
			p.shape[o] = cnt
		}
		if err := p.slabs(fn); err != nil {
			return err
		}
	}
	return nil
}

// args appends the kernel parameters n, rank, dim[0..7] to a.
func (f *flatLayout) args(a []any) []any {
	a = append(a, f.numel(), f.rank)
	for _, d := range f.packDims() {
		a = append(a, d)
	}
	return a
}

// reducePlan is a reduction split into kept and reduced axis groups.
type reducePlan struct {
	kept, red    flatLayout // one operand each: a's offsets for k and r
	K, R         int64
	innerReduced bool
}

// planReduce groups a's axes as tensor's CPU reduce does: size-1 axes
// dropped, neighbours of the same kind merged when their strides nest.
// Within each group the axes stay in a's order, so k runs row-major over the
// kept axes (dst's order) and r in increasing index order.
func planReduce(al Layout, axes [MaxRank]bool) reducePlan {
	type group struct{ size, stride int64 }
	var gs []group
	var red []bool
	for i := 0; i < al.Rank; i++ {
		d := al.Shape[i]
		if d == 1 {
			continue
		}
		if n := len(gs) - 1; n >= 0 && red[n] == axes[i] && gs[n].stride == al.Strides[i]*d {
			gs[n] = group{gs[n].size * d, al.Strides[i]}
			continue
		}
		gs = append(gs, group{d, al.Strides[i]})
		red = append(red, axes[i])
	}
	p := reducePlan{K: 1, R: 1}
	p.kept.strides = make([][MaxRank]int64, 1)
	p.red.strides = make([][MaxRank]int64, 1)
	// Innermost first in the flat layouts.
	for i := len(gs) - 1; i >= 0; i-- {
		f, n := &p.kept, &p.K
		if red[i] {
			f, n = &p.red, &p.R
		}
		f.shape[f.rank] = gs[i].size
		f.strides[0][f.rank] = gs[i].stride
		f.rank++
		*n *= gs[i].size
	}
	p.innerReduced = len(red) > 0 && red[len(red)-1]
	return p
}

// indexArgs appends rank, packed dims and strides of a one-operand flat layout.
func (f *flatLayout) indexArgs(a []any) []any {
	a = append(a, f.rank)
	for _, d := range f.packDims() {
		a = append(a, d)
	}
	for k := 0; k < MaxRank; k++ {
		a = append(a, f.strides[0][k])
	}
	return a
}
