package nori

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// TestEmbeddedModelContextShuffleInvariance: with one ensemble member and a
// fixed seed, shuffling the training (context) rows leaves the predictions
// unchanged up to float32 summation order in row attention. Run on the
// embedded trained checkpoint (a random network barely reacts to its context,
// so it could not tell a bug from noise) on a nonlinear table with a
// categorical-looking and a missing-valued column.
func TestEmbeddedModelContextShuffleInvariance(t *testing.T) {
	const n, q, f = 200, 50, 4
	r := tensor.NewRNG(11, 0)
	gen := func(rows int) ([][]float64, []float64) {
		X := make([][]float64, rows)
		y := make([]float64, rows)
		for i := range X {
			X[i] = []float64{r.NormFloat64(), r.NormFloat64(), float64(r.Intn(3)), r.NormFloat64()}
			if r.Intn(10) == 0 {
				X[i][3] = math.NaN()
			}
			y[i] = math.Sin(2*X[i][0]) + X[i][1]*X[i][2] + 0.1*r.NormFloat64()
		}
		return X, y
	}
	Xc, yc := gen(n)
	Xq, _ := gen(q)
	predict := func(X [][]float64, y []float64) []float64 {
		// No pool: this is the network's invariance (the pool's is
		// TestMemberPoolInvariantToTrainingOrder), and 1 member of 16
		// candidates would score 16.
		reg, err := NewRegressor(WithEnsemble(1), WithMemberPool(0), WithSeed(3))
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		p, err := reg.Predict(Xq)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := predict(Xc, yc)
	perm := tensor.NewRNG(12, 0).Perm(n)
	Xs, ys := make([][]float64, n), make([]float64, n)
	for i, j := range perm {
		Xs[i], ys[i] = Xc[j], yc[j]
	}
	shuf := predict(Xs, ys)
	// A wrong pairing of rows and targets changes predictions by O(0.1-1):
	// the check below would catch it. Summation order alone moves them by
	// float32 rounding (~1e-6 of the target scale).
	worst := 0.0
	for i := range base {
		worst = max(worst, math.Abs(base[i]-shuf[i]))
	}
	t.Logf("max |change| after shuffling %d context rows: %.3g", n, worst)
	if worst > 1e-4 {
		t.Fatalf("shuffling the context changed a prediction by %.3g", worst)
	}
	mismatched := append([]float64(nil), ys...)
	mismatched[0], mismatched[n/2] = mismatched[n/2]+3, mismatched[0]-3
	other := predict(Xs, mismatched)
	moved := 0.0
	for i := range base {
		moved = max(moved, math.Abs(base[i]-other[i]))
	}
	if moved <= 10*worst || moved < 1e-3 {
		t.Fatalf("perturbing two context targets moved predictions by only %.3g: the check cannot tell", moved)
	}
}
