//go:build cuda

package tensor

import (
	"fmt"
	"math"
)

// Fill, Copy and the random fills on the GPU (kernels/cuda: Fill,
// CopyStrided, the bf16 conversions, RandUniform, RandNormal).

// Fill sets every element of the contiguous dst to v: float32 with the fill
// kernel, bfloat16 through a float32 scratch and the rounding conversion,
// float64 (storage only) by an upload of host values.
func (b cudaBackend) Fill(dst *Tensor, v float64) {
	defer keep(dst)
	n := dst.Numel()
	if n == 0 {
		return
	}
	switch dst.DType() {
	case Float32:
		b.check("Fill", b.d.rt.Fill(b.ptr("Fill", dst), n, v))
	case BFloat16:
		tmp := New(b.d, Float32, n)
		defer tmp.Release()
		b.check("Fill", b.d.rt.Fill(b.ptr("Fill", tmp), n, v))
		b.check("Fill", b.d.rt.ConvertF32ToBF16(b.ptr("Fill", dst), b.ptr("Fill", tmp), n))
	case Float64:
		host := make([]float64, n)
		for i := range host {
			host[i] = v
		}
		b.d.Upload(dst.st, dst.offset, host)
	default:
		panic(fmt.Sprintf("tensor: Fill on %v: dtype %v", b.d, dst.DType()))
	}
}

// Copy copies src into dst (same shape, any strides and dtypes): one
// device-to-device copy or conversion when both are contiguous, else the
// strided copy kernel, which converts as it goes.
func (b cudaBackend) Copy(dst, src *Tensor) {
	defer keep(dst, src)
	if !dst.shape.Equal(src.shape) {
		panic(fmt.Sprintf("tensor: Copy between shapes %v and %v", dst.shape, src.shape))
	}
	n := dst.Numel()
	if n == 0 {
		return
	}
	dp, sp := b.ptr("Copy", dst), b.ptr("Copy", src)
	ddt, sdt := dst.DType(), src.DType()
	if dst.IsContiguous() && src.IsContiguous() {
		switch {
		case ddt == sdt:
			b.check("Copy", b.d.rt.CopyDtoD(dp, sp, int64(n)*int64(ddt.Size())))
			return
		case ddt == BFloat16 && sdt == Float32:
			b.check("Copy", b.d.rt.ConvertF32ToBF16(dp, sp, n))
			return
		case ddt == Float32 && sdt == BFloat16:
			b.check("Copy", b.d.rt.ConvertBF16ToF32(dp, sp, n))
			return
		}
	}
	eachBlock(coalesce(dst, src), func(s []*Tensor) {
		b.check("Copy", b.d.rt.CopyStrided(b.ptr("Copy", s[0]), cudaLayout("Copy", s[0]), cudaDType(ddt),
			b.ptr("Copy", s[1]), cudaLayout("Copy", s[1]), cudaDType(sdt)))
	})
}

// RandUniform fills dst with the same numbers as the CPU (element i from
// Philox at (seed, stream, i)); bfloat16 through a float32 scratch.
func (b cudaBackend) RandUniform(dst *Tensor, seed, stream uint64, lo, hi float64) {
	b.rand("RandUniform", dst, func(p *Tensor, n int) error {
		return b.d.rt.RandUniform(b.ptr("RandUniform", p), n, seed, stream, lo, hi)
	})
}

// RandNormal is RandUniform for N(mean, std^2).
func (b cudaBackend) RandNormal(dst *Tensor, seed, stream uint64, mean, std float64) {
	b.rand("RandNormal", dst, func(p *Tensor, n int) error {
		return b.d.rt.RandNormal(b.ptr("RandNormal", p), n, seed, stream, mean, std)
	})
}

// rand runs gen (which fills n float32 at its tensor) into dst, or into a
// float32 scratch rounded into a bfloat16 dst.
func (b cudaBackend) rand(op string, dst *Tensor, gen func(p *Tensor, n int) error) {
	defer keep(dst)
	n := dst.Numel()
	if n == 0 {
		return
	}
	switch dst.DType() {
	case Float32:
		b.check(op, gen(dst, n))
	case BFloat16:
		tmp := New(b.d, Float32, n)
		defer tmp.Release()
		b.check(op, gen(tmp, n))
		b.check(op, b.d.rt.ConvertF32ToBF16(b.ptr(op, dst), b.ptr(op, tmp), n))
	default:
		b.need32(op, dst)
	}
}

// scaleInPlace sets the contiguous float32 dst to beta*dst (0 when beta is
// 0, so that NaN and Inf are overwritten, as the CPU's gemmScale does).
func (b cudaBackend) scaleInPlace(op string, dst *Tensor, beta float64) {
	n := dst.Numel()
	switch {
	case n == 0 || beta == 1:
	case beta == 0:
		b.check(op, b.d.rt.Memset32(b.ptr(op, dst), 0, int64(n)))
	default:
		flat := dst.view(Shape{n}, []int{1}, dst.offset)
		p := b.ptr(op, dst)
		b.check(op, b.d.rt.Unary(int(OpScale), p, p, cudaLayout(op, flat), n, beta))
	}
}

// nanOrZero is the value of a reduction over no elements: 0 for a sum, NaN
// for a mean or maximum (as on the CPU).
func nanOrZero(op ReduceOp) float64 {
	if op == OpSum {
		return 0
	}
	return math.NaN()
}
