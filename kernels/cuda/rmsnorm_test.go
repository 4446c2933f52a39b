//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Shapes for the row kernels (rmsnorm, layernorm, softmax): the awkward ones
// of the brief plus one per kernel variant (src/norm_common.cuh): warp
// variant W=4 with N = 1, 2, 4, 8 chunks per lane, W=1 with N = 1..32, block
// variant W=4 and W=1, several rows per warp (10000 rows) and per block
// (1100 rows of 1030) in the backward split.
var normTestShapes = []struct{ rows, cols int }{
	{1, 1}, {7, 63}, {1000, 129}, {3, 4097}, {4096, 128},
	{11, 200}, {33, 512}, {17, 1000}, {5, 1024}, {10, 33}, {3, 511}, {4, 999},
	{6, 2048}, {10000, 64}, {1100, 1030},
}

// normF64 widens float32 test data for the float64 reference.
func normF64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// normRound rounds a float64 slice to float32 (values the GPU stores).
func normRound(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// normCompare fails at the first element of got (from the GPU) that differs
// from want (the float64 reference) by more than rtol*|want| + atol*rowMax,
// where rowMax is the largest |want| of the element's row: the absolute term
// allows for float32 cancellation inside a row (x-mean, g - xhat*m), which is
// relative to the row's magnitude, not to the element's. NaN always fails.
func normCompare(t testing.TB, what string, got []float32, want []float64, rows, cols int, rtol, atol float64) {
	t.Helper()
	scale := make([]float64, rows)
	for r := range scale {
		for _, w := range want[r*cols : (r+1)*cols] {
			scale[r] = max(scale[r], math.Abs(w))
		}
	}
	normCompareScaled(t, what, got, want, rows, cols, rtol, atol, scale)
}

// normCompareScaled is normCompare with the absolute tolerance of row r
// atol*scale[r] (for outputs that cancel: scale is the size of their terms).
func normCompareScaled(t testing.TB, what string, got []float32, want []float64, rows, cols int, rtol, atol float64, scale []float64) {
	t.Helper()
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			i := r*cols + j
			g, w := float64(got[i]), want[i]
			if d := math.Abs(g - w); !(d <= rtol*math.Abs(w)+atol*scale[r]) {
				t.Fatalf("%s: [%d, %d] of [%d, %d] = %g, want %g (|diff| %.3g, rtol %g, atol %g x row scale %g)",
					what, r, j, rows, cols, g, w, d, rtol, atol, scale[r])
			}
		}
	}
}

// normCompareSums checks column sums over rows (dgamma, dbeta): got[c] must
// be within tol*scale[c] of want[c], where scale[c] is the sum of the
// absolute values of the terms (the bound a float32 sum's error scales with).
func normCompareSums(t testing.TB, what string, got []float32, want, scale []float64, tol float64) {
	t.Helper()
	for c := range want {
		if d := math.Abs(float64(got[c]) - want[c]); !(d <= tol*scale[c]) {
			t.Fatalf("%s[%d] = %g, want %g (|diff| %.3g > %g x sum|terms| %g)", what, c, got[c], want[c], d, tol, scale[c])
		}
	}
}

// normBits says whether two float32 slices are bit-identical.
func normBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// Tolerances of the RMSNorm tests (float32 kernels with float32 row sums
// against float64): outputs within 1e-5 relative plus 1e-6 of the row's
// largest value, dx within 1e-5 relative plus 1e-5 of the row's largest term
// rstd*(|g| + |xhat*m|) (dx subtracts them); rstd 1e-5 relative; dgamma
// within 1e-5 of sum|dy*xhat| per column.
const (
	rmsTolR     = 1e-5
	rmsTolAFwd  = 1e-6
	rmsTolABwd  = 1e-5
	rmsTolSum   = 1e-5
	rmsEpsilon  = 1e-5
	rmsSeedBase = 7000
)

func TestRMSNormFwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for _, withGamma := range []bool{false, true} {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("RMSNormFwd[%d,%d] gamma=%v", rows, cols, withGamma)
			x := randn(uint64(rmsSeedBase+si), rows*cols)
			var g32 []float32
			var g64 []float64
			if withGamma {
				g32 = randn(uint64(rmsSeedBase+100+si), cols)
				g64 = normF64(g32)
			}
			want := make([]float64, rows*cols)
			wantR := make([]float64, rows)
			ref.RMSNorm(want, wantR, normF64(x), g64, cols, 0, rows, rmsEpsilon)

			dX := upload(t, r, x)
			var dG Ptr
			if withGamma {
				dG = upload(t, r, g32)
			}
			dOut, dR := poisoned(t, r, rows*cols), poisoned(t, r, rows)
			if err := r.RMSNormFwd(dOut, dR, dX, dG, rows, cols, rmsEpsilon); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			normCompare(t, name+" out", download(t, r, dOut, rows*cols), want, rows, cols, rmsTolR, rmsTolAFwd)
			normCompare(t, name+" rstd", download(t, r, dR, rows), wantR, rows, 1, rmsTolR, 0)
			freeAll(t, r, dX, dG, dOut, dR)
		}
	}
}

func TestRMSNormBwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for _, withGamma := range []bool{false, true} {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("RMSNormBwd[%d,%d] gamma=%v", rows, cols, withGamma)
			x := randn(uint64(rmsSeedBase+200+si), rows*cols)
			dy := randn(uint64(rmsSeedBase+300+si), rows*cols)
			var g32 []float32
			var g64 []float64
			if withGamma {
				g32 = randn(uint64(rmsSeedBase+400+si), cols)
				g64 = normF64(g32)
			}
			// rstd as the forward pass would save it (float32), used as is by
			// both sides.
			fwd := make([]float64, rows*cols)
			rs64 := make([]float64, rows)
			x64 := normF64(x)
			ref.RMSNorm(fwd, rs64, x64, g64, cols, 0, rows, rmsEpsilon)
			rs32 := normRound(rs64)
			rs64 = normF64(rs32)
			dy64 := normF64(dy)
			want := make([]float64, rows*cols)
			wantG := make([]float64, cols)
			ref.RMSNormGrad(want, wantG, dy64, x64, rs64, g64, cols, 0, rows)
			scale := make([]float64, cols)
			for i := range dy64 {
				scale[i%cols] += math.Abs(dy64[i] * x64[i] * rs64[i/cols])
			}
			// dx = rstd*(g - xhat*m) cancels (entirely when cols = 1: xhat^2
			// = 1 - eps*rstd^2), so its error scales with its terms:
			// rowScale = max over the row of rstd*(|g| + |xhat*m|).
			rowScale := make([]float64, rows)
			for r := range rowScale {
				m := 0.0
				for j := 0; j < cols; j++ {
					m += rmsG(dy64, g64, r, j, cols) * x64[r*cols+j] * rs64[r]
				}
				m /= float64(cols)
				for j := 0; j < cols; j++ {
					xh := x64[r*cols+j] * rs64[r]
					rowScale[r] = max(rowScale[r], rs64[r]*(math.Abs(rmsG(dy64, g64, r, j, cols))+math.Abs(xh*m)))
				}
			}

			dX, dDy, dR := upload(t, r, x), upload(t, r, dy), upload(t, r, rs32)
			var dG Ptr
			if withGamma {
				dG = upload(t, r, g32)
			}
			dDx, dDg := poisoned(t, r, rows*cols), poisoned(t, r, cols)
			if err := r.RMSNormBwd(dDx, dDg, dDy, dX, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			gotDx, gotDg := download(t, r, dDx, rows*cols), download(t, r, dDg, cols)
			normCompareScaled(t, name+" dx", gotDx, want, rows, cols, rmsTolR, rmsTolABwd, rowScale)
			normCompareSums(t, name+" dgamma", gotDg, wantG, scale, rmsTolSum)

			// Run again: bit-identical dx and dgamma (no atomics), and dx alone
			// (dgamma 0) is the same dx.
			dDx2, dDg2 := poisoned(t, r, rows*cols), poisoned(t, r, cols)
			if err := r.RMSNormBwd(dDx2, dDg2, dDy, dX, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !normBits(download(t, r, dDx2, rows*cols), gotDx) || !normBits(download(t, r, dDg2, cols), gotDg) {
				t.Fatalf("%s: a second run gave different bits", name)
			}
			dDx3 := poisoned(t, r, rows*cols)
			if err := r.RMSNormBwd(dDx3, 0, dDy, dX, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s (no dgamma): %v", name, err)
			}
			if !normBits(download(t, r, dDx3, rows*cols), gotDx) {
				t.Fatalf("%s: dx without dgamma differs from dx with it", name)
			}
			freeAll(t, r, dX, dDy, dR, dG, dDx, dDg, dDx2, dDg2, dDx3)
		}
	}
}

// rmsG is g = dy*gamma at [r, j] (gamma nil: no scale).
func rmsG(dy, gamma []float64, r, j, cols int) float64 {
	if gamma == nil {
		return dy[r*cols+j]
	}
	return dy[r*cols+j] * gamma[j]
}

// TestRMSNormMisaligned runs a float4-capable shape on pointers 4 bytes past
// a 16-byte boundary: the launcher must fall back to scalar loads.
func TestRMSNormMisaligned(t *testing.T) {
	r := testRuntime(t)
	const rows, cols = 64, 256
	x := randn(rmsSeedBase+500, rows*cols)
	want := make([]float64, rows*cols)
	wantR := make([]float64, rows)
	ref.RMSNorm(want, wantR, normF64(x), nil, cols, 0, rows, rmsEpsilon)
	base := upload(t, r, append([]float32{0}, x...))
	outBase := poisoned(t, r, rows*cols+1)
	dR := poisoned(t, r, rows)
	if err := r.RMSNormFwd(outBase.Add(4), dR, base.Add(4), 0, rows, cols, rmsEpsilon); err != nil {
		t.Fatal(err)
	}
	got := download(t, r, outBase, rows*cols+1)
	normCompare(t, "RMSNormFwd misaligned", got[1:], want, rows, cols, rmsTolR, rmsTolAFwd)
	if !math.IsNaN(float64(got[0])) {
		t.Fatalf("RMSNormFwd misaligned wrote before its output (%g)", got[0])
	}
	freeAll(t, r, base, outBase, dR)
}

// TestRMSNormErrors checks the launchers' argument errors and the empty cases.
func TestRMSNormErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 16)
	if err := r.RMSNormFwd(p, p, 0, 0, 2, 8, rmsEpsilon); err == nil {
		t.Fatal("RMSNormFwd with a null x: no error")
	}
	if err := r.RMSNormFwd(p, p, p, 0, -1, 8, rmsEpsilon); err == nil {
		t.Fatal("RMSNormFwd with negative rows: no error")
	}
	if err := r.RMSNormFwd(p, p, p, 0, 2, 0, rmsEpsilon); err == nil {
		t.Fatal("RMSNormFwd with rows of length 0: no error")
	}
	// No rows: dgamma is a sum over nothing, overwritten with zeros.
	if err := r.RMSNormBwd(p, p, p, p, p, 0, 0, 16); err != nil {
		t.Fatal(err)
	}
	for i, v := range download(t, r, p, 16) {
		if v != 0 {
			t.Fatalf("RMSNormBwd with 0 rows: dgamma[%d] = %g, want 0", i, v)
		}
	}
	freeAll(t, r, p)
}

// normBenchShapes are the model's row shapes of the targets.
var normBenchShapes = []struct{ rows, cols int }{{4096, 128}, {65536, 128}}

// normBenchBuffers uploads count buffers of n random float32 (not zeros: exp
// and friends must see ordinary values), freed when the benchmark ends.
func normBenchBuffers(b *testing.B, r *Runtime, n, count int) []Ptr {
	ps := make([]Ptr, count)
	for i := range ps {
		ps[i] = upload(b, r, randn(uint64(9000+i), n))
	}
	b.Cleanup(func() {
		for _, p := range ps {
			_ = r.Free(p)
		}
	})
	return ps
}

func BenchmarkRMSNorm(b *testing.B) {
	r := testRuntime(b)
	for _, sh := range normBenchShapes {
		rows, cols := sh.rows, sh.cols
		n := rows * cols
		b.Run(fmt.Sprintf("fwd/%dx%d", rows, cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 2)
			g, rs := normBenchBuffers(b, r, cols, 1)[0], normBenchBuffers(b, r, rows, 1)[0]
			traffic := int64(4 * (2*n + cols + rows)) // x, gamma read; out, rstd written
			benchVsCopy(b, r, traffic, func() error {
				return r.RMSNormFwd(p[1], rs, p[0], g, rows, cols, rmsEpsilon)
			})
		})
		b.Run(fmt.Sprintf("bwd/%dx%d", rows, cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 3)
			g, dg := normBenchBuffers(b, r, cols, 1)[0], normBenchBuffers(b, r, cols, 1)[0]
			rs := normBenchBuffers(b, r, rows, 1)[0]
			traffic := int64(4 * (3*n + 2*cols + rows)) // dy, x, rstd, gamma read; dx, dgamma written
			benchVsCopy(b, r, traffic, func() error {
				return r.RMSNormBwd(p[2], dg, p[0], p[1], rs, g, rows, cols)
			})
		})
	}
}

// benchVsCopy (shared by every memory-bound kernel's benchmark; here rather than in
// testmain_test.go because the host emulator compiles this file but not that one) times b.N back-to-back calls of run on the GPU (events),
// then b.N device-to-device copies moving as many bytes (traffic/2 read and
// traffic/2 written), and reports the kernel's GB/s (traffic = bytes read +
// written per call), the copy's, and their ratio (the target is >=
// 0.7). Both are timed with launches queued from Go, so per-call CPU
// overhead counts on both sides alike.
func benchVsCopy(b *testing.B, r *Runtime, traffic int64, run func() error) {
	half := (traffic/2 + 3) &^ 3
	src, err := r.Alloc(half)
	if err != nil {
		b.Fatal(err)
	}
	dst, err := r.Alloc(half)
	if err != nil {
		b.Fatal(err)
	}
	defer freeAll(b, r, src, dst)
	if err := r.Memset32(src, 0x3f800000, half/4); err != nil {
		b.Fatal(err)
	}
	// Warm up: module JIT, the allocator's scratch blocks, caches.
	if err := run(); err != nil {
		b.Fatal(err)
	}
	if err := r.CopyDtoD(dst, src, half); err != nil {
		b.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ms, err := r.Time(func() error {
		for i := 0; i < b.N; i++ {
			if err := run(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	msCopy, err := r.Time(func() error {
		for i := 0; i < b.N; i++ {
			if err := r.CopyDtoD(dst, src, half); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	gbs := float64(traffic) * float64(b.N) / (ms * 1e-3) / 1e9
	copyGBs := float64(2*half) * float64(b.N) / (msCopy * 1e-3) / 1e9
	b.ReportMetric(gbs, "GB/s")
	b.ReportMetric(copyGBs, "copy_GB/s")
	b.ReportMetric(gbs/copyGBs, "vs_copy")
}
