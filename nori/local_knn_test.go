package nori

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// nearestTargetsRef sorts every candidate training row by (distance, target,
// index), the row itself left out when self, and returns the first kmax
// targets per query.
func nearestTargetsRef(tz, qz []float64, d int, y []float64, kmax int, self bool) [][]float64 {
	n, m := len(tz)/d, len(qz)/d
	out := make([][]float64, m)
	for p := range m {
		dist := make([]float64, n)
		var idx []int
		for i := range n {
			for j := range d {
				diff := tz[i*d+j] - qz[p*d+j]
				dist[i] += diff * diff
			}
			if !self || i != p {
				idx = append(idx, i)
			}
		}
		slices.SortFunc(idx, func(a, b int) int {
			return cmp.Or(cmp.Compare(dist[a], dist[b]), cmp.Compare(y[a], y[b]), cmp.Compare(a, b))
		})
		for _, i := range idx[:min(kmax, len(idx))] {
			out[p] = append(out[p], y[i])
		}
	}
	return out
}

// TestNearestTargetsMatchesReference: coordinates on a coarse grid and
// integer targets, so that distances and targets tie often.
func TestNearestTargetsMatchesReference(t *testing.T) {
	r := tensor.NewRNG(3, 0)
	const n, m, d = 90, 25, 3
	grid := func(k int) []float64 {
		z := make([]float64, k*d)
		for i := range z {
			z[i] = float64(r.Intn(3)) / 2
		}
		return z
	}
	tz, qz := grid(n), grid(m)
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(r.Intn(5))
	}
	for _, kmax := range []int{1, 4, 32, n + 5} {
		got, want := nearestTargets(tz, qz, d, y, kmax, false), nearestTargetsRef(tz, qz, d, y, kmax, false)
		if !slices.EqualFunc(got, want, slices.Equal[[]float64]) {
			t.Fatalf("kmax %d: queries' nearest targets\n got %v\nwant %v", kmax, got, want)
		}
		got, want = nearestTargets(tz, tz, d, y, kmax, true), nearestTargetsRef(tz, tz, d, y, kmax, true)
		if !slices.EqualFunc(got, want, slices.Equal[[]float64]) {
			t.Fatalf("kmax %d, leaving each row out: training rows' nearest targets\n got %v\nwant %v", kmax, got, want)
		}
	}
}

// TestNeighbourFeatureChoosesK: on a noiseless smooth target the fewest
// neighbours predict best, on pure noise the most; a training row's value
// is the mean of its k nearest other rows, its own target left out.
func TestNeighbourFeatureChoosesK(t *testing.T) {
	r := tensor.NewRNG(8, 0)
	const n = 400
	z := make([]float64, n)
	smooth, noise := make([]float64, n), make([]float64, n)
	for i := range z {
		z[i] = r.Float64()
		smooth[i] = math.Sin(6 * z[i])
		noise[i] = r.NormFloat64()
	}
	for _, c := range []struct {
		name string
		y    []float64
		k    int
	}{{"smooth", smooth, neighbourKs[0]}, {"noise", noise, neighbourKs[len(neighbourKs)-1]}} {
		f, vals := fitNeighbourFeature(z, 1, c.y, []string{"x0"})
		if f == nil || f.k != c.k {
			t.Fatalf("%s target: feature %+v, want k = %d", c.name, f, c.k)
		}
		want := meanOfFirst(nearestTargetsRef(z, z, 1, c.y, f.k, true), f.k)
		if !slices.Equal(vals, want) {
			t.Errorf("%s target: training rows' values differ from the leave-one-out means", c.name)
		}
	}
	if f, _ := fitNeighbourFeature(z[:7], 1, smooth[:7], nil); f != nil {
		t.Errorf("7 rows: got a feature %+v, want none", f)
	}
}

func TestNeighbourNameAvoidsTakenNames(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"a", "b"}, "nori_neighbour_mean"},
		{[]string{"nori_neighbour_mean"}, "nori_neighbour_mean_2"},
		{[]string{"nori_neighbour_mean_2", "nori_neighbour_mean"}, "nori_neighbour_mean_3"},
	} {
		if got := neighbourName(c.names); got != c.want {
			t.Errorf("neighbourName(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}

// TestNeighbourFeatureInLocalContexts: with local contexts the training
// table carries the column (the leave-one-out means in the learned
// distance), candidates with i/2 odd leave it out, queries get it from every
// training row, and WithNeighbourFeature(false) adds nothing. A column of
// the user's with the feature's name keeps its name and values.
func TestNeighbourFeatureInLocalContexts(t *testing.T) {
	X, y := localData(400, 1)
	Xq, _ := localData(50, 2)
	tb := NewTable()
	for j := range 4 {
		col := make([]float64, len(X))
		for i := range X {
			col[i] = X[i][j]
		}
		name := []string{"a", "b", "nori_neighbour_mean", "c"}[j]
		if err := tb.AddNumeric(name, col); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.AddNumeric("target", y); err != nil {
		t.Fatal(err)
	}
	qt := SelectRows(tb, rowRange(0, 50))
	r, _ := newFakeRegressor(t, WithEnsemble(3), WithSeed(4), WithLocalContext(100, 25))
	if err := r.FitTable(tb, "target"); err != nil {
		t.Fatal(err)
	}
	l := r.fit.local
	if l == nil || l.neighbour == nil {
		t.Fatal("local contexts without the neighbour feature")
	}
	const name = "nori_neighbour_mean_2"
	if l.neighbour.name != name || l.features[len(l.features)-1] != name {
		t.Fatalf("feature %q, context columns %q; want %q last", l.neighbour.name, l.features, name)
	}
	got, _ := l.table.Numeric(name)
	want := meanOfFirst(nearestTargetsRef(l.z, l.z, l.space.dim, y, l.neighbour.k, true), l.neighbour.k)
	if !slices.Equal(got, want) {
		t.Error("the training rows' column is not the leave-one-out neighbour mean")
	}
	if own, _ := l.table.Numeric("nori_neighbour_mean"); !slices.Equal(own, columnOf(X, 2)) {
		t.Error("the user's column of that name changed")
	}
	enc, _ := fitEncoder(l.table, l.features)
	last := len(enc.cols) - 1
	for i := range 8 {
		cols := candidateCols(enc, &l.sub, i)
		has := cols == nil || slices.Contains(cols, last)
		if has != ((i/2)%2 == 0) {
			t.Errorf("candidate %d reads columns %v (nil: all); the neighbour column is %d", i, cols, last)
		}
	}
	p, err := r.PredictTable(qt)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("query row %d predicted %v", i, v)
		}
	}
	off, _ := newFakeRegressor(t, WithEnsemble(3), WithSeed(4), WithLocalContext(100, 25), WithNeighbourFeature(false))
	if err := off.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if off.fit.local.neighbour != nil || len(off.fit.local.features) != 4 || off.fit.local.sub.neighbourCol != "" {
		t.Errorf("WithNeighbourFeature(false): feature %+v, context columns %q", off.fit.local.neighbour, off.fit.local.features)
	}
	if _, err := off.Predict(Xq); err != nil {
		t.Fatal(err)
	}
}

// columnOf returns column j of X.
func columnOf(X [][]float64, j int) []float64 {
	c := make([]float64, len(X))
	for i := range X {
		c[i] = X[i][j]
	}
	return c
}

// BenchmarkNeighbourFeature: the feature's cost at Fit on a table of the
// benchmark's largest size (4,000 training rows of 20 features).
func BenchmarkNeighbourFeature(b *testing.B) {
	const n, d = 4000, 20
	z := randomCoords(n, d, 1)
	y := make([]float64, n)
	for i := range y {
		y[i] = z[i*d] + z[i*d+1]*z[i*d+2]
	}
	for b.Loop() {
		fitNeighbourFeature(z, d, y, nil)
	}
}
