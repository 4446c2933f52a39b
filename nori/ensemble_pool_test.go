package nori

import (
	"slices"
	"testing"
)

func TestBestMembers(t *testing.T) {
	scores := []float64{0.5, 0.1, 0.9, 0.1, 0.3}
	for _, c := range []struct {
		k    int
		want []int
	}{{1, []int{1}}, {2, []int{1, 3}}, {3, []int{1, 3, 4}}, {5, []int{0, 1, 2, 3, 4}}, {9, []int{0, 1, 2, 3, 4}}} {
		if got := bestMembers(scores, c.k); !slices.Equal(got, c.want) {
			t.Errorf("bestMembers(%v, %d) = %v, want %v", scores, c.k, got, c.want)
		}
	}
}

// poolContext is a training table size with the context option the pool
// is tested in: one context of every row, or local contexts.
type poolContext struct {
	name  string
	n     int
	local Option
}

// allX0First fails the test unless every member puts base column 0 first
// and their indices lie in the pool.
func allX0First(t *testing.T, members []*member, want, pool int) {
	t.Helper()
	if len(members) != want {
		t.Fatalf("%d members kept, want %d", len(members), want)
	}
	for _, m := range members {
		if m.order[0] != 0 || m.index >= pool {
			t.Errorf("kept member %d (first column %d), want members of the pool of %d with x0 first", m.index, m.order[0], pool)
		}
	}
}

// TestMemberPoolKeepsTheGoodMembers: on y = 3 x0 + noise among 5 noise
// features under firstColumnModel, a member is good exactly when x0 comes
// first (1 in 6 of the random orders). Two members alone (seed 5) include
// no good one; from a pool of 18 Fit must keep two good ones, in one
// context and in local contexts with shared probe weights alike, and
// predict far better. (Without the neighbour feature, which as a first
// column would be a good member too.)
func TestMemberPoolKeepsTheGoodMembers(t *testing.T) {
	const feats, members, pool = 6, 2, 18
	for _, c := range []poolContext{
		{"one context", 300, WithLocalContext(0, 0)},
		{"local contexts", localWeightRows + 88, WithLocalContext(120, 30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			X, y := firstColumnTable(c.n, feats, 1)
			Xt, yt := firstColumnTable(150, feats, 2)
			score := func(opts ...Option) (float64, *Regressor) {
				return firstColumnScore(t, X, y, Xt, yt, append([]Option{WithEnsemble(members), WithPreprocessing(PreprocessPlain),
					WithSeed(5), c.local, WithLocalMetric(false), WithNeighbourFeature(false)}, opts...)...)
			}
			alone, _ := score(WithMemberPool(0))
			pooled, r := score(WithMemberPool(pool))
			kept := r.fit.ens.members
			if l := r.fit.local; l != nil {
				if len(l.sub.keep) != members || len(l.weights) != members {
					t.Fatalf("local contexts keep %v with weights %v, want %d of each", l.sub.keep, l.weights, members)
				}
				g, err := fitGlobal(r.qm, SelectRows(l.table, rowRange(0, l.rows)), l.features, l.target, l.fromTable, l.y[:l.rows], &l.sub)
				if err != nil {
					t.Fatal(err)
				}
				kept = g.ens.members
			}
			allX0First(t, kept, members, pool)
			t.Logf("test R² %d members %.4f, best %d of %d %.4f", members, alone, members, pool, pooled)
			if !(pooled > 0.85 && pooled > alone+0.3) {
				t.Errorf("test R² with the pool %.4f, without %.4f: want it good and much better", pooled, alone)
			}
			// Equal weights leave nothing to choose by: the pool is ignored.
			_, off := score(WithMemberPool(pool), WithMemberWeights(false))
			if got := len(off.fit.ens.members); off.fit.local == nil && got != members {
				t.Errorf("pool without weighting built %d members, want %d", got, members)
			}
			if l := off.fit.local; l != nil && (l.sub.candidates() != members || l.sub.keep != nil) {
				t.Errorf("pool without weighting: local candidates %d keep %v, want %d and none", l.sub.candidates(), l.sub.keep, members)
			}
		})
	}
}

func TestMemberPoolOption(t *testing.T) {
	if _, err := NewRegressor(WithMemberPool(-1)); err == nil {
		t.Error("WithMemberPool(-1) accepted")
	}
	s := defaultSettings()
	if s.pool != DefaultMemberPool || s.candidates() != max(DefaultEnsemble, DefaultMemberPool) {
		t.Errorf("default pool %d, candidates %d: want %d", s.pool, s.candidates(), DefaultMemberPool)
	}
	if err := WithMemberPool(0)(&s); err != nil || s.candidates() != DefaultEnsemble {
		t.Errorf("WithMemberPool(0): %v, candidates %d, want the ensemble's %d", err, s.candidates(), DefaultEnsemble)
	}
}

// TestMemberPoolInvariantToTrainingOrder: the pool's choice comes from
// held-out scores whose folds are drawn over the rows in a canonical order
// (canonicalRows), as are the probes' centres, so shuffling the training
// rows keeps the same members with the same weights, in one context and
// with local contexts' probes.
func TestMemberPoolInvariantToTrainingOrder(t *testing.T) {
	for _, c := range []poolContext{
		{"one context", 200, WithLocalContext(0, 0)},
		{"local contexts", localWeightRows + 40, WithLocalContext(100, 30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			X, y := linearData(c.n, 5, 6)
			fit := func(X [][]float64, y []float64) ([]int, []float64) {
				r, _ := newFakeRegressor(t, WithEnsemble(3), WithMemberPool(9), WithSeed(2), c.local)
				if err := r.Fit(X, y); err != nil {
					t.Fatal(err)
				}
				if l := r.fit.local; l != nil {
					return l.sub.keep, l.weights
				}
				var kept []int
				for _, m := range r.fit.ens.members {
					kept = append(kept, m.index)
				}
				return kept, r.fit.ens.weights
			}
			keptA, wA := fit(X, y)
			Xs, ys := shuffledContext(X, y, 3)
			keptB, wB := fit(Xs, ys)
			t.Logf("kept %v weights %.4f", keptA, wA)
			if len(keptA) != 3 || !slices.Equal(keptA, keptB) || !slices.Equal(wA, wB) {
				t.Errorf("shuffled training rows: kept %v weights %v, before %v weights %v", keptB, wB, keptA, wA)
			}
		})
	}
}
