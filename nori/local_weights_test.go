package nori

import (
	"errors"
	"strings"
	"testing"
)

// TestSharedLocalWeightsFindTheGoodMembers: on y = 3 x0 + noise among 5
// noise features, with local contexts (equal-weight distance) on a table
// above localWeightRows, plain members whose first column is x0 predict
// well under firstColumnModel and the others do not. The probes' scores
// must give those members nearly all the weight, every group must use the
// shared weights, and test R² must beat the equal average.
func TestSharedLocalWeightsFindTheGoodMembers(t *testing.T) {
	const feats, members, n = 6, 8, localWeightRows + 88
	X, y := firstColumnTable(n, feats, 1)
	Xt, yt := firstColumnTable(150, feats, 2)
	score := func(opts ...Option) (float64, *Regressor) {
		return firstColumnScore(t, X, y, Xt, yt, append([]Option{WithEnsemble(members), WithPreprocessing(PreprocessPlain),
			WithSeed(3), WithLocalContext(120, 30), WithLocalMetric(false), WithFeatureSubsets(false)}, opts...)...)
	}
	equal, off := score(WithMemberWeights(false))
	if off.fit.local == nil || off.fit.local.weights != nil {
		t.Fatalf("WithMemberWeights(false): local %v, want local contexts without shared weights", off.fit.local)
	}
	shared, r := score()
	l := r.fit.local
	if l == nil || len(l.weights) != members {
		t.Fatalf("default weighting above %d rows: local contexts %v, want %d shared weights", localWeightRows, l, members)
	}
	// Which members see x0 first: a group's fit has the same members.
	g, err := fitGlobal(r.qm, SelectRows(l.table, rowRange(0, l.rows)), l.features, l.target, l.fromTable, l.y[:l.rows], &l.sub)
	if err != nil {
		t.Fatal(err)
	}
	good, wGood := x0FirstWeight(t, g.ens.members, l.weights)
	t.Logf("%d of %d members see x0 first; their shared weight %.4f; test R² equal %.4f, shared %.4f", good, members, wGood, equal, shared)
	if wGood < 0.99 {
		t.Errorf("members with x0 first got weight %.4f in all, want nearly all", wGood)
	}
	if !(shared > equal+0.1) {
		t.Errorf("test R² shared %.4f, equal %.4f: want the shared weights much better", shared, equal)
	}
}

// TestSharedLocalWeightsFitError: a model failure while scoring the probes
// is Fit's error, and the regressor stays unfitted.
func TestSharedLocalWeightsFitError(t *testing.T) {
	X, y := localData(localWeightRows+40, 1)
	f := &fakeModel{nq: 19, fail: errors.New("device lost")}
	r, err := NewRegressor(withQuantileModel(f, "fake"), WithEnsemble(3), WithLocalContext(64, 20))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(X, y); err == nil || !strings.Contains(err.Error(), "scoring ensemble member") || !strings.Contains(err.Error(), "device lost") {
		t.Fatalf("Fit with a failing model: %v", err)
	}
	if _, err := r.Predict(X); err == nil {
		t.Error("Predict after a failed Fit succeeded")
	}
}
