//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tolerances of the softmax tests (float32 with accurate expf/logf, at most 2
// and 1 ulp, and float32 row sums, against float64): 1e-5 relative plus 1e-6
// (forward) or 1e-5 (backward, which subtracts a row sum) of the row's
// largest |value|.
const (
	smTolR     = 1e-5
	smTolAFwd  = 1e-6
	smTolABwd  = 1e-5
	smSeedBase = 9100
)

func TestSoftmaxFwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for _, log := range []bool{false, true} {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("SoftmaxFwd[%d,%d] log=%v", rows, cols, log)
			// Scale 3: a spread of probabilities, some far below the maximum.
			x := randn(uint64(smSeedBase+si), rows*cols)
			for i := range x {
				x[i] *= 3
			}
			want := make([]float64, rows*cols)
			ref.Softmax(want, normF64(x), cols, 0, rows, log)

			dX, dOut := upload(t, r, x), poisoned(t, r, rows*cols)
			if err := r.SoftmaxFwd(dOut, dX, rows, cols, log); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := download(t, r, dOut, rows*cols)
			normCompare(t, name, got, want, rows, cols, smTolR, smTolAFwd)
			// In place (out aliasing x): the same bits.
			if err := r.SoftmaxFwd(dX, dX, rows, cols, log); err != nil {
				t.Fatalf("%s in place: %v", name, err)
			}
			if !normBits(download(t, r, dX, rows*cols), got) {
				t.Fatalf("%s: in place differs from out of place", name)
			}
			freeAll(t, r, dX, dOut)
		}
	}
}

func TestSoftmaxBwd(t *testing.T) {
	r := testRuntime(t)
	for si, sh := range normTestShapes {
		for _, log := range []bool{false, true} {
			rows, cols := sh.rows, sh.cols
			name := fmt.Sprintf("SoftmaxBwd[%d,%d] log=%v", rows, cols, log)
			x := randn(uint64(smSeedBase+100+si), rows*cols)
			dy := randn(uint64(smSeedBase+200+si), rows*cols)
			y64 := make([]float64, rows*cols)
			ref.Softmax(y64, normF64(x), cols, 0, rows, log)
			y := normRound(y64) // the forward output as stored, used as is by both sides
			want := make([]float64, rows*cols)
			ref.SoftmaxGrad(want, normF64(y), normF64(dy), cols, 0, rows, log)

			dY, dDy, dDx := upload(t, r, y), upload(t, r, dy), poisoned(t, r, rows*cols)
			if err := r.SoftmaxBwd(dDx, dY, dDy, rows, cols, log); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := download(t, r, dDx, rows*cols)
			normCompare(t, name, got, want, rows, cols, smTolR, smTolABwd)
			// In place (dx aliasing dy): the same bits.
			if err := r.SoftmaxBwd(dDy, dY, dDy, rows, cols, log); err != nil {
				t.Fatalf("%s in place: %v", name, err)
			}
			if !normBits(download(t, r, dDy, rows*cols), got) {
				t.Fatalf("%s: in place differs from out of place", name)
			}
			freeAll(t, r, dY, dDy, dDx)
		}
	}
}

// TestSoftmaxSpecialValues covers the rows attention masking produces and
// the IEEE special cases, in both kernel variants (cols 37: warp, 1500:
// block): -Inf entries (masked: probability 0, log-probability -Inf), a row
// of all -Inf, a row with +Inf and a row with NaN (NaN everywhere, as
// kernels/ref, whose max propagates NaN; the kernel's fmaxf skips it, but
// exp(NaN - m) then poisons the row sum).
func TestSoftmaxSpecialValues(t *testing.T) {
	r := testRuntime(t)
	inf := float32(math.Inf(1))
	for _, cols := range []int{37, 1500} {
		const rows = 5
		x := randn(uint64(smSeedBase+300+cols), rows*cols)
		for j := 0; j < cols; j += 3 {
			x[j] = -inf // row 0: every third entry masked
		}
		for j := 0; j < cols; j++ {
			x[cols+j] = -inf // row 1: fully masked
		}
		x[2*cols+cols/2] = inf                     // row 2: +Inf
		x[3*cols+1] = float32(math.NaN())          // row 3: NaN
		x[4*cols+cols-1], x[4*cols] = -inf, 3.0e38 // row 4: huge and masked
		for _, log := range []bool{false, true} {
			name := fmt.Sprintf("SoftmaxFwd special [%d,%d] log=%v", rows, cols, log)
			want := make([]float64, rows*cols)
			ref.Softmax(want, normF64(x), cols, 0, rows, log)
			dX, dOut := upload(t, r, x), poisoned(t, r, rows*cols)
			if err := r.SoftmaxFwd(dOut, dX, rows, cols, log); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := download(t, r, dOut, rows*cols)
			for i, w := range want {
				g := float64(got[i])
				switch {
				case math.IsNaN(w) || math.IsInf(w, 0):
					if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
						t.Fatalf("%s: [%d, %d] = %g, want %g", name, i/cols, i%cols, g, w)
					}
				case !(math.Abs(g-w) <= smTolR*math.Abs(w)+smTolAFwd*max(1, math.Abs(w))):
					t.Fatalf("%s: [%d, %d] = %g, want %g", name, i/cols, i%cols, g, w)
				}
			}
			freeAll(t, r, dX, dOut)
		}
	}
}

func TestSoftmaxErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 4)
	if err := r.SoftmaxFwd(0, p, 2, 2, false); err == nil {
		t.Fatal("SoftmaxFwd with a null out: no error")
	}
	if err := r.SoftmaxBwd(p, p, p, -2, 2, true); err == nil {
		t.Fatal("SoftmaxBwd with negative rows: no error")
	}
	if err := r.SoftmaxFwd(p, p, 3, 0, false); err != nil {
		t.Fatalf("SoftmaxFwd of empty rows: %v", err)
	}
	freeAll(t, r, p)
}

func BenchmarkSoftmax(b *testing.B) {
	r := testRuntime(b)
	for _, sh := range normBenchShapes {
		rows, cols := sh.rows, sh.cols
		n := rows * cols
		for _, log := range []bool{false, true} {
			b.Run(fmt.Sprintf("fwd/log=%v/%dx%d", log, rows, cols), func(b *testing.B) {
				p := normBenchBuffers(b, r, n, 2)
				benchVsCopy(b, r, int64(4*2*n), func() error { // x read, out written
					return r.SoftmaxFwd(p[1], p[0], rows, cols, log)
				})
			})
			b.Run(fmt.Sprintf("bwd/log=%v/%dx%d", log, rows, cols), func(b *testing.B) {
				p := normBenchBuffers(b, r, n, 3)
				benchVsCopy(b, r, int64(4*3*n), func() error { // y, dy read, dx written
					return r.SoftmaxBwd(p[2], p[0], p[1], rows, cols, log)
				})
			})
		}
	}
}
