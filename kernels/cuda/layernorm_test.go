//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tolerances of the LayerNorm tests (float32 kernels with float32 row sums
// against float64): out and dx within 1e-5 relative plus 1e-5 of the row's
// largest value (x-mean and g-mean(g)-xhat*m subtract); mean within 1e-6
// absolute (N(0,1) data: the sum's error is relative to sum|x|, not to the
// small mean) plus 1e-5 relative, rstd 1e-5 relative; dgamma and dbeta within
// 1e-5 of the column's sum of |terms|.
const (
	lnTolR     = 1e-5
	lnTolA     = 1e-5
	lnTolMean  = 1e-6
	lnTolSum   = 1e-5
	lnEpsilon  = 1e-5
	lnSeedBase = 8000
)

// normCompareElems checks got against want element by element within
// rtol*|want| + atol (NaN fails).
func normCompareElems(t testing.TB, what string, got []float32, want []float64, rtol, atol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= rtol*math.Abs(want[i])+atol) {
			t.Fatalf("%s[%d] = %g, want %g (|diff| %.3g, rtol %g, atol %g)", what, i, got[i], want[i], d, rtol, atol)
		}
	}
}

// lnAffine returns gamma and beta for a test case: none, gamma only, or both.
func lnAffine(mode, cols int, seed uint64) (g32, b32 []float32, g64, b64 []float64) {
	if mode >= 1 {
		g32 = randn(seed, cols)
		g64 = normF64(g32)
	}
	if mode >= 2 {
		b32 = randn(seed+1, cols)
		b64 = normF64(b32)
	}
	return
}

// lnUpload uploads x, or returns 0 for a nil slice (an absent operand).
func lnUpload(t testing.TB, r *Runtime, x []float32) Ptr {
	if x == nil {
		return 0
	}
	return upload(t, r, x)
}

var lnModes = []string{"none", "gamma", "gamma+beta"}

func TestLayerNormFwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for mode, mname := range lnModes {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("LayerNormFwd[%d,%d] %s", rows, cols, mname)
			// A non-zero mean per row, so that the centring matters.
			x := randn(uint64(lnSeedBase+si), rows*cols)
			for i := range x {
				x[i] += float32(i/cols%5) - 2
			}
			g32, b32, g64, b64 := lnAffine(mode, cols, uint64(lnSeedBase+100+si))
			want := make([]float64, rows*cols)
			wantM, wantR := make([]float64, rows), make([]float64, rows)
			ref.LayerNorm(want, wantM, wantR, normF64(x), g64, b64, cols, 0, rows, lnEpsilon)

			dX, dG, dB := upload(t, r, x), lnUpload(t, r, g32), lnUpload(t, r, b32)
			dOut, dM, dR := poisoned(t, r, rows*cols), poisoned(t, r, rows), poisoned(t, r, rows)
			if err := r.LayerNormFwd(dOut, dM, dR, dX, dG, dB, rows, cols, lnEpsilon); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			normCompare(t, name+" out", download(t, r, dOut, rows*cols), want, rows, cols, lnTolR, lnTolA)
			normCompareElems(t, name+" mean", download(t, r, dM, rows), wantM, lnTolR, lnTolMean)
			normCompareElems(t, name+" rstd", download(t, r, dR, rows), wantR, lnTolR, 0)
			freeAll(t, r, dX, dG, dB, dOut, dM, dR)
		}
	}
}

func TestLayerNormBwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for _, withGamma := range []bool{false, true} {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("LayerNormBwd[%d,%d] gamma=%v", rows, cols, withGamma)
			x := randn(uint64(lnSeedBase+200+si), rows*cols)
			dy := randn(uint64(lnSeedBase+300+si), rows*cols)
			mode := 0
			if withGamma {
				mode = 1
			}
			g32, _, g64, _ := lnAffine(mode, cols, uint64(lnSeedBase+400+si))
			// mean and rstd as the forward pass would save them (float32),
			// used as is by both sides.
			x64 := normF64(x)
			fwd := make([]float64, rows*cols)
			m64, rs64 := make([]float64, rows), make([]float64, rows)
			ref.LayerNorm(fwd, m64, rs64, x64, g64, nil, cols, 0, rows, lnEpsilon)
			m32, rs32 := normRound(m64), normRound(rs64)
			m64, rs64 = normF64(m32), normF64(rs32)
			dy64 := normF64(dy)
			want := make([]float64, rows*cols)
			wantG, wantB := make([]float64, cols), make([]float64, cols)
			ref.LayerNormGrad(want, wantG, wantB, dy64, x64, m64, rs64, g64, cols, 0, rows)
			scaleG, scaleB := make([]float64, cols), make([]float64, cols)
			for i := range dy64 {
				scaleG[i%cols] += math.Abs(dy64[i] * (x64[i] - m64[i/cols]) * rs64[i/cols])
				scaleB[i%cols] += math.Abs(dy64[i])
			}

			dX, dDy, dM, dR, dG := upload(t, r, x), upload(t, r, dy), upload(t, r, m32), upload(t, r, rs32), lnUpload(t, r, g32)
			dDx, dDg, dDb := poisoned(t, r, rows*cols), poisoned(t, r, cols), poisoned(t, r, cols)
			if err := r.LayerNormBwd(dDx, dDg, dDb, dDy, dX, dM, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			gotDx, gotDg, gotDb := download(t, r, dDx, rows*cols), download(t, r, dDg, cols), download(t, r, dDb, cols)
			normCompare(t, name+" dx", gotDx, want, rows, cols, lnTolR, lnTolA)
			normCompareSums(t, name+" dgamma", gotDg, wantG, scaleG, lnTolSum)
			normCompareSums(t, name+" dbeta", gotDb, wantB, scaleB, lnTolSum)

			// dbeta alone, then dx alone: the same bits as with everything
			// (no atomics, the partials do not depend on which are wanted).
			dDx2, dDb2 := poisoned(t, r, rows*cols), poisoned(t, r, cols)
			if err := r.LayerNormBwd(dDx2, 0, dDb2, dDy, dX, dM, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s (dbeta only): %v", name, err)
			}
			if !normBits(download(t, r, dDx2, rows*cols), gotDx) || !normBits(download(t, r, dDb2, cols), gotDb) {
				t.Fatalf("%s: dx or dbeta differ when dgamma is not wanted", name)
			}
			dDx3 := poisoned(t, r, rows*cols)
			if err := r.LayerNormBwd(dDx3, 0, 0, dDy, dX, dM, dR, dG, rows, cols); err != nil {
				t.Fatalf("%s (dx only): %v", name, err)
			}
			if !normBits(download(t, r, dDx3, rows*cols), gotDx) {
				t.Fatalf("%s: dx differs when neither dgamma nor dbeta is wanted", name)
			}
			freeAll(t, r, dX, dDy, dM, dR, dG, dDx, dDg, dDb, dDx2, dDb2, dDx3)
		}
	}
}

func TestLayerNormErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 16)
	if err := r.LayerNormFwd(p, 0, p, p, 0, 0, 2, 8, lnEpsilon); err == nil {
		t.Fatal("LayerNormFwd with a null mean: no error")
	}
	if err := r.LayerNormFwd(p, p, p, p, 0, 0, 2, 0, lnEpsilon); err == nil {
		t.Fatal("LayerNormFwd with rows of length 0: no error")
	}
	if err := r.LayerNormBwd(p, 0, 0, p, p, p, p, 0, 3, -1); err == nil {
		t.Fatal("LayerNormBwd with negative cols: no error")
	}
	q := poisoned(t, r, 16)
	if err := r.LayerNormBwd(p, p, q, p, p, p, p, 0, 0, 16); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Ptr{p, q} {
		for i, v := range download(t, r, b, 16) {
			if v != 0 {
				t.Fatalf("LayerNormBwd with 0 rows: dgamma/dbeta[%d] = %g, want 0", i, v)
			}
		}
	}
	freeAll(t, r, p, q)
}

func BenchmarkLayerNorm(b *testing.B) {
	r := testRuntime(b)
	for _, sh := range normBenchShapes {
		rows, cols := sh.rows, sh.cols
		n := rows * cols
		b.Run(fmt.Sprintf("fwd/%dx%d", rows, cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 2)
			gb := normBenchBuffers(b, r, cols, 2)
			st := normBenchBuffers(b, r, rows, 2)
			traffic := int64(4 * (2*n + 2*cols + 2*rows)) // x, gamma, beta read; out, mean, rstd written
			benchVsCopy(b, r, traffic, func() error {
				return r.LayerNormFwd(p[1], st[0], st[1], p[0], gb[0], gb[1], rows, cols, lnEpsilon)
			})
		})
		b.Run(fmt.Sprintf("bwd/%dx%d", rows, cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 3)
			gb := normBenchBuffers(b, r, cols, 3)
			st := normBenchBuffers(b, r, rows, 2)
			// dy, x, mean, rstd, gamma read; dx, dgamma, dbeta written
			traffic := int64(4 * (3*n + 3*cols + 2*rows))
			benchVsCopy(b, r, traffic, func() error {
				return r.LayerNormBwd(p[2], gb[1], gb[2], p[0], p[1], st[0], st[1], gb[0], rows, cols)
			})
		})
	}
}
