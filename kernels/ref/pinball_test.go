package ref_test

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Pinball kernels on hand-checkable values: the loss of each case and the
// derivative on both sides and at a tie, and additivity of PinballSum over
// [lo, hi) splits (exact here: the terms are small binary fractions).
func TestPinballRef(t *testing.T) {
	// N = 2 rows, Q = 3 taus.
	taus := []float64{0.25, 0.5, 0.75}
	target := []float64{1, -2}
	pred := []float64{0, 1, 3, -2, -4, -1}
	// u = y - q: 1, 0, -2 | 0, 2, -1
	// rho:       0.25, 0, 0.5 | 0, 1, 0.25
	want := []float64{0.25, 0, 0.5, 0, 1, 0.25}
	total := 0.0
	for i, w := range want {
		if got := ref.PinballSum(pred, target, taus, 3, i, i+1); got != w {
			t.Fatalf("element %d: loss %v, want %v", i, got, w)
		}
		total += w
	}
	if got := ref.PinballSum(pred, target, taus, 3, 0, 2) + ref.PinballSum(pred, target, taus, 3, 2, 6); got != total {
		t.Fatalf("split sum %v, want %v", got, total)
	}
	// d rho/d q: -tau where y > q, 1-tau where y < q, 0.5-tau at a tie.
	wantD := []float64{-0.25, 0, 0.25, 0.25, -0.5, 0.25}
	d := make([]float32, 6)
	ref.PinballGrad(d, mnlConv[float32](pred), mnlConv[float32](target), mnlConv[float32](taus), 3, 2, 0, 6)
	for i, w := range wantD {
		if float64(d[i]) != 2*w {
			t.Fatalf("dpred[%d] = %v, want %v", i, d[i], 2*w)
		}
	}
	ref.PinballGrad(d, []float32{float32(math.NaN())}, []float32{0}, []float32{0.5}, 1, 1, 0, 1)
	if !math.IsNaN(float64(d[0])) {
		t.Fatalf("NaN pred gives dpred %v, want NaN", d[0])
	}
}
