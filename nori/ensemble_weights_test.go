package nori

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestWeightsFromScores(t *testing.T) {
	w := weightsFromScores([]float64{0.5, 0.55, 1.0, 0.5}, 0.1)
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("weights %v sum to %v", w, sum)
	}
	// 10% worse than the best: e^-1 of its weight; twice as bad: e^-10.
	if r := w[1] / w[0]; math.Abs(r-math.Exp(-1)) > 1e-12 {
		t.Errorf("weight ratio of a 10%% worse member %v, want e^-1", r)
	}
	if r := w[2] / w[0]; math.Abs(r-math.Exp(-10)) > 1e-15 {
		t.Errorf("weight ratio of a twice as bad member %v, want e^-10", r)
	}
	if w[0] != w[3] {
		t.Errorf("equal scores got weights %v and %v", w[0], w[3])
	}
	// Scale-free: the target's units do not matter.
	w2 := weightsFromScores([]float64{50, 55, 100, 50}, 0.1)
	for i := range w {
		if math.Abs(w[i]-w2[i]) > 1e-12 {
			t.Errorf("scores x100 changed weight %d: %v -> %v", i, w[i], w2[i])
		}
	}
	// A perfect member makes relative excess undefined: equal weights.
	for _, v := range weightsFromScores([]float64{0, 0.3, 1}, 0.1) {
		if math.Abs(v-1.0/3) > 1e-12 {
			t.Errorf("best score 0: weight %v, want 1/3", v)
		}
	}
}

// firstColumnModel predicts from the first column of its table alone (a
// kernel regression on it), so an ensemble member is good exactly when its
// random column order puts the informative feature first.
type firstColumnModel struct{ fakeModel }

func (f *firstColumnModel) inferTable(x []float32, rows, feats int, y []float32, nctx, chunk int) ([]float32, int, error) {
	first := make([]float32, rows)
	for r := range rows {
		first[r] = x[r*feats]
	}
	return f.fakeModel.inferTable(first, rows, 1, y, nctx, chunk)
}

// firstColumnTable returns n rows of feats standard-normal features and the
// target y = 3 x0 + 0.1 noise, drawn from seed.
func firstColumnTable(n, feats int, seed uint64) ([][]float64, []float64) {
	r := tensor.NewRNG(seed, 0)
	X, y := make([][]float64, n), make([]float64, n)
	for i := range X {
		X[i] = make([]float64, feats)
		for j := range X[i] {
			X[i][j] = r.NormFloat64()
		}
		y[i] = 3*X[i][0] + 0.1*r.NormFloat64()
	}
	return X, y
}

// firstColumnScore fits a Regressor on firstColumnModel with opts to (X,
// y) and returns its test R² on (Xt, yt) and the regressor.
func firstColumnScore(t *testing.T, X [][]float64, y []float64, Xt [][]float64, yt []float64, opts ...Option) (float64, *Regressor) {
	t.Helper()
	return modelScore(t, &firstColumnModel{fakeModel{nq: 19}}, "first-column", X, y, Xt, yt, opts...)
}

// modelScore fits a Regressor on the stand-in qm with opts to (X, y) and
// returns its test R² on (Xt, yt) and the regressor.
func modelScore(t *testing.T, qm quantileModel, name string, X [][]float64, y []float64, Xt [][]float64, yt []float64, opts ...Option) (float64, *Regressor) {
	t.Helper()
	r, err := NewRegressor(append([]Option{withQuantileModel(qm, name)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err := r.Predict(Xt)
	if err != nil {
		t.Fatal(err)
	}
	return R2Score(yt, p), r
}

// x0FirstWeight returns how many of the (plain) members put base column 0
// first and their total weight; it fails the test when none or all do (the
// seed then cannot tell good members from bad).
func x0FirstWeight(t *testing.T, members []*member, weights []float64) (good int, w float64) {
	t.Helper()
	for i, m := range members {
		if m.order[0] == 0 { // plain members: output column k is base column order[k]
			good++
			w += weights[i]
		}
	}
	if good == 0 || good == len(members) {
		t.Fatalf("seed gives %d of %d members with x0 first: pick another", good, len(members))
	}
	return good, w
}

// TestMemberWeightsFindTheGoodMembers: on y = x0 + noise among 5 noise
// features, plain members whose first column is x0 predict well and the
// others do not. The held-out scores must find them (this fails if the
// folds' rows and targets were misaligned), give them nearly all the
// weight, and beat the equal average on test rows.
func TestMemberWeightsFindTheGoodMembers(t *testing.T) {
	const feats, members = 6, 12
	X, y := firstColumnTable(300, feats, 1)
	Xt, yt := firstColumnTable(200, feats, 2)
	score := func(weighted bool) (float64, *Regressor) {
		return firstColumnScore(t, X, y, Xt, yt, WithEnsemble(members), WithPreprocessing(PreprocessPlain),
			WithMemberWeights(weighted), WithSeed(5), WithLocalContext(0, 0))
	}
	equal, _ := score(false)
	weighted, r := score(true)
	e := r.fit.ens
	good, wGood := x0FirstWeight(t, e.members, e.weights)
	t.Logf("%d of %d members see x0 first; their weight %.4f; test R² equal %.4f, weighted %.4f", good, members, wGood, equal, weighted)
	if wGood < 0.99 {
		t.Errorf("members with x0 first got weight %.4f in all, want nearly all", wGood)
	}
	if !(weighted > 0.85 && weighted > equal+0.3) {
		t.Errorf("test R² weighted %.4f, equal %.4f: want the weighted ensemble to be good and much better", weighted, equal)
	}
}

// TestMemberWeightsDeterministic: the weights and so the predictions do not
// depend on how many members are scored at once; without weighting (or
// with too few rows) the members are averaged equally as before.
func TestMemberWeightsDeterministic(t *testing.T) {
	X, y := linearData(120, 4, 3)
	Xq, _ := linearData(20, 4, 4)
	var ref []float64
	for _, w := range []int{1, 3} {
		r, _ := newFakeRegressor(t, WithWorkers(w), WithEnsemble(4))
		if err := r.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		if len(r.fit.ens.weights) != 4 {
			t.Fatalf("workers %d: %d weights for 4 members", w, len(r.fit.ens.weights))
		}
		p, err := r.Predict(Xq)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = p
		} else if !sameFloats(ref, p) {
			t.Errorf("workers %d: predictions differ from workers 1", w)
		}
	}
	off, _ := newFakeRegressor(t, WithMemberWeights(false), WithEnsemble(4))
	small, _ := newFakeRegressor(t, WithEnsemble(4))
	Xs, ys := linearData(minWeightRows-1, 4, 3)
	for name, c := range map[string]struct {
		r *Regressor
		X [][]float64
		y []float64
	}{"WithMemberWeights(false)": {off, X, y}, "too few rows": {small, Xs, ys}} {
		if err := c.r.Fit(c.X, c.y); err != nil {
			t.Fatal(err)
		}
		if c.r.fit.ens.weights != nil {
			t.Errorf("%s: weights %v, want equal averaging", name, c.r.fit.ens.weights)
		}
	}
}

// TestMemberWeightsFitError: a model failure while scoring the members is
// Fit's error, and the regressor stays unfitted.
func TestMemberWeightsFitError(t *testing.T) {
	r, f := newFakeRegressor(t, WithEnsemble(3))
	f.fail = errors.New("device lost")
	X, y := linearData(60, 3, 1)
	err := r.Fit(X, y)
	if err == nil || !strings.Contains(err.Error(), "scoring ensemble member") || !strings.Contains(err.Error(), "device lost") {
		t.Fatalf("Fit with a failing model: %v", err)
	}
	if _, err := r.Predict(X); err == nil {
		t.Error("Predict after a failed Fit succeeded")
	}
}
