package tensor

import (
	"fmt"
	"math"
)

func (cpuBackend) Fill(dst *Tensor, v float64) {
	switch dst.DType() {
	case Float32:
		d := cpuData[float32](dst)[:dst.Numel()]
		f := float32(v)
		Parallel(len(d), elemGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = f
			}
		})
	case Float64:
		d := cpuData[float64](dst)[:dst.Numel()]
		Parallel(len(d), elemGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = v
			}
		})
	case BFloat16:
		s := dst.st.(*cpuStorage).u16[dst.offset : dst.offset+dst.Numel()]
		h := F32ToBF16(float32(v))
		for i := range s {
			s[i] = h
		}
	}
}

// Copy walks dst and src row by row (both may be strided) and converts.
// Between tensors of one dtype it copies the values' bits (copyRowsSame:
// a memmove per row where both rows are contiguous, else a typed strided
// loop); between dtypes it converts element by element through float64
// (copyRowsConvert, also the reference the fast path is tested against).
// Permutes made contiguous are a quarter of a CPU training step, so the
// same-dtype path matters.
func (cpuBackend) Copy(dst, src *Tensor) {
	if !dst.shape.Equal(src.shape) {
		panic(fmt.Sprintf("tensor: Copy between shapes %v and %v", dst.shape, src.shape))
	}
	if dst.Numel() == 0 {
		return
	}
	n := lastDim(dst.shape)
	rows := rowCount(dst.shape)
	ds, ss := dst.st.(*cpuStorage), src.st.(*cpuStorage)
	Parallel(rows, grainRows(n), func(lo, hi int) {
		if ds.dt != ss.dt {
			copyRowsConvert(dst, src, lo, hi)
			return
		}
		switch ds.dt {
		case Float32:
			copyRowsSame(ds.f32, ss.f32, dst, src, lo, hi)
		case Float64:
			copyRowsSame(ds.f64, ss.f64, dst, src, lo, hi)
		default:
			copyRowsSame(ds.u16, ss.u16, dst, src, lo, hi)
		}
	})
}

// copyRowsSame copies rows [lo, hi) of src into dst, whose storage slices
// are d and s (same element type).
func copyRowsSame[T float32 | float64 | uint16](d, s []T, dst, src *Tensor, lo, hi int) {
	n := lastDim(dst.shape)
	dinc, sinc := dst.lastStride(), src.lastStride()
	di, si := newRowIter(dst, lo), newRowIter(src, lo)
	for r := lo; r < hi; r++ {
		do, so := dst.offset+di.Next(), src.offset+si.Next()
		if dinc == 1 && sinc == 1 {
			copy(d[do:do+n], s[so:so+n])
			continue
		}
		for j := 0; j < n; j++ {
			d[do+j*dinc] = s[so+j*sinc]
		}
	}
}

// copyRowsConvert copies rows [lo, hi) of src into dst one element at a
// time through float64 (getCPU, setCPU).
func copyRowsConvert(dst, src *Tensor, lo, hi int) {
	n := lastDim(dst.shape)
	ds, ss := dst.st.(*cpuStorage), src.st.(*cpuStorage)
	dinc, sinc := dst.lastStride(), src.lastStride()
	di, si := newRowIter(dst, lo), newRowIter(src, lo)
	for r := lo; r < hi; r++ {
		do, so := dst.offset+di.Next(), src.offset+si.Next()
		for j := 0; j < n; j++ {
			setCPU(ds, do+j*dinc, getCPU(ss, so+j*sinc))
		}
	}
}

// getCPU and setCPU move one element through float64, which holds float32
// and bfloat16 exactly; float32 <- float64 rounds to nearest, and bfloat16 <-
// float32 rounds to nearest even.
func getCPU(s *cpuStorage, i int) float64 {
	switch s.dt {
	case Float32:
		return float64(s.f32[i])
	case Float64:
		return s.f64[i]
	default:
		return float64(BF16ToF32(s.u16[i]))
	}
}

func setCPU(s *cpuStorage, i int, v float64) {
	switch s.dt {
	case Float32:
		s.f32[i] = float32(v)
	case Float64:
		s.f64[i] = v
	default:
		s.u16[i] = F32ToBF16(float32(v))
	}
}

func (cpuBackend) RandUniform(dst *Tensor, seed, stream uint64, lo, hi float64) {
	s := dst.st.(*cpuStorage)
	Parallel(dst.Numel(), elemGrain, func(a, b int) {
		for i := a; i < b; i++ {
			setCPU(s, dst.offset+i, lo+(hi-lo)*UniformAt(seed, stream, uint64(i)))
		}
	})
}

func (cpuBackend) RandNormal(dst *Tensor, seed, stream uint64, mean, std float64) {
	s := dst.st.(*cpuStorage)
	Parallel(dst.Numel(), elemGrain, func(a, b int) {
		for i := a; i < b; i++ {
			v := mean + std*NormalAt(seed, stream, uint64(i))
			if math.IsInf(v, 0) { // impossible with u1 > 0, kept as a guard
				v = mean
			}
			setCPU(s, dst.offset+i, v)
		}
	})
}
