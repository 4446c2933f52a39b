package prior

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// testForestConfig is the reference filter forest.
var testForestConfig = ForestConfig{Trees: 15, MaxDepth: 6, FeatureFrac: 0.5, MinSplit: 2}

// linearTable returns y = x·w + noiseSD*N(0,1) on standard normal features.
func linearTable(r *tensor.RNG, rows, features int, noiseSD float64) *Table {
	t := NewTable(rows, features)
	w := make([]float64, features)
	for j := range w {
		w[j] = r.NormFloat64()
	}
	for i := 0; i < rows; i++ {
		s := 0.0
		for j := 0; j < features; j++ {
			v := r.NormFloat64()
			t.Set(i, j, v)
			s += v * w[j]
		}
		t.Y[i] = s + noiseSD*r.NormFloat64()
	}
	return t
}

// walk is the test's own tree traversal (independent of Tree.Predict).
func walk(nodes []Node, row []float64) (leaf int) {
	k := 0
	for nodes[k].Feature >= 0 {
		nd := nodes[k]
		v := row[nd.Feature]
		goLeft := v < nd.Threshold
		if math.IsNaN(v) {
			goLeft = nd.NaNLeft
		}
		if goLeft {
			k = int(nd.Left)
		} else {
			k = int(nd.Right)
		}
	}
	return k
}

// TestFilterOOBMatchesDirect recomputes the out-of-bag R² from the trained
// trees with an independent traversal, and checks that every leaf holds the
// mean target of the bootstrap rows that reach it.
func TestFilterOOBMatchesDirect(t *testing.T) {
	for _, tc := range []struct {
		rows, features int
		missing        float64
	}{{1, 1, 0}, {7, 3, 0}, {63, 5, 0.2}, {300, 12, 0}, {1000, 20, 0.1}} {
		r := tensor.NewRNG(11, uint64(tc.rows))
		tb := linearTable(r, tc.rows, tc.features, 0.5)
		for i := range tb.X {
			if r.Float64() < tc.missing {
				tb.X[i] = math.NaN()
			}
		}
		f := FitForest(tensor.NewRNG(12, 0), tb.X, tb.Rows, tb.Features, tb.Y, testForestConfig)
		if tc.rows < 2 {
			if f != nil {
				t.Fatalf("rows=%d: expected no forest", tc.rows)
			}
			continue
		}
		if f == nil || len(f.Trees) != 15 {
			t.Fatalf("rows=%d: bad forest %v", tc.rows, f)
		}
		got, n := f.OOBR2(tb.X, tb.Rows, tb.Features, tb.Y)

		// Direct computation in target units.
		sum := make([]float64, tb.Rows)
		cnt := make([]int, tb.Rows)
		for k, tr := range f.Trees {
			// Leaf values are the (count-weighted) mean standardised target of
			// the in-bag rows reaching them.
			ls := map[int]float64{}
			lc := map[int]float64{}
			maxDepth := 0
			for i := 0; i < tb.Rows; i++ {
				row := tb.X[i*tb.Features : (i+1)*tb.Features]
				leaf := walk(tr.Nodes, row)
				if c := f.InBag[k][i]; c > 0 {
					ls[leaf] += float64(c) * (tb.Y[i] - f.YShift) / f.YScale
					lc[leaf] += float64(c)
				} else {
					sum[i] += f.YShift + f.YScale*tr.Nodes[leaf].Value
					cnt[i]++
				}
			}
			for leaf, c := range lc {
				if want := ls[leaf] / c; math.Abs(want-tr.Nodes[leaf].Value) > 1e-9 {
					t.Fatalf("rows=%d tree %d leaf %d: value %v, mean of its rows %v", tc.rows, k, leaf, tr.Nodes[leaf].Value, want)
				}
			}
			for leaf := range tr.Nodes {
				if tr.Nodes[leaf].Feature < 0 && lc[leaf] == 0 {
					t.Fatalf("rows=%d tree %d: leaf %d reached by no in-bag row", tc.rows, k, leaf)
				}
			}
			depth(tr.Nodes, 0, 0, &maxDepth)
			if maxDepth > 6 {
				t.Fatalf("tree depth %d > 6", maxDepth)
			}
			inBag := 0
			for _, c := range f.InBag[k] {
				inBag += int(c)
			}
			if inBag != tb.Rows {
				t.Fatalf("bootstrap sample has %d rows, want %d", inBag, tb.Rows)
			}
		}
		mean, m := 0.0, 0
		for i := range cnt {
			if cnt[i] > 0 {
				mean += tb.Y[i]
				m++
			}
		}
		mean /= float64(m)
		sse, sst := 0.0, 0.0
		for i := range cnt {
			if cnt[i] > 0 {
				p := sum[i] / float64(cnt[i])
				sse += (tb.Y[i] - p) * (tb.Y[i] - p)
				sst += (tb.Y[i] - mean) * (tb.Y[i] - mean)
			}
		}
		want := 1 - sse/sst
		if m != n || math.Abs(got-want) > 1e-9 {
			t.Fatalf("rows=%d features=%d: OOB R² %v over %d rows, direct %v over %d", tc.rows, tc.features, got, n, want, m)
		}
		t.Logf("rows=%d features=%d missing=%.1f: OOB R² %.4f over %d rows", tc.rows, tc.features, tc.missing, got, n)
	}
}

func depth(nodes []Node, k, d int, maxD *int) {
	*maxD = max(*maxD, d)
	if nodes[k].Feature >= 0 {
		depth(nodes, int(nodes[k].Left), d+1, maxD)
		depth(nodes, int(nodes[k].Right), d+1, maxD)
	}
}

// TestFilterRejectsNoiseKeepsLinear: a target independent of the features
// scores far below the threshold and a clean linear table far above it, for
// several seeds and shapes.
func TestFilterRejectsNoiseKeepsLinear(t *testing.T) {
	cfg := DefaultFilterConfig()
	for s := uint64(0); s < 10; s++ {
		rows := []int{60, 200, 512, 1500}[s%4]
		features := []int{2, 5, 16, 40}[s%4]
		r := tensor.NewRNG(21, s)
		clean := linearTable(r, rows, features, 0)
		noise := linearTable(r, rows, features, 0)
		for i := range noise.Y {
			noise.Y[i] = r.NormFloat64() * 3
		}
		rc := Learnability(tensor.NewRNG(22, s), clean, cfg)
		rn := Learnability(tensor.NewRNG(22, s), noise, cfg)
		t.Logf("seed %d (%dx%d): clean %.3f noise %.3f", s, rows, features, rc, rn)
		if !(rc > 3*cfg.Threshold) || !(rn < cfg.Threshold) {
			t.Fatalf("seed %d (%dx%d): clean R² %.3f (want > 3 x threshold), noise R² %.3f (want < %.2f)", s, rows, features, rc, rn, cfg.Threshold)
		}
	}
}

// TestFilterMissingAsBranch: a target that is large exactly where its only
// feature is missing (MNAR) is learnable because NaN is routed as its own
// branch rather than imputed.
func TestFilterMissingAsBranch(t *testing.T) {
	r := tensor.NewRNG(31, 0)
	tb := NewTable(400, 3)
	for i := 0; i < tb.Rows; i++ {
		for j := 0; j < 3; j++ {
			tb.Set(i, j, r.NormFloat64())
		}
		tb.Y[i] = 0.1 * r.NormFloat64()
		if r.Float64() < 0.3 {
			tb.Set(i, 0, math.NaN())
			tb.Y[i] += 5
		}
	}
	got := Learnability(tensor.NewRNG(32, 0), tb, DefaultFilterConfig())
	if !(got > 0.9) {
		t.Fatalf("R² %.3f with the signal in the missingness pattern, want > 0.9", got)
	}
	// Constant target: undefined, hence rejected.
	for i := range tb.Y {
		tb.Y[i] = 2
	}
	if got := Learnability(tensor.NewRNG(32, 0), tb, DefaultFilterConfig()); !math.IsNaN(got) {
		t.Fatalf("constant target: R² %v, want NaN", got)
	}
}

// TestFilterSubsampleDeterministic: the filter only sees MaxRows rows, and
// the same stream gives the same score.
func TestFilterSubsampleDeterministic(t *testing.T) {
	tb := linearTable(tensor.NewRNG(41, 0), 3000, 8, 1)
	cfg := DefaultFilterConfig()
	a := Learnability(tensor.NewRNG(42, 0), tb, cfg)
	b := Learnability(tensor.NewRNG(42, 0), tb, cfg)
	c := Learnability(tensor.NewRNG(42, 1), tb, cfg)
	if a != b || a == c || !(a > 0.5) {
		t.Fatalf("scores %v %v %v: want equal for the same stream, different for another, > 0.5", a, b, c)
	}
}
