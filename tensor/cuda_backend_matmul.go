//go:build cuda

package tensor

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/cuda"
)

// Matrix products on the GPU (kernels/cuda: GemmRun).
//
// The last two axes of a and b become GEMM operands with a leading dimension
// (gemmLD, as on the CPU: unit stride in the last axis, the row stride at
// least the row length; other layouts are compacted first). The batch axes
// map onto GemmRun's Batch and batch strides when the operands' matrices are
// evenly spaced over the whole batch (one launch: contiguous, broadcast
// with stride 0, or any single batch axis); otherwise, e.g. a permuted
// [B, H] pair of batch axes, there is one launch per index of the leading
// batch axes, each batching the last batch axis with its stride.
//
// Precision is the device's setting (SetMatMulPrecision): PrecisionFP32 by
// default, float32 FMAs in k order, which agree with the CPU to float32
// rounding; PrecisionTF32 runs the tensor cores on TF32-rounded inputs
// (relative error ~2^-11 per product). PrecisionBF16 needs bf16 copies of A
// and B: they are converted into scratch on each call (a copy of both
// operands, worth it only for large products).

func (b cudaBackend) MatMul(dst, x, y *Tensor, transA, transB bool, alpha, beta float64) {
	defer keep(dst, x, y)
	b.need32("MatMul", dst, x, y)
	r := len(dst.shape)
	if r < 2 || len(x.shape) != r || len(y.shape) != r {
		panic(fmt.Sprintf("tensor: MatMul kernel needs operands of dst's rank: dst %v, a %v, b %v", dst.shape, x.shape, y.shape))
	}
	m, n := dst.shape[r-2], dst.shape[r-1]
	k := x.shape[r-1]
	if transA {
		k = x.shape[r-2]
	}
	nb := Shape(dst.shape[:r-2]).Numel()
	if m == 0 || n == 0 || nb == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		b.scaleInPlace("MatMul", dst, beta)
		return
	}
	lda, ok := gemmLD(x)
	if !ok {
		x = gemmCompact(x)
		defer b.d.Free(x.st)
		lda, _ = gemmLD(x)
	}
	ldb, ok := gemmLD(y)
	if !ok {
		y = gemmCompact(y)
		defer b.d.Free(y.st)
		ldb, _ = gemmLD(y)
	}
	prec := b.d.MatMulPrecision()
	g := cuda.Gemm{M: m, N: n, K: k, TransA: transA, TransB: transB, LdA: lda, LdB: ldb, LdC: n,
		Alpha: float32(alpha), Beta: float32(beta), Prec: cuda.PrecFP32}
	if prec == PrecisionTF32 {
		g.Prec = cuda.PrecTF32
	}
	if prec == PrecisionBF16 {
		x, y = b.bf16Compact(x), b.bf16Compact(y)
		defer b.d.Free(x.st)
		defer b.d.Free(y.st)
		g.LdA, g.LdB = max(1, x.shape[r-1]), max(1, y.shape[r-1])
		g.Prec = cuda.PrecBF16
	}
	elemA, elemB := int64(x.DType().Size()), int64(y.DType().Size())
	aOff, bOff := batchOffsets(x, nb), batchOffsets(y, nb)
	pa, pb, pc := b.ptr("MatMul", x), b.ptr("MatMul", y), b.ptr("MatMul", dst)
	mn := int64(m) * int64(n)
	sa, okA := evenSpacing(aOff)
	sb, okB := evenSpacing(bOff)
	if okA && okB {
		g.Batch, g.StrideA, g.StrideB, g.StrideC = nb, sa, sb, mn
		b.check("MatMul", b.d.rt.GemmRun(g, pc, pa, pb))
		return
	}
	// Uneven batch offsets need at least two batch axes: batch the last one.
	l := dst.shape[r-3]
	g.Batch, g.StrideC = l, mn
	for c := 0; c < nb; c += l {
		g.StrideA, _ = evenSpacing(aOff[c : c+l])
		g.StrideB, _ = evenSpacing(bOff[c : c+l])
		b.check("MatMul", b.d.rt.GemmRun(g,
			pc.Add(int64(c)*mn*4), pa.Add(int64(aOff[c])*elemA), pb.Add(int64(bOff[c])*elemB)))
	}
}

// bf16Compact returns a bfloat16 copy of x's distinct matrices (broadcast
// batch axes copied once), contiguous and expanded back to x's shape.
func (b cudaBackend) bf16Compact(x *Tensor) *Tensor {
	v := x
	for i := 0; i < len(x.shape)-2; i++ {
		if v.strides[i] == 0 && v.shape[i] > 1 {
			v = v.Slice(i, 0, 1)
		}
	}
	c := New(b.d, BFloat16, v.shape...)
	b.Copy(c, v)
	return c.Expand(x.shape...)
}

// evenSpacing returns s when offs[i] == offs[0] + i*s for every i (s = 0 for
// fewer than two offsets), relative offsets being what batchOffsets returns.
func evenSpacing(offs []int) (int64, bool) {
	if len(offs) < 2 {
		return 0, true
	}
	s := offs[1] - offs[0]
	for i := 2; i < len(offs); i++ {
		if offs[i]-offs[i-1] != s {
			return 0, false
		}
	}
	return int64(s), s >= 0
}
