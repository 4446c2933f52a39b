package tensor

import (
	"math"
	"testing"
)

// TestCopySameDTypeMatchesConvert: the same-dtype path of CPU Copy (a
// memmove or a typed strided loop per row) against the element-by-element
// conversion through float64 (copyRowsConvert), for each dtype, on fresh
// random sources viewed in every way a view can stride (permutes, a
// transpose that makes the last stride non-unit, slices with an offset, a
// broadcast with zero strides) and into contiguous and strided
// destinations poisoned with NaN first. The whole destination storage must
// match bit for bit, the parts outside the view included.
func TestCopySameDTypeMatchesConvert(t *testing.T) {
	views := map[string]func(x *Tensor) *Tensor{
		"contiguous": func(x *Tensor) *Tensor { return x },
		"permute":    func(x *Tensor) *Tensor { return x.Permute(2, 0, 3, 1) },
		"transpose":  func(x *Tensor) *Tensor { return x.Transpose(1, 3) },
		"slice":      func(x *Tensor) *Tensor { return x.Slice(2, 1, 5).Slice(3, 2, 7) },
		"broadcast":  func(x *Tensor) *Tensor { return x.Slice(1, 2, 3).Slice(3, 4, 5).Expand(4, 5, 6, 7) },
		"flat":       func(x *Tensor) *Tensor { return x.Reshape(4 * 5 * 6 * 7) },
	}
	for _, dt := range []DType{Float32, Float64, BFloat16} {
		for seed, name := range []string{"contiguous", "permute", "transpose", "slice", "broadcast", "flat"} {
			base := RandNormal(uint64(100+seed), 0, 1, 4, 5, 6, 7)
			src := views[name](base.To(CPU, dt))
			for _, strided := range []bool{false, true} {
				mk := func() (*Tensor, *Tensor) {
					// The destination: a poisoned buffer, viewed contiguously
					// or through a permute of a larger buffer.
					shape := src.Shape()
					if !strided {
						d := New(CPU, dt, shape...)
						d.Backend().Fill(d, math.NaN())
						return d, d
					}
					rev := make([]int, len(shape))
					perm := make([]int, len(shape))
					for i := range shape {
						rev[i] = shape[len(shape)-1-i]
						perm[i] = len(shape) - 1 - i
					}
					rev[0]++ // a row the copy must not touch
					buf := New(CPU, dt, rev...)
					buf.Backend().Fill(buf, math.NaN())
					return buf, buf.Slice(0, 0, rev[0]-1).Permute(perm...)
				}
				gotBuf, got := mk()
				wantBuf, want := mk()
				CPU.Backend().Copy(got, src)
				copyRowsConvert(want, src, 0, rowCount(src.Shape()))
				g, w := rawBits(gotBuf), rawBits(wantBuf)
				for i := range w {
					if g[i] != w[i] {
						t.Fatalf("%v %s -> strided=%v: storage element %d is %#x, the conversion gives %#x", dt, name, strided, i, g[i], w[i])
					}
				}
			}
		}
	}
}

// rawBits returns the bits of every element of t's storage.
func rawBits(t *Tensor) []uint64 {
	s := t.st.(*cpuStorage)
	var out []uint64
	switch s.dt {
	case Float32:
		for _, v := range s.f32 {
			out = append(out, uint64(math.Float32bits(v)))
		}
	case Float64:
		for _, v := range s.f64 {
			out = append(out, math.Float64bits(v))
		}
	default:
		for _, v := range s.u16 {
			out = append(out, uint64(v))
		}
	}
	return out
}

// BenchmarkCopyPermute makes a row-attention permute contiguous ([B*T, n,
// H, D] -> [B*T, H, n, D] with n = 1024, D = 64: rows of 64 contiguous
// floats) and a transpose whose last stride is not 1, by the same-dtype
// path (Copy) and by the float64 conversion (the reference, same run).
func BenchmarkCopyPermute(b *testing.B) {
	src := RandNormal(1, 0, 1, 8, 1024, 2, 64)
	for _, c := range []struct {
		name string
		view *Tensor
	}{
		{"rows64", src.Permute(0, 2, 1, 3)},
		{"transpose", src.Permute(0, 2, 3, 1)},
	} {
		dst := New(CPU, Float32, c.view.Shape()...)
		bytes := int64(8 * c.view.Numel()) // read and written
		b.Run(c.name+"/same", func(b *testing.B) {
			b.SetBytes(bytes)
			for i := 0; i < b.N; i++ {
				CPU.Backend().Copy(dst, c.view)
			}
		})
		b.Run(c.name+"/convert", func(b *testing.B) {
			b.SetBytes(bytes)
			rows := rowCount(dst.Shape())
			for i := 0; i < b.N; i++ {
				Parallel(rows, grainRows(lastDim(dst.Shape())), func(lo, hi int) { copyRowsConvert(dst, c.view, lo, hi) })
			}
		})
	}
}
