package ref_test

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Kernel-level contracts of Softmax and SoftmaxGrad: the [lo, hi) row range
// is all that is written, splitting rows changes no bit, and Softmax may run
// in place (dst aliasing x). The values themselves are tested against
// float64 formulas in tensor/norm_test.go.

// mnlSplitRows runs f over [0, rows) in one call and in three uneven calls
// and fails unless both give the same bits.
func mnlSplitRows[T ref.Float](t *testing.T, what string, rows int, out func() [][]T, f func(lo, hi int)) {
	t.Helper()
	f(0, rows)
	whole := out()
	snap := make([][]T, len(whole))
	for i, o := range whole {
		snap[i] = append([]T(nil), o...)
		for j := range o {
			o[j] = T(math.NaN())
		}
	}
	f(0, rows/3)
	f(rows/3, rows/3)
	f(rows/3, rows)
	for i, o := range out() {
		for j := range o {
			if math.Float64bits(float64(o[j])) != math.Float64bits(float64(snap[i][j])) {
				t.Fatalf("%s: output %d element %d differs between a whole and a split run: %v vs %v", what, i, j, o[j], snap[i][j])
			}
		}
	}
}

func TestSoftmaxRefRowsAndAliasing(t *testing.T) {
	const rows, n = 9, 37
	x := mnlConv[float32](mnlVals(1, rows*n))
	dy := mnlConv[float32](mnlVals(2, rows*n))
	for _, log := range []bool{false, true} {
		y, dx := make([]float32, rows*n), make([]float32, rows*n)
		mnlSplitRows(t, "Softmax", rows, func() [][]float32 { return [][]float32{y} }, func(lo, hi int) {
			ref.Softmax(y, x, n, lo, hi, log)
		})
		mnlSplitRows(t, "SoftmaxGrad", rows, func() [][]float32 { return [][]float32{dx} }, func(lo, hi int) {
			ref.SoftmaxGrad(dx, y, dy, n, lo, hi, log)
		})
		// In place: same bits as out of place; rows outside [2, 5) untouched.
		in := append([]float32(nil), x...)
		ref.Softmax(in, in, n, 2, 5, log)
		for i := range in {
			want := x[i]
			if i >= 2*n && i < 5*n {
				want = y[i]
			}
			if in[i] != want {
				t.Fatalf("in-place Softmax log=%v: element %d = %v, want %v", log, i, in[i], want)
			}
		}
		// Softmax rows sum to 1 (log: exp sums to 1) to float32 rounding.
		for r := 0; r < rows; r++ {
			s := 0.0
			for _, v := range y[r*n : r*n+n] {
				if log {
					s += math.Exp(float64(v))
				} else {
					s += float64(v)
				}
			}
			if math.Abs(s-1) > float64(n)*0x1p-23 {
				t.Fatalf("Softmax log=%v row %d sums to %v", log, r, s)
			}
		}
	}
}
