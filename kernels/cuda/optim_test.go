//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Exported wrappers of testmain_test.go's helpers for the external test
// package cuda_test (muon_test.go, pinball_nori_test.go), which compares
// with nn and nori: those import tensor, which imports this package under
// the cuda tag, so an internal test cannot import them.

// TrainTestRuntime is testRuntime.
func TrainTestRuntime(t testing.TB) *Runtime { return testRuntime(t) }

// TrainUpload is upload.
func TrainUpload(t testing.TB, r *Runtime, x []float32) Ptr { return upload(t, r, x) }

// TrainDownload is download.
func TrainDownload(t testing.TB, r *Runtime, p Ptr, n int) []float32 { return download(t, r, p, n) }

// TrainPoisoned is poisoned.
func TrainPoisoned(t testing.TB, r *Runtime, n int) Ptr { return poisoned(t, r, n) }

// TrainFree is freeAll.
func TrainFree(t testing.TB, r *Runtime, ps ...Ptr) { freeAll(t, r, ps...) }

// TrainRandn is randn.
func TrainRandn(seed uint64, n int) []float32 { return randn(seed, n) }

// TrainFusesFMA is goFusesFMA.
func TrainFusesFMA() bool { return goFusesFMA() }

// Package variables, so that the compiler cannot fold the probe.
var fmaProbeA, fmaProbeB, fmaProbeC = 1 + 0x1p-30, 1 - 0x1p-30, -1.0

// goFusesFMA reports whether this build of Go contracts x*y + z into a
// fused multiply-add (arm64, or amd64 with GOAMD64=v3): then kernels/ref's
// float64 formulas round differently from the GPU's unfused ones and the
// bit-identity tests allow one float32 ulp instead.
func goFusesFMA() bool { return fmaProbeA*fmaProbeB+fmaProbeC != 0 }

// ulpDiff is the distance in float32 ulps between a and b (same sign), or a
// large number.
func ulpDiff(a, b float32) int64 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		if math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
			return 0
		}
		return math.MaxInt64
	}
	if (a < 0) != (b < 0) {
		if a == b { // +0 and -0
			return 0
		}
		return math.MaxInt64
	}
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

// uploadAt uploads x at element offset off of a fresh buffer (off = 1
// misaligns it, so that the scalar kernels run instead of the float4 ones).
func uploadAt(t testing.TB, r *Runtime, x []float32, off int) (base, p Ptr) {
	base = upload(t, r, append(make([]float32, off), x...))
	return base, base.Add(int64(4 * off))
}

// checkBits compares got with want bit for bit, or within one ulp when Go
// fuses multiply-adds.
func checkBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	tol := int64(0)
	if goFusesFMA() {
		tol = 1
	}
	for i := range want {
		if d := ulpDiff(got[i], want[i]); d > tol {
			t.Fatalf("%s[%d] = %g (%#08x), want %g (%#08x): %d ulp", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), d)
		}
	}
}

// TestAdamW runs 10 AdamW steps on the GPU and with kernels/ref.AdamW from
// the same random state and gradients, and requires the same bits for the
// parameters and both moments after every step (float4 and scalar kernels).
// The update is in place, so there is no output to poison; every element
// is compared.
func TestAdamW(t *testing.T) {
	r := testRuntime(t)
	const lr, beta1, beta2, eps, wd = 3e-3, 0.9, 0.999, 1e-8, 0.01
	for _, n := range []int{1, 7, 63, 1000, 100003} {
		for _, off := range []int{0, 1} {
			t.Run(fmt.Sprintf("n=%d/offset=%d", n, off), func(t *testing.T) {
				p, m, v := randn(uint64(10*n), n), randn(uint64(10*n+1), n), randn(uint64(10*n+2), n)
				for i := range m {
					m[i] *= 0.01
					v[i] = v[i] * v[i] * 1e-4
				}
				pb, pd := uploadAt(t, r, p, off)
				mb, md := uploadAt(t, r, m, off)
				vb, vd := uploadAt(t, r, v, off)
				defer freeAll(t, r, pb, mb, vb)
				for step := 1; step <= 10; step++ {
					g := randn(uint64(1000*n+step), n)
					if step == 3 {
						g[0] = 0 // a zero gradient: the update is the decayed momentum
					}
					gb, gd := uploadAt(t, r, g, off)
					bc1, bc2 := 1-math.Pow(beta1, float64(step)), 1-math.Pow(beta2, float64(step))
					if err := r.AdamW(pd, gd, md, vd, n, lr, beta1, beta2, eps, wd, bc1, bc2); err != nil {
						t.Fatal(err)
					}
					ref.AdamW(p, g, m, v, lr, beta1, beta2, eps, wd, bc1, bc2)
					checkBits(t, fmt.Sprintf("step %d m", step), download(t, r, md, n), m)
					checkBits(t, fmt.Sprintf("step %d v", step), download(t, r, vd, n), v)
					checkBits(t, fmt.Sprintf("step %d p", step), download(t, r, pd, n), p)
					freeAll(t, r, gb)
				}
			})
		}
	}
}

// TestAxpby checks y = a*y + b*x against kernels/ref.Axpby bit for bit,
// aligned and not, and with x == y.
func TestAxpby(t *testing.T) {
	r := testRuntime(t)
	for _, n := range []int{1, 7, 63, 1000, 100003} {
		for _, off := range []int{0, 1} {
			for _, ab := range [][2]float64{{0.95, 1}, {1, -0.3}, {1 - 3e-3*0.01, -3e-3 * 2.5}} {
				y, x := randn(uint64(n+7), n), randn(uint64(n+8), n)
				yb, yd := uploadAt(t, r, y, off)
				xb, xd := uploadAt(t, r, x, off)
				if err := r.Axpby(yd, xd, n, ab[0], ab[1]); err != nil {
					t.Fatal(err)
				}
				ref.Axpby(y, x, ab[0], ab[1])
				checkBits(t, fmt.Sprintf("n=%d off=%d a,b=%v: y", n, off, ab), download(t, r, yd, n), y)
				// x unchanged
				checkBits(t, "x", download(t, r, xd, n), x)
				// Aliased: y = a*y + b*y.
				if err := r.Axpby(yd, yd, n, ab[0], ab[1]); err != nil {
					t.Fatal(err)
				}
				ref.Axpby(y, append([]float32(nil), y...), ab[0], ab[1])
				checkBits(t, "aliased y", download(t, r, yd, n), y)
				freeAll(t, r, yb, xb)
			}
		}
	}
	if err := r.Axpby(0, 0, 0, 1, 1); err != nil {
		t.Fatalf("n=0: %v", err)
	}
}

// BenchmarkAdamW: 8M parameters (28 bytes per element: p, g, m, v read; p,
// m, v written) against a device copy of the same traffic.
func BenchmarkAdamW(b *testing.B) {
	r := testRuntime(b)
	const n = 8 << 20
	ps := make([]Ptr, 4)
	for i := range ps {
		x := randn(uint64(77+i), n)
		if i == 3 {
			for j := range x {
				x[j] *= x[j] // v >= 0
			}
		}
		ps[i] = upload(b, r, x)
	}
	defer freeAll(b, r, ps...)
	benchVsCopy(b, r, 28*n, func() error {
		return r.AdamW(ps[0], ps[1], ps[2], ps[3], n, 1e-6, 0.9, 0.999, 1e-8, 0.01, 0.5, 0.01)
	})
}
