package nori

import (
	"cmp"
	"math"
	"slices"
)

// The distance of local contexts, learned per table.
//
// With every feature weighted the same, the neighbours of a query are as
// near in an irrelevant column as in the one the target depends on; the
// context then spends its rows on variation that does not matter. fitMetric
// weights each rank coordinate by how much it helps a plain nearest-
// neighbour predictor, measured on the training rows themselves:
//
//  1. A subsample of m = min(n, metricRows) training rows (fewer when m²·d
//     would pass metricCells, which bounds the search's time), evenly
//     spaced in the order of the target (ties: the coordinates, then the
//     row): stratified in y and independent of the training rows' order.
//     Alternate rows of it form the search half A and the check half B.
//  2. For weights w, the distance of two rows is Σ_j w_j Δz_j². loss(w) on
//     A = Σ_p (y_p − ȳ_kNN(p))² / Σ_p (y_p − ȳ)², the leave-one-out error
//     of the mean of the k = metricK nearest other rows of A (ties: the
//     earlier row), relative to the variance.
//  3. Coordinate search from w = 1: for each column in turn, each candidate
//     weight of metricWeights replaces w_j when it lowers the loss by more
//     than the fraction metricTol; at most metricSweeps sweeps, fewer when a
//     sweep changes nothing. The m/2 x m/2 distance matrix is kept, so a
//     candidate costs one update of it and one loss (m²/4 log k): about
//     metricSweeps·len(metricWeights)·d·m²/4 log k in all.
//  4. The check: the rows of B predicted from their k nearest rows of A
//     must score better (by metricTol) under w than under equal weights;
//     otherwise the weights stay equal. This catches the search fitting
//     the noise of A, as it can with many columns.
//  5. The coordinates are multiplied by sqrt(w_j/max w), so squared
//     Euclidean distance is Σ_j w_j Δz_j² up to a constant factor, for the
//     context's nearest rows and the grouping of the queries alike; when
//     every weight stays equal, nothing changes.
//
// A nearest-neighbour mean is a stand-in for the network, and not a perfect
// one: on split 0 of the benchmark tables, 4 members (docs/model.md), the
// learned distance took bike_sharing from 0.785 to 0.901, cpu_act 0.930 ->
// 0.973, kin8nm 0.681 -> 0.704, but lowered ames_housing (0.834 -> 0.798)
// and airfoil (0.891 -> 0.870). Variants measured there and dropped: the
// correlation ratio of y per column as the weight (kin8nm -0.023), a
// search without the check (ames 0.760), without the weight 0, with
// sqrt(w) (softer; bike_sharing 0.883).
const (
	metricRows   = 1000
	metricCells  = 40_000_000
	metricK      = 16
	metricTol    = 0.01
	metricSweeps = 2
)

// metricWeights are the candidate weights of a column (step 4).
var metricWeights = []float64{0, 0.1, 0.3, 1, 3}

// fitMetric returns the columns' weights for training coordinates z (n x
// d) and targets y, normalised to a largest weight of 1; nil for equal
// weights: when there is nothing to learn from (a subsample of fewer than
// 2(metricK+2) rows, a constant target), when the search keeps them equal,
// or when the check rejects what it found.
func fitMetric(z []float64, n, d int, y []float64) []float64 {
	m := min(n, metricRows)
	if m*m*d > metricCells {
		m = int(math.Sqrt(float64(metricCells) / float64(d)))
	}
	if m < 2*(metricK+2) {
		return nil
	}
	sub := metricSubsample(z, n, d, y, m)
	// Alternate rows of the y order: two halves with the same spread of y.
	var fitRows, checkRows []int
	for p, i := range sub {
		if p%2 == 0 {
			fitRows = append(fitRows, i)
		} else {
			checkRows = append(checkRows, i)
		}
	}
	za, ya := gatherRows(z, d, y, fitRows)
	zb, yb := gatherRows(z, d, y, checkRows)
	fit := newKNNLoss(ya, ya, true)
	if fit == nil {
		return nil
	}
	w := ones(d)
	ma := len(ya)
	dist := weightedDist(za, za, d, w)
	best := fit.loss(dist)
	trial := make([]float32, ma*ma)
	for range metricSweeps {
		changed := false
		for j := range d {
			for _, c := range metricWeights {
				if c == w[j] {
					continue
				}
				delta := float32(c - w[j])
				for p := range ma {
					zp := za[p*d+j]
					for q := range ma {
						diff := zp - za[q*d+j]
						trial[p*ma+q] = dist[p*ma+q] + delta*diff*diff
					}
				}
				if l := fit.loss(trial); l < best*(1-metricTol) {
					best, w[j] = l, c
					dist, trial = trial, dist
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	top := slices.Max(w)
	if top == 0 || slices.Min(w) == top {
		return nil // equal weights after all (or no column helps at all)
	}
	// Step 4: the weights must also predict the other half better.
	check := newKNNLoss(yb, ya, false)
	if check == nil {
		return nil
	}
	if check.loss(weightedDist(zb, za, d, w)) >= check.loss(weightedDist(zb, za, d, ones(d)))*(1-metricTol) {
		return nil
	}
	for j := range w {
		w[j] /= top
	}
	return w
}

// ones returns n weights of 1.
func ones(n int) []float64 {
	w := make([]float64, n)
	for j := range w {
		w[j] = 1
	}
	return w
}

// gatherRows returns the coordinates (float32: half the memory; the loss
// only ranks distances) and targets of rows.
func gatherRows(z []float64, d int, y []float64, rows []int) ([]float32, []float64) {
	zs := make([]float32, len(rows)*d)
	ys := make([]float64, len(rows))
	for p, i := range rows {
		for j := range d {
			zs[p*d+j] = float32(z[i*d+j])
		}
		ys[p] = y[i]
	}
	return zs, ys
}

// weightedDist returns the distances Σ_j w_j (a_pj − b_qj)² between the
// rows of a and b (len(a)/d x len(b)/d, row-major).
func weightedDist(a, b []float32, d int, w []float64) []float32 {
	ma, mb := len(a)/d, len(b)/d
	wf := make([]float32, d)
	for j, v := range w {
		wf[j] = float32(v)
	}
	out := make([]float32, ma*mb)
	for p := range ma {
		ap := a[p*d : (p+1)*d]
		for q := range mb {
			bq := b[q*d : (q+1)*d]
			var s float32
			for j, v := range ap {
				diff := v - bq[j]
				s += wf[j] * diff * diff
			}
			out[p*mb+q] = s
		}
	}
	return out
}

// metricSubsample returns m of the n rows, evenly spaced in the order of y
// (ties: the coordinates, then the row index).
func metricSubsample(z []float64, n, d int, y []float64, m int) []int {
	order := rowRange(0, n)
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(y[a], y[b]); c != 0 {
			return c
		}
		if c := slices.Compare(z[a*d:(a+1)*d], z[b*d:(b+1)*d]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	sub := make([]int, m)
	for p := range m {
		sub[p] = order[p*n/m]
	}
	return sub
}

// knnLoss computes the error of a k-nearest-neighbour mean of candidate
// rows' targets at query rows, from their distance matrix (queries x
// candidates); with self, queries and candidates are the same rows and
// each row is left out of its own neighbours.
type knnLoss struct {
	yq, yc   []float64
	variance float64 // Σ (yq − mean yq)²
	self     bool
	k        int
	heap     []int // the k nearest so far, farthest first
}

// newKNNLoss returns nil when the query targets are constant.
func newKNNLoss(yq, yc []float64, self bool) *knnLoss {
	mean := 0.0
	for _, v := range yq {
		mean += v
	}
	mean /= float64(len(yq))
	variance := 0.0
	for _, v := range yq {
		variance += (v - mean) * (v - mean)
	}
	if variance == 0 {
		return nil
	}
	k := min(metricK, len(yc))
	if self {
		k = min(k, len(yc)-1)
	}
	return &knnLoss{yq: yq, yc: yc, variance: variance, self: self, k: k, heap: make([]int, 0, k)}
}

// loss is Σ_p (y_p − mean of its k nearest candidates' y)² / Σ_p (y_p − ȳ)²
// over the query rows p; ties go to the earlier candidate.
func (l *knnLoss) loss(dist []float32) float64 {
	mc := len(l.yc)
	s := 0.0
	for p, yp := range l.yq {
		row := dist[p*mc : (p+1)*mc]
		// nearer reports whether a is nearer than b (the earlier row at
		// equal distance).
		nearer := func(a, b int) bool {
			if row[a] != row[b] {
				return row[a] < row[b]
			}
			return a < b
		}
		h := l.heap[:0]
		for q := range mc {
			if (l.self && q == p) || (len(h) == l.k && !nearer(q, h[0])) {
				continue
			}
			h = keepBest(h, q, l.k, nearer)
		}
		pred := 0.0
		for _, q := range h {
			pred += l.yc[q]
		}
		pred /= float64(len(h))
		s += (yp - pred) * (yp - pred)
	}
	return s / l.variance
}
