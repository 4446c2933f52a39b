package nori

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestRankSpaceCoords(t *testing.T) {
	train := &matrix{rows: 4, cols: 2, data: []float64{
		1, math.NaN(),
		2, 5,
		2, 5,
		3, 7,
	}}
	rs := fitRankSpace(train)
	q := &matrix{rows: 6, cols: 2, data: []float64{
		1, 5,
		2, 7,
		3, 6,
		2.5, 8,
		0, 4,
		math.NaN(), math.NaN(),
	}}
	got := rs.coords(q)
	want := []float64{
		0.5 / 4, 1.0 / 3,
		2.0 / 4, 2.5 / 3,
		3.5 / 4, 2.0 / 3,
		3.0 / 4, 3.0 / 3,
		0, 0,
		0.5, 0.5,
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("coords = %v, want %v", got, want)
		}
	}
	// The training rows themselves: mid-ranks of their tie runs.
	if z := rs.coords(train); z[2] != 0.5 || z[4] != 0.5 || z[1] != 0.5 {
		t.Errorf("training coords %v: the tied 2s and the missing cell should sit at 0.5", z)
	}
}

// nearestRowsRef is the plain reference: sort every training row by (its
// smallest distance to the group, y, index) and keep the first m, in
// training order.
func nearestRowsRef(trainZ, queryZ []float64, group []int, d, m int, y []float64) []int {
	n := len(trainZ) / d
	dist := make([]float64, n)
	for i := range n {
		dist[i] = math.Inf(1)
		for _, q := range group {
			s := 0.0
			for j := range d {
				diff := trainZ[i*d+j] - queryZ[q*d+j]
				s += diff * diff
			}
			dist[i] = min(dist[i], s)
		}
	}
	idx := rowRange(0, n)
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(dist[a], dist[b]); c != 0 {
			return c
		}
		return cmp.Compare(y[a], y[b])
	})
	out := slices.Clone(idx[:min(m, n)])
	slices.Sort(out)
	return out
}

func TestNearestRowsMatchesReference(t *testing.T) {
	rng := tensor.NewRNG(21, 0)
	for trial := range 40 {
		n, q, d := 50+rng.Intn(300), 1+rng.Intn(40), 1+rng.Intn(6)
		levels := 3 + rng.Intn(20) // coarse grids make distance ties common
		trainZ := make([]float64, n*d)
		queryZ := make([]float64, q*d)
		for i := range trainZ {
			trainZ[i] = float64(rng.Intn(levels)) / float64(levels)
		}
		for i := range queryZ {
			queryZ[i] = float64(rng.Intn(levels)) / float64(levels)
		}
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(rng.Intn(5)) // ties in y too, down to the index
		}
		group := rowRange(0, q)[:1+rng.Intn(q)]
		m := 1 + rng.Intn(n+10)
		got := nearestRows(trainZ, queryZ, group, d, m, y)
		want := nearestRowsRef(trainZ, queryZ, group, d, m, y)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (n %d, d %d, m %d, group %d): got %v, want %v", trial, n, d, m, len(group), got, want)
		}
	}
}

func randomCoords(n, d int, seed uint64) []float64 {
	rng := tensor.NewRNG(seed, 0)
	z := make([]float64, n*d)
	for i := range z {
		z[i] = rng.Float64()
	}
	return z
}

// checkPartition fails unless groups hold every row of 0..n-1 exactly once,
// each group ascending.
func checkPartition(t *testing.T, groups [][]int, n int) {
	t.Helper()
	seen := make([]bool, n)
	for _, g := range groups {
		if len(g) == 0 || !slices.IsSorted(g) {
			t.Fatalf("group %v: empty or not ascending", g)
		}
		for _, i := range g {
			if seen[i] {
				t.Fatalf("row %d in two groups", i)
			}
			seen[i] = true
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Fatalf("row %d in no group", i)
	}
}

func TestGroupQueriesPartitionIndependentOfRowOrder(t *testing.T) {
	for _, c := range []struct{ n, d, size int }{{1, 3, 25}, {20, 3, 25}, {400, 4, 25}, {5000, 3, 25}, {300, 2, 1}} {
		z := randomCoords(c.n, c.d, uint64(c.n))
		groups := groupQueries(z, c.d, c.size, 7)
		checkPartition(t, groups, c.n)
		if want := (c.n + c.size - 1) / c.size; len(groups) > want || (c.n > c.size && len(groups) < want/2) {
			t.Errorf("n %d, size %d: %d groups, want about %d", c.n, c.size, len(groups), want)
		}
		if c.n > kmeansMaxRows {
			for _, g := range groups {
				if len(g) > kmeansMaxRows/4 {
					t.Errorf("n %d: a group of %d rows", c.n, len(g))
				}
			}
		}
		// The same rows in reverse order: the same groups, by content.
		perm := make([]int, c.n) // perm[new] = old
		for i := range perm {
			perm[i] = c.n - 1 - i
		}
		zp := make([]float64, len(z))
		for k, i := range perm {
			copy(zp[k*c.d:(k+1)*c.d], z[i*c.d:(i+1)*c.d])
		}
		canon := func(groups [][]int, old func(int) int) [][]int {
			out := make([][]int, len(groups))
			for gi, g := range groups {
				for _, i := range g {
					out[gi] = append(out[gi], old(i))
				}
				slices.Sort(out[gi])
			}
			slices.SortFunc(out, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
			return out
		}
		a := canon(groups, func(i int) int { return i })
		b := canon(groupQueries(zp, c.d, c.size, 7), func(i int) int { return perm[i] })
		if !slices.EqualFunc(a, b, slices.Equal[[]int]) {
			t.Errorf("n %d: reversing the rows changed the groups", c.n)
		}
	}
}

func TestKmeansFindsSeparatedClusters(t *testing.T) {
	// Four tight blobs of 30 rows at the corners of the unit square.
	const per, d = 30, 2
	rng := tensor.NewRNG(3, 0)
	corners := [][2]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}}
	z := make([]float64, 0, 4*per*d)
	for b := range 4 * per {
		c := corners[b%4]
		z = append(z, c[0]+0.01*rng.Float64(), c[1]+0.01*rng.Float64())
	}
	for seed := range uint64(5) {
		groups := groupQueries(z, d, per, seed)
		if len(groups) != 4 {
			t.Fatalf("seed %d: %d groups, want 4", seed, len(groups))
		}
		for _, g := range groups {
			for _, i := range g {
				if i%4 != g[0]%4 {
					t.Fatalf("seed %d: group %v mixes blobs", seed, g)
				}
			}
		}
	}
}

func TestWithLocalContextBadOptions(t *testing.T) {
	f := withQuantileModel(&fakeModel{nq: 9}, "fake")
	for _, c := range [][2]int{{-1, 25}, {31, 25}, {256, 0}, {256, -3}} {
		if _, err := NewRegressor(f, WithLocalContext(c[0], c[1])); !errors.Is(err, ErrBadOption) {
			t.Errorf("WithLocalContext(%d, %d): error %v, want ErrBadOption", c[0], c[1], err)
		}
	}
	if _, err := NewRegressor(f, WithLocalContext(0, 0)); err != nil {
		t.Errorf("WithLocalContext(0, 0): %v", err)
	}
}

// localData is a table whose target changes quickly with x0 and x1, among
// two irrelevant features, one of them with missing cells.
func localData(n int, seed uint64) ([][]float64, []float64) {
	rng := tensor.NewRNG(seed, 0)
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		if rng.Intn(8) == 0 {
			X[i][3] = math.NaN()
		}
		y[i] = math.Sin(3*X[i][0]) * math.Cos(3*X[i][1])
	}
	return X, y
}

func fitFake(t *testing.T, X [][]float64, y []float64, opts ...Option) *Regressor {
	t.Helper()
	r, err := NewRegressor(append([]Option{withQuantileModel(&fakeModel{nq: 49}, "fake"), WithEnsemble(3), WithSeed(4)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLocalContextOffBelowItsSize: a table no larger than a context gets
// one context of every row. Without the neighbour feature that is exactly
// the fit without local contexts; with it, Fit makes that one fit (on the
// table and its neighbour column) and Predict only runs the kept members,
// each row predicted as it would be alone.
func TestLocalContextOffBelowItsSize(t *testing.T) {
	X, y := localData(200, 1)
	Xq, _ := localData(60, 2)
	local := fitFake(t, X, y, WithLocalContext(256, 10), WithNeighbourFeature(false))
	if local.fit.local != nil {
		t.Fatal("200 training rows with 256-row local contexts: local contexts should not apply")
	}
	a, err := local.Predict(Xq)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fitFake(t, X, y, WithLocalContext(0, 0)).Predict(Xq)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloats(a, b) {
		t.Error("below the local context size the predictions differ from one global context")
	}

	f := &fakeModel{nq: 49}
	r, err := NewRegressor(withQuantileModel(f, "fake"), WithEnsemble(3), WithSeed(4), WithLocalContext(256, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	l := r.fit.local
	if l == nil || l.whole == nil || l.neighbour == nil {
		t.Fatal("200 training rows with the neighbour feature: want one fit of every row with the feature")
	}
	before := f.calls.Load()
	all, err := r.Predict(Xq)
	if err != nil {
		t.Fatal(err)
	}
	if calls := f.calls.Load() - before; calls != 3 {
		t.Errorf("Predict ran the model %d times, want 3 (one per member: Fit scored them)", calls)
	}
	for i := range Xq {
		one, err := r.Predict(Xq[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(one[0]) != math.Float64bits(all[i]) {
			t.Fatalf("query row %d predicted %v alone, %v with the others", i, one[0], all[i])
		}
	}
}

func TestLocalContextPredictionsConsistent(t *testing.T) {
	X, y := localData(600, 1)
	Xq, _ := localData(150, 2)
	r := fitFake(t, X, y, WithLocalContext(64, 10))
	if r.fit.local == nil {
		t.Fatal("local contexts not used")
	}
	s, err := r.Summarize(Xq, []float64{0.1, 0.9})
	if err != nil {
		t.Fatal(err)
	}
	// The full distribution puts every row's quantiles at that row.
	dist, err := r.PredictDistribution(Xq)
	if err != nil {
		t.Fatal(err)
	}
	q90, err := dist.Quantile(0.9)
	if err != nil {
		t.Fatal(err)
	}
	for i := range Xq {
		if math.Abs(q90[i]-s.Quantiles[i][1]) > 1e-12 {
			t.Fatalf("row %d: distribution's q0.9 %v, Summarize's %v", i, q90[i], s.Quantiles[i][1])
		}
		if !(s.Quantiles[i][0] <= s.Median[i] && s.Median[i] <= s.Quantiles[i][1]) {
			t.Fatalf("row %d: quantiles %v and median %v out of order", i, s.Quantiles[i], s.Median[i])
		}
	}
	// The query rows in reverse order: each row's prediction is unchanged
	// (the groups depend on the set of rows, not their order).
	rev := slices.Clone(Xq)
	slices.Reverse(rev)
	p, err := r.Predict(rev)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(p)
	if !sameFloats(p, s.Mean) {
		t.Error("reversing the query rows changed their predictions")
	}
	// Workers do not change the result.
	p2, err := fitFake(t, X, y, WithLocalContext(64, 10), WithWorkers(3)).Predict(Xq)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloats(p2, s.Mean) {
		t.Error("3 workers predict differently from 1")
	}
}

func TestLocalContextBeatsGlobalOnLocalStructure(t *testing.T) {
	// The fake model smooths over its whole context with a wide kernel, so
	// a context of nearby rows is what lets it follow sin(2 x0) + cos(2 x1).
	gen := func(n int, seed uint64) ([][]float64, []float64) {
		rng := tensor.NewRNG(seed, 0)
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			X[i] = []float64{rng.NormFloat64(), rng.NormFloat64()}
			y[i] = math.Sin(2*X[i][0]) + math.Cos(2*X[i][1])
		}
		return X, y
	}
	X, y := gen(2000, 1)
	Xq, yq := gen(200, 2)
	score := func(opt Option) float64 {
		p, err := fitFake(t, X, y, opt, WithPreprocessing(PreprocessPlain)).Predict(Xq)
		if err != nil {
			t.Fatal(err)
		}
		return R2Score(yq, p)
	}
	global, local := score(WithLocalContext(0, 0)), score(WithLocalContext(32, 5))
	t.Logf("R² global %.3f, local %.3f", global, local)
	if !(local > global+0.1) {
		t.Errorf("local contexts R² %.3f, one global context %.3f: want local ahead by 0.1", local, global)
	}
}

func TestLocalContextConstantRegion(t *testing.T) {
	// y is 7 wherever x0 < 0: a group there whose context holds only such
	// rows predicts exactly 7 (the constant short-cut of a fit), the rest
	// runs the model.
	rng := tensor.NewRNG(5, 0)
	X := make([][]float64, 800)
	y := make([]float64, len(X))
	for i := range X {
		X[i] = []float64{rng.NormFloat64() - 3*float64(i%2), rng.NormFloat64()}
		y[i] = 7
		if X[i][0] >= 0 {
			y[i] = X[i][1]
		}
	}
	r := fitFake(t, X, y, WithLocalContext(40, 5))
	var p []float64
	for _, x := range [][]float64{{-6, 0}, {-5, 1}, {1, 0.5}} { // one group each
		pi, err := r.Predict([][]float64{x})
		if err != nil {
			t.Fatal(err)
		}
		p = append(p, pi[0])
	}
	if p[0] != 7 || p[1] != 7 {
		t.Errorf("deep in the constant region: %v, want exactly 7", p[:2])
	}
	if p[2] == 7 || math.IsNaN(p[2]) {
		t.Errorf("outside it: %v", p[2])
	}
}

func TestLocalContextModelErrorPropagates(t *testing.T) {
	X, y := localData(400, 1)
	f := &fakeModel{nq: 9}
	r, err := NewRegressor(withQuantileModel(f, "fake"), WithLocalContext(64, 10), WithEnsemble(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err) // Fit does not run the model with local contexts
	}
	f.fail = errors.New("device lost")
	if _, err := r.Predict(X[:30]); err == nil || !errors.Is(err, f.fail) {
		t.Errorf("Predict error %v, want the model's", err)
	}
}

// TestLocalContextMemberWeightsDefault: by default the members are weighted
// with one global context, and within the local contexts of a table over
// localWeightRows rows by weights shared by every group (local_weights.go):
// predictions differ from both WithMemberWeights(false) (equal) and
// WithMemberWeights(true) (each group its own weights), and the groups' own
// fits carry no weights of their own; a smaller table weights every group.
func TestLocalContextMemberWeightsDefault(t *testing.T) {
	X, y := localData(localWeightRows+88, 1)
	Xq, _ := localData(80, 2)
	global := fitFake(t, X, y, WithLocalContext(0, 0))
	if global.fit.ens.weights == nil {
		t.Error("one global context, default settings: the members are not weighted")
	}
	predict := func(opts ...Option) ([]float64, *Regressor) {
		t.Helper()
		r := fitFake(t, X, y, append([]Option{WithLocalContext(64, 20)}, opts...)...)
		if r.fit.local == nil {
			t.Fatalf("%d training rows with 64-row local contexts: local contexts should apply", len(X))
		}
		p, err := r.Predict(Xq)
		if err != nil {
			t.Fatal(err)
		}
		return p, r
	}
	def, r := predict()
	off, roff := predict(WithMemberWeights(false))
	on, ron := predict(WithMemberWeights(true))
	if len(r.fit.local.weights) != 3 || r.fit.local.sub.weights != weightsOff {
		t.Errorf("default: shared weights %v and the groups' weighting %v, want 3 shared weights and none per group", r.fit.local.weights, r.fit.local.sub.weights)
	}
	if roff.fit.local.weights != nil || ron.fit.local.weights != nil || ron.fit.local.sub.weights != weightsOn {
		t.Error("WithMemberWeights(false/true): shared weights set, or true does not weight each group")
	}
	if sameFloats(def, off) || sameFloats(def, on) || sameFloats(on, off) {
		t.Error("local contexts: default, equal and per-group weighting give the same predictions")
	}
	X, y = X[:localWeightRows], y[:localWeightRows]
	small, _ := predict()
	smallOn, _ := predict(WithMemberWeights(true))
	if !sameFloats(small, smallOn) {
		t.Errorf("local contexts on %d training rows, default settings: predictions differ from WithMemberWeights(true)", localWeightRows)
	}
}

// TestLocalSizeChoice: with a model that ignores the features (each query
// gets its context's marginal distribution), a local context is a k-nearest
// neighbours mean (groups of one query row), so the choice must take the
// smallest size on a smooth noise-free target and the largest on a target
// of pure noise, where the mean of more rows varies less.
func TestLocalSizeChoice(t *testing.T) {
	X, smooth := localData(800, 3)
	rng := tensor.NewRNG(9, 0)
	noise := make([]float64, len(smooth))
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	for _, c := range []struct {
		name string
		y    []float64
		want int
	}{{"smooth", smooth, 32}, {"noise", noise, 128}} {
		for _, on := range []bool{true, false} {
			r, err := NewRegressor(withQuantileModel(marginalModel{nq: 19}, "marginal"), WithEnsemble(2),
				WithSeed(4), WithLocalContext(64, 1), WithLocalSizeChoice(on))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Fit(X, c.y); err != nil {
				t.Fatal(err)
			}
			want := c.want
			if !on {
				want = 64
			}
			if got := r.fit.local.rows; got != want {
				t.Errorf("%s, choice %v: %d context rows, want %d", c.name, on, got, want)
			}
		}
	}
}
