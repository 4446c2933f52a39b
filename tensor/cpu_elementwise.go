package tensor

import (
	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/ref"
)

// CPU elementwise kernels: the operands are coalesced (coalesce) and walked
// in runs that lie in one row of every operand (eachRun); each run is one
// call of a kernels/ref loop whose op switch sits outside its inner loop.
// dst is contiguous, so run d0 of dst is simply dst[d0 : d0+cnt]. Float32
// Exp, Sigmoid, SiLU and the GELUs (and the x-based gradients of SiLU and
// the GELUs) run the SIMD kernels of kernels/avx above the Generic level
// (float32 arithmetic, accuracy stated in kernels/avx/exp.go); so do float32
// Add, Sub and Mul on unit-stride or scalar operands, Scale and AddScalar,
// which give the reference's bits exactly (kernels/avx/binary.go).

func (cpuBackend) Binary(op BinaryOp, dst, a, b *Tensor) {
	rop := op
	if dst.DType() == Float64 {
		binaryCPU[float64](rop, dst, a, b)
	} else {
		binaryCPU[float32](rop, dst, a, b)
	}
}

func binaryCPU[T Float](op BinaryOp, dst, a, b *Tensor) {
	if dst.Numel() == 0 {
		return
	}
	vs := coalesce(a, b)
	dd, ad, bd := cpuData[T](dst), cpuData[T](a), cpuData[T](b)
	ai, bi := vs[0].lastStride(), vs[1].lastStride()
	if d32, ok := any(dd).([]float32); ok {
		if run := avxBinary(op, d32, any(ad).([]float32), ai, any(bd).([]float32), bi); run != nil {
			eachRun(vs, func() runFunc { return run })
			return
		}
	}
	eachRun(vs, func() runFunc {
		return func(d0 int, offs []int, cnt int) {
			ref.Binary(op, dd[d0:d0+cnt], ad[offs[0]:], ai, bd[offs[1]:], bi)
		}
	})
}

// avxBinary returns the run of a float32 binary op on the SIMD kernels, or
// nil when op has none for these strides (or the CPU level is Generic):
// both operands unit-stride, or one of them a scalar per run (stride 0;
// a scalar first operand only for the commutative Add and Mul).
func avxBinary(op BinaryOp, dd, ad []float32, ai int, bd []float32, bi int) runFunc {
	if avx.Current() == avx.Generic {
		return nil
	}
	var vec func(dst, a, b []float32)
	var scal func(dst, a []float32, s float32)
	switch op {
	case ref.OpAdd:
		vec, scal = avx.Add, avx.AddScalar
	case ref.OpSub:
		vec, scal = avx.Sub, avx.SubScalar
	case ref.OpMul:
		vec, scal = avx.Mul, avx.MulScalar
	default:
		return nil
	}
	switch {
	case ai == 1 && bi == 1:
		return func(d0 int, offs []int, cnt int) {
			vec(dd[d0:d0+cnt], ad[offs[0]:offs[0]+cnt], bd[offs[1]:offs[1]+cnt])
		}
	case ai == 1 && bi == 0:
		return func(d0 int, offs []int, cnt int) {
			scal(dd[d0:d0+cnt], ad[offs[0]:offs[0]+cnt], bd[offs[1]])
		}
	case ai == 0 && bi == 1 && op != ref.OpSub:
		return func(d0 int, offs []int, cnt int) {
			scal(dd[d0:d0+cnt], bd[offs[1]:offs[1]+cnt], ad[offs[0]])
		}
	}
	return nil
}

func (cpuBackend) Unary(op UnaryOp, dst, a *Tensor, p float64) {
	rop := op
	if dst.DType() == Float64 {
		unaryCPU[float64](rop, dst, a, p)
	} else {
		unaryCPU[float32](rop, dst, a, p)
	}
}

// avxUnary returns the float32 SIMD kernel of op, or nil when op has none
// or the CPU level is Generic.
func avxUnary(op ref.UnaryOp) func(dst, x []float32) {
	if avx.Current() == avx.Generic {
		return nil
	}
	switch op {
	case ref.OpExp:
		return avx.Exp
	case ref.OpTanh:
		return avx.Tanh
	case ref.OpSigmoid:
		return avx.Sigmoid
	case ref.OpSiLU:
		return avx.SiLU
	case ref.OpGELUTanh:
		return avx.GELUTanh
	case ref.OpGELUErf:
		return avx.GELUErf
	}
	return nil
}

// avxUnaryParam is avxUnary for the ops with a parameter: Scale and
// AddScalar, in float64 and rounded once like the reference.
func avxUnaryParam(op ref.UnaryOp, p float64) func(dst, x []float32) {
	if avx.Current() == avx.Generic {
		return nil
	}
	switch op {
	case ref.OpScale:
		return func(dst, x []float32) { avx.Scale64(dst, x, p) }
	case ref.OpAddScalar:
		return func(dst, x []float32) { avx.AddScalar64(dst, x, p) }
	}
	return nil
}

// avxUnaryGrad is avxUnary for the gradients that read only x.
func avxUnaryGrad(op ref.UnaryOp) func(dx, x, dy []float32) {
	if avx.Current() == avx.Generic {
		return nil
	}
	switch op {
	case ref.OpSiLU:
		return avx.SiLUGrad
	case ref.OpGELUTanh:
		return avx.GELUTanhGrad
	case ref.OpGELUErf:
		return avx.GELUErfGrad
	}
	return nil
}

// unaryCPU applies the op straight from a unit-stride input; a strided run
// is first gathered into its place in dst and transformed there.
func unaryCPU[T Float](op ref.UnaryOp, dst, a *Tensor, p float64) {
	if dst.Numel() == 0 {
		return
	}
	vs := coalesce(a)
	dd, ad := cpuData[T](dst), cpuData[T](a)
	ai := vs[0].lastStride()
	var simd func(dst, x []float32)
	d32, is32 := any(dd).([]float32)
	if is32 {
		simd = avxUnary(op)
		if simd == nil {
			simd = avxUnaryParam(op, p)
		}
	}
	a32, _ := any(ad).([]float32)
	eachRun(vs, func() runFunc {
		return func(d0 int, offs []int, cnt int) {
			d := dd[d0 : d0+cnt]
			if simd != nil {
				ds := d32[d0 : d0+cnt]
				if ai == 1 {
					simd(ds, a32[offs[0]:offs[0]+cnt])
					return
				}
				ref.GatherStrided(ds, a32[offs[0]:], cnt, ai)
				simd(ds, ds)
				return
			}
			if ai == 1 {
				ref.Unary(op, d, ad[offs[0]:offs[0]+cnt], p)
				return
			}
			ref.GatherStrided(d, ad[offs[0]:], cnt, ai)
			ref.Unary(op, d, d, p)
		}
	})
}

func (cpuBackend) UnaryGrad(op UnaryOp, dx, x, y, dy *Tensor, p float64) {
	rop := op
	if dx.DType() == Float64 {
		unaryGradCPU[float64](rop, dx, x, y, dy, p)
	} else {
		unaryGradCPU[float32](rop, dx, x, y, dy, p)
	}
}

// unaryGradCPU feeds ref.UnaryGrad unit-stride runs: a strided dy run is
// gathered into dx (the kernel may overwrite dy in place), strided x and y
// runs into per-task scratch, and only the inputs the op reads are touched.
func unaryGradCPU[T Float](op ref.UnaryOp, dx, x, y, dy *Tensor, p float64) {
	if dx.Numel() == 0 {
		return
	}
	usesX, usesY := ref.UnaryGradInputs(op)
	vs := coalesce(x, y, dy)
	dxd, xd, yd, dyd := cpuData[T](dx), cpuData[T](x), cpuData[T](y), cpuData[T](dy)
	xi, yi, dyi := vs[0].lastStride(), vs[1].lastStride(), vs[2].lastStride()
	var simd func(dx, x, dy []float32)
	if _, is32 := any(dxd).([]float32); is32 {
		simd = avxUnaryGrad(op)
	}
	eachRun(vs, func() runFunc {
		var xs, ys []T // scratch, grown on demand
		return func(d0 int, offs []int, cnt int) {
			d := dxd[d0 : d0+cnt]
			var xr, yr, dyr []T
			if usesX {
				xr, xs = unitRun(xd[offs[0]:], cnt, xi, xs)
			}
			if usesY {
				yr, ys = unitRun(yd[offs[1]:], cnt, yi, ys)
			}
			if dyi == 1 {
				dyr = dyd[offs[2] : offs[2]+cnt]
			} else {
				ref.GatherStrided(d, dyd[offs[2]:], cnt, dyi)
				dyr = d
			}
			if simd != nil { // x-based gradient: usesX, float32
				simd(f32s(d), f32s(xr), f32s(dyr))
				return
			}
			ref.UnaryGrad(op, d, xr, yr, dyr, p)
		}
	})
}

// unitRun returns the cnt elements of src with stride inc as a unit-stride
// slice: src itself when inc is 1, else a copy in scratch (grown if needed
// and returned for reuse).
func unitRun[T Float](src []T, cnt, inc int, scratch []T) (run, buf []T) {
	if inc == 1 {
		return src[:cnt], scratch
	}
	if cap(scratch) < cnt {
		scratch = make([]T, cnt)
	}
	run = scratch[:cnt]
	ref.GatherStrided(run, src, cnt, inc)
	return run, scratch
}

func (cpuBackend) Where(dst, cond, a, b *Tensor) {
	if dst.DType() == Float64 {
		whereCPU[float64](dst, cond, a, b)
	} else {
		whereCPU[float32](dst, cond, a, b)
	}
}

func whereCPU[T Float](dst, cond, a, b *Tensor) {
	if dst.Numel() == 0 {
		return
	}
	vs := coalesce(cond, a, b)
	dd, cd, ad, bd := cpuData[T](dst), cpuData[T](cond), cpuData[T](a), cpuData[T](b)
	ci, ai, bi := vs[0].lastStride(), vs[1].lastStride(), vs[2].lastStride()
	eachRun(vs, func() runFunc {
		return func(d0 int, offs []int, cnt int) {
			ref.Where(dd[d0:d0+cnt], cd[offs[0]:], ci, ad[offs[1]:], ai, bd[offs[2]:], bi)
		}
	})
}
