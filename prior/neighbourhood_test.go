package prior

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// TestNeighbourhoodKeepsNearestRows: on a one-feature table (the feature is
// then always in the distance) the kept rows are a run of consecutive ranks
// (the nearest to the centre, which lies in the run), their (x, y) pairs are
// rows of the source, their order is shuffled and Info records the draw.
func TestNeighbourhoodKeepsNearestRows(t *testing.T) {
	const n, keep = 300, 40
	src := NewTable(n, 1)
	r := tensor.NewRNG(5, 1)
	for i, p := range r.Perm(n) {
		src.X[i] = float64(p) * 0.37 // distinct, rank of row i = p
		src.Y[i] = float64(i)        // row id
	}
	recorded := 0
	for s := uint64(0); s < 20; s++ {
		out := Neighbourhood(src, keep, tensor.NewRNG(9, s))
		if out.Rows != keep || out.Features != 1 || len(out.X) != keep || len(out.Y) != keep {
			t.Fatalf("seed %d: table %dx%d (%d, %d values), want %dx1", s, out.Rows, out.Features, len(out.X), len(out.Y), keep)
		}
		ranks := make([]int, keep)
		for i := range keep {
			id := int(out.Y[i])
			if out.X[i] != src.X[id] {
				t.Fatalf("seed %d row %d: x %g is not row %d's %g", s, i, out.X[i], id, src.X[id])
			}
			ranks[i] = int(math.Round(src.X[id] / 0.37))
		}
		sorted := slices.Clone(ranks)
		slices.Sort(sorted)
		for i := 1; i < keep; i++ {
			if sorted[i] != sorted[i-1]+1 {
				t.Fatalf("seed %d: kept ranks %v are not consecutive", s, sorted)
			}
		}
		if slices.Equal(ranks, sorted) {
			t.Fatalf("seed %d: kept rows in rank order, not shuffled", s)
		}
		if strings.Contains(strings.Join(out.Info.Augmentations, ","), "neighbourhood(40 of 300 rows)") {
			recorded++
		}
	}
	if recorded != 20 {
		t.Fatalf("Info.Augmentations records the draw in %d of 20 tables", recorded)
	}
	if got := Neighbourhood(src, n+5, tensor.NewRNG(1, 1)); got.Rows != n {
		t.Fatalf("keep beyond the rows: %d rows, want %d", got.Rows, n)
	}
}

// TestNeighbourhoodIsNearestInSomeFeatures: with several features, every
// kept row is at least as near to the centre as every dropped row in the
// rank distance over one of the subsets of features (the drawn one); checked
// against all subsets of 3 features by brute force, with ties and a missing
// cell.
func TestNeighbourhoodIsNearestInSomeFeatures(t *testing.T) {
	const n, f, keep = 120, 3, 25
	src := NewTable(n, f)
	r := tensor.NewRNG(2, 2)
	for i := range n {
		for j := range f {
			src.X[i*f+j] = math.Round(r.NormFloat64() * 4) // many ties
		}
		src.Y[i] = float64(i)
	}
	src.X[7*f+1] = math.NaN()
	coords := make([][]float64, f)
	for j := range f {
		coords[j] = make([]float64, n)
		rankColumn(src, j, coords[j], make([]int, n))
	}
	for s := uint64(0); s < 10; s++ {
		out := Neighbourhood(src, keep, tensor.NewRNG(3, s))
		kept := map[int]bool{}
		for i := range keep {
			kept[int(out.Y[i])] = true
		}
		ok := false
		for mask := 1; mask < 1<<f && !ok; mask++ {
			for c := 0; c < n && !ok; c++ {
				d := func(i int) float64 {
					s := 0.0
					for j := range f {
						if mask&(1<<j) != 0 {
							s += (coords[j][i] - coords[j][c]) * (coords[j][i] - coords[j][c])
						}
					}
					return s
				}
				worstKept, bestDropped := -1.0, math.Inf(1)
				for i := range n {
					if kept[i] {
						worstKept = max(worstKept, d(i))
					} else {
						bestDropped = min(bestDropped, d(i))
					}
				}
				ok = kept[c] && worstKept <= bestDropped
			}
		}
		if !ok {
			t.Fatalf("seed %d: the kept rows are not the nearest to any row in any subset of features", s)
		}
	}
}

// TestRankColumn: mid-ranks of ties scaled to [0, 1]; missing cells and a
// lone present value at 0.5.
func TestRankColumn(t *testing.T) {
	src := NewTable(6, 1)
	copy(src.X, []float64{3, 1, math.NaN(), 3, 2, 5})
	got := make([]float64, 6)
	rankColumn(src, 0, got, make([]int, 6))
	// present values 1, 2, 3, 3, 5: ranks 0, 1, 2.5, 2.5, 4 of 4.
	want := []float64{2.5 / 4, 0, 0.5, 2.5 / 4, 1.0 / 4, 1}
	if !slices.Equal(got, want) {
		t.Fatalf("rank coordinates %v, want %v", got, want)
	}
	copy(src.X, []float64{math.NaN(), 7, math.NaN(), math.NaN(), math.NaN(), math.NaN()})
	rankColumn(src, 0, got, make([]int, 6))
	if !slices.Equal(got, []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}) {
		t.Fatalf("lone value: %v", got)
	}
}

// TestBatchNeighbourhoods: fraction 0 is BatchShape's batch; fraction 1
// makes every table a neighbourhood of a pool table, the same bits on every
// call; about half with fraction 0.5; bad configs are refused by name.
func TestBatchNeighbourhoods(t *testing.T) {
	p := defaultPrior(t)
	const seed, step, size = 4, 3, 12
	sh := Shape{Rows: 60, Features: 4, NCtx: 40}
	plain, err := p.BatchShape(seed, step, size, sh)
	if err != nil {
		t.Fatal(err)
	}
	zero, err := p.BatchNeighbourhoods(seed, step, size, sh, NeighbourhoodConfig{Pool: 4})
	if err != nil || !sameNaN(zero.X.F32Data(), plain.X.F32Data()) || !slices.Equal(zero.Y.F32Data(), plain.Y.F32Data()) {
		t.Fatalf("fraction 0 differs from BatchShape (err %v)", err)
	}
	count := func(b *Batch) int {
		k := 0
		for _, in := range b.Infos {
			if strings.Contains(strings.Join(in.Augmentations, ","), "neighbourhood(60 of 240 rows)") {
				k++
			}
		}
		return k
	}
	all, err := p.BatchNeighbourhoods(seed, step, size, sh, NeighbourhoodConfig{Frac: 1, Pool: 4})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.BatchNeighbourhoods(seed, step, size, sh, NeighbourhoodConfig{Frac: 1, Pool: 4})
	if count(all) != size || !sameNaN(all.X.F32Data(), again.X.F32Data()) || !slices.Equal(all.Y.F32Data(), again.Y.F32Data()) {
		t.Fatalf("fraction 1: %d of %d tables are neighbourhoods, or two calls differ", count(all), size)
	}
	if sameNaN(all.X.F32Data(), plain.X.F32Data()) {
		t.Fatal("fraction 1 gave the plain batch")
	}
	half, _ := p.BatchNeighbourhoods(seed, step, size, sh, NeighbourhoodConfig{Frac: 0.5, Pool: 4})
	if k := count(half); k < 2 || k > size-2 {
		t.Fatalf("fraction 0.5: %d of %d tables are neighbourhoods", k, size)
	}
	for _, bad := range []struct {
		nc   NeighbourhoodConfig
		want string
	}{
		{NeighbourhoodConfig{Frac: 1.5, Pool: 4}, "fraction"},
		{NeighbourhoodConfig{Frac: math.NaN(), Pool: 4}, "fraction"},
		{NeighbourhoodConfig{Frac: 0.5, Pool: 1}, "pool"},
		{NeighbourhoodConfig{Pool: -1}, "pool"},
	} {
		if _, err := p.BatchNeighbourhoods(seed, step, size, sh, bad.nc); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: err %v, want one naming the %s", bad.nc, err, bad.want)
		}
	}
}

// sameNaN reports whether a and b hold the same values, NaN equal to NaN.
func sameNaN(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}
