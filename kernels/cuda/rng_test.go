//go:build cuda

package cuda_test

import (
	"math"
	"testing"
	"unsafe"

	"github.com/nori-ml/nori/kernels/cuda"
	"github.com/nori-ml/nori/tensor"
)

// The GPU random fills against the CPU's (tensor/rng.go): uniforms bit for
// bit; normals within 1 float32 ulp (CUDA's double log/cos/sin may differ
// from Go's in the last bit of the double, which rarely changes the float32
// rounding; the number of such elements is logged).

func rngDownload(t *testing.T, r *cuda.Runtime, p cuda.Ptr, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := r.Download(unsafe.Pointer(&out[0]), p, int64(4*n)); err != nil {
		t.Fatal(err)
	}
	return out
}

// rngAlloc returns n+1 float32 of NaN; offset 1 gives a misaligned start.
func rngAlloc(t *testing.T, r *cuda.Runtime, n int) cuda.Ptr {
	t.Helper()
	p, err := r.Alloc(int64(4 * (n + 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Memset32(p, 0x7fc00000, int64(n+1)); err != nil {
		t.Fatal(err)
	}
	return p
}

func rngULP(a, b float32) int64 {
	ord := func(f float32) int64 {
		i := int64(int32(math.Float32bits(f)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

func TestRNGUniform(t *testing.T) {
	r := cuda.RNGTestRuntime(t)
	for _, n := range []int{1, 7, 100003} {
		for _, off := range []int{0, 1} {
			for _, ss := range [][2]uint64{{42, 0}, {7, 3}, {1 << 40, 1<<33 + 5}} {
				seed, stream := ss[0], ss[1]
				lo, hi := -1.5, 2.5
				want := make([]float32, n)
				if stream == 0 {
					copy(want, tensor.RandUniform(seed, lo, hi, n).Float32s())
				} else {
					for i := range want {
						want[i] = float32(lo + (hi-lo)*tensor.UniformAt(seed, stream, uint64(i)))
					}
				}
				p := rngAlloc(t, r, n)
				dst := p.Add(int64(4 * off))
				if err := r.RandUniform(dst, n, seed, stream, lo, hi); err != nil {
					t.Fatal(err)
				}
				got := rngDownload(t, r, p, n+1)
				for i := 0; i < n; i++ {
					if math.Float32bits(got[off+i]) != math.Float32bits(want[i]) {
						t.Fatalf("RandUniform n=%d seed %d stream %d offset %d: element %d = %v, CPU %v", n, seed, stream, off, i, got[off+i], want[i])
					}
				}
				if edge := got[(1-off)*n]; edge == edge { // the slot not covered stays NaN
					t.Fatalf("RandUniform n=%d offset %d wrote outside its range", n, off)
				}
				if err := r.Free(p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestRNGNormal(t *testing.T) {
	r := cuda.RNGTestRuntime(t)
	for _, n := range []int{1, 7, 100003} {
		for _, off := range []int{0, 1} {
			for _, ss := range [][2]uint64{{42, 0}, {9, 2}} {
				seed, stream := ss[0], ss[1]
				mean, std := 0.5, 2.0
				want := make([]float32, n)
				if stream == 0 {
					copy(want, tensor.RandNormal(seed, mean, std, n).Float32s())
				} else {
					for i := range want {
						want[i] = float32(mean + std*tensor.NormalAt(seed, stream, uint64(i)))
					}
				}
				p := rngAlloc(t, r, n)
				if err := r.RandNormal(p.Add(int64(4*off)), n, seed, stream, mean, std); err != nil {
					t.Fatal(err)
				}
				got := rngDownload(t, r, p, n+1)[off : off+n]
				inexact := 0
				for i := range want {
					d := rngULP(got[i], want[i])
					if d > 1 || got[i] != got[i] {
						t.Fatalf("RandNormal n=%d seed %d stream %d: element %d = %v, CPU %v (%d ulp)", n, seed, stream, i, got[i], want[i], d)
					}
					if d != 0 {
						inexact++
					}
				}
				if inexact > 0 {
					t.Logf("RandNormal n=%d seed %d stream %d: %d of %d elements 1 ulp from the CPU", n, seed, stream, inexact, n)
				}
				if err := r.Free(p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
