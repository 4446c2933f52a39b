package nori

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// knnLossRef is knnLoss.loss by sorting each query row's distances.
func knnLossRef(dist []float32, yq, yc []float64, self bool, k int) float64 {
	mean := 0.0
	for _, v := range yq {
		mean += v
	}
	mean /= float64(len(yq))
	variance, s := 0.0, 0.0
	for _, v := range yq {
		variance += (v - mean) * (v - mean)
	}
	mc := len(yc)
	for p := range yq {
		var others []int
		for q := range mc {
			if !self || q != p {
				others = append(others, q)
			}
		}
		slices.SortStableFunc(others, func(a, b int) int { return cmp.Compare(dist[p*mc+a], dist[p*mc+b]) })
		pred := 0.0
		for _, q := range others[:k] {
			pred += yc[q]
		}
		pred /= float64(k)
		s += (yq[p] - pred) * (yq[p] - pred)
	}
	return s / variance
}

func TestKNNLossMatchesReference(t *testing.T) {
	for trial, c := range []struct {
		mq, mc int
		self   bool
	}{{metricK + 1, metricK + 1, true}, {40, 40, true}, {97, 97, true}, {30, 50, false}, {50, metricK - 3, false}} {
		rng := tensor.NewRNG(uint64(trial), 1)
		normals := func(n int) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			return v
		}
		yq, yc := normals(c.mq), normals(c.mc)
		if c.self {
			yc = yq
		}
		dist := make([]float32, c.mq*c.mc)
		for i := range dist {
			// Few distinct values: many ties, which go to the earlier row.
			dist[i] = float32(rng.Intn(6))
		}
		k := min(metricK, c.mc)
		if c.self {
			k = min(k, c.mc-1)
		}
		got := newKNNLoss(yq, yc, c.self).loss(dist)
		want := knnLossRef(dist, yq, yc, c.self, k)
		if math.Abs(got-want) > 1e-12*math.Max(1, want) {
			t.Errorf("%+v: loss %v, reference %v", c, got, want)
		}
	}
	if l := newKNNLoss([]float64{1, 1, 1}, []float64{1, 2}, false); l != nil {
		t.Error("constant query targets: want nil")
	}
}

func TestWeightedDist(t *testing.T) {
	a := []float32{0, 1, 2, 3, 4, 5} // 3 rows of 2
	b := []float32{1, 1, 0, 5}       // 2 rows of 2
	got := weightedDist(a, b, 2, []float64{2, 0.5})
	want := []float32{2 + 0, 0 + 8, 2*1 + 0.5*4, 2*4 + 0.5*4, 2*9 + 0.5*16, 2*16 + 0}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// metricData is a table whose target depends on column 0 only (a sharp
// nonlinear function), with three noise columns, in rank coordinates.
func metricData(n int, seed uint64) ([]float64, []float64) {
	rng := tensor.NewRNG(seed, 0)
	const d = 4
	z := make([]float64, n*d)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			z[i*d+j] = rng.Float64()
		}
		y[i] = math.Sin(12 * z[i*d])
	}
	return z, y
}

func TestFitMetricFindsTheRelevantColumn(t *testing.T) {
	z, y := metricData(700, 3)
	w := fitMetric(z, 700, 4, y)
	if len(w) != 4 {
		t.Fatalf("weights %v: want 4", w)
	}
	if w[0] != 1 {
		t.Errorf("weights %v: the column the target depends on should have the largest weight", w)
	}
	for j := 1; j < 4; j++ {
		if w[j] > 0.1 {
			t.Errorf("weights %v: noise column %d weighted above 0.1", w, j)
		}
	}
	// The rows in another order give the same weights.
	n, d := 700, 4
	perm := tensor.NewRNG(5, 0).Perm(n)
	zp, yp := make([]float64, n*d), make([]float64, n)
	for k, i := range perm {
		copy(zp[k*d:(k+1)*d], z[i*d:(i+1)*d])
		yp[k] = y[i]
	}
	if wp := fitMetric(zp, n, d, yp); !slices.Equal(wp, w) {
		t.Errorf("permuted rows: weights %v, want %v", wp, w)
	}
}

func TestFitMetricNothingToLearn(t *testing.T) {
	z, y := metricData(300, 4)
	for i := range y {
		y[i] = 2.5
	}
	if w := fitMetric(z, 300, 4, y); w != nil {
		t.Errorf("constant target: weights %v, want nil", w)
	}
	if w := fitMetric(z[:10*4], 10, 4, y[:10]); w != nil {
		t.Errorf("10 rows: weights %v, want nil", w)
	}
	// Every column matters the same: the weights stay equal (nil).
	z, y = metricData(400, 5)
	for i := range y {
		y[i] = z[i*4] + z[i*4+1] + z[i*4+2] + z[i*4+3]
	}
	if w := fitMetric(z, 400, 4, y); w != nil {
		t.Errorf("symmetric target: weights %v, want nil (equal)", w)
	}
}

func TestMetricSubsampleStratified(t *testing.T) {
	z, y := metricData(1000, 6)
	sub := metricSubsample(z, 1000, 4, y, 100)
	if len(sub) != 100 {
		t.Fatalf("%d rows, want 100", len(sub))
	}
	// Every decile of y holds 10 of the subsample's rows.
	sorted := slices.Clone(y)
	slices.Sort(sorted)
	count := make([]int, 10)
	for _, i := range sub {
		r, _ := slices.BinarySearch(sorted, y[i])
		count[r*10/1000]++
	}
	for k, c := range count {
		if c != 10 {
			t.Errorf("decile %d of y holds %d subsample rows, want 10 (%v)", k, c, count)
		}
	}
}

func TestLocalMetricBeatsEqualWeightsWithNoiseFeatures(t *testing.T) {
	// y depends on x0 alone, sharply; six noise features spoil a
	// neighbourhood that weights them like x0.
	gen := func(n int, seed uint64) ([][]float64, []float64) {
		rng := tensor.NewRNG(seed, 0)
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			X[i] = make([]float64, 7)
			for j := range X[i] {
				X[i][j] = rng.NormFloat64()
			}
			y[i] = math.Sin(4 * X[i][0])
		}
		return X, y
	}
	X, y := gen(1500, 1)
	Xq, yq := gen(200, 2)
	score := func(on bool) float64 {
		p, err := fitFake(t, X, y, WithLocalContext(48, 5), WithLocalMetric(on), WithPreprocessing(PreprocessPlain)).Predict(Xq)
		if err != nil {
			t.Fatal(err)
		}
		return R2Score(yq, p)
	}
	equal, learned := score(false), score(true)
	t.Logf("R² equal weights %.3f, learned %.3f", equal, learned)
	if !(learned > equal+0.1) {
		t.Errorf("learned distance R² %.3f, equal weights %.3f: want learned ahead by 0.1", learned, equal)
	}
}

func TestFitMetricCheckRejectsNoise(t *testing.T) {
	// y is independent of the 20 columns: whatever the search on one half
	// finds fits that half's noise, and the other half must veto it.
	const n, d = 800, 20
	z := randomCoords(n, d, 7)
	y := make([]float64, n)
	rng := tensor.NewRNG(8, 0)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	if w := fitMetric(z, n, d, y); w != nil {
		t.Errorf("target independent of the features: weights %v, want nil (equal)", w)
	}
}

// BenchmarkFitMetric times the search on a 5,000-row table of 20 columns
// whose target depends on two of them (the subsample: 1,000 rows).
func BenchmarkFitMetric(b *testing.B) {
	const n, d = 5000, 20
	z := randomCoords(n, d, 9)
	y := make([]float64, n)
	for i := range y {
		y[i] = math.Sin(6*z[i*d]) + z[i*d+1]
	}
	b.ResetTimer()
	for b.Loop() {
		if fitMetric(z, n, d, y) == nil {
			b.Fatal("no weights learned")
		}
	}
}
