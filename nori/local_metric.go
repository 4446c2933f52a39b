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
//     would pass metricCells, which bounds the search's time), evenly spaced in the order of the target
//     (ties: the coordinates, then the row): stratified in y and
//     independent of the training rows' order.
//  2. For each column j, D_j is the m x m matrix of squared coordinate
//     differences between the subsample's rows; a weight vector w gives the
//     distances D = Σ_j w_j D_j (D is kept; D_j is recomputed when needed).
//  3. loss(w) = Σ_p (y_p − ȳ_kNN(p))² / Σ_p (y_p − ȳ)²: the leave-one-out
//     error of the mean of the k nearest other rows (ties: the earlier
//     subsample row), relative to the variance. k = metricK.
//  4. Coordinate search from w = 1: for each column in turn, each candidate
//     weight of metricWeights replaces w_j when it lowers the loss by more
//     than the fraction metricTol; at most metricSweeps sweeps, fewer when a
//     sweep changes nothing. Changing w_j costs one m² update of D and one
//     loss (m² log k), so the search costs about
//     metricSweeps·len(metricWeights)·d·m² log k.
//  5. The coordinates are multiplied by sqrt(w_j/max w), so squared
//     Euclidean distance is Σ_j w_j Δz_j² up to a constant factor, for the
//     context's nearest rows and the grouping of the queries alike; when
//     every weight stays equal, nothing changes.
//
// Split 0 of the benchmark tables, 4 members (docs/model.md): bike_sharing
// 0.785 -> 0.898, cpu_act 0.930 -> 0.973, kin8nm 0.681 -> 0.708.
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
// d) and targets y, normalised to a largest weight of 1; nil when there is
// nothing to learn from (fewer than metricK+2 rows, or a constant target).
func fitMetric(z []float64, n, d int, y []float64) []float64 {
	m := min(n, metricRows)
	if m*m*d > metricCells {
		m = int(math.Sqrt(float64(metricCells) / float64(d)))
	}
	if m < metricK+2 {
		return nil
	}
	sub := metricSubsample(z, n, d, y, m)
	ys := make([]float64, m)
	mean := 0.0
	for p, i := range sub {
		ys[p] = y[i]
		mean += y[i]
	}
	mean /= float64(m)
	variance := 0.0
	for _, v := range ys {
		variance += (v - mean) * (v - mean)
	}
	if variance == 0 {
		return nil
	}
	// The subsample's coordinates, and the distances under w = 1; float32
	// halves the memory, and the loss only ranks distances.
	zs := make([]float32, m*d)
	for p, i := range sub {
		for j := range d {
			zs[p*d+j] = float32(z[i*d+j])
		}
	}
	dist := make([]float32, m*m)
	for p := range m {
		zp := zs[p*d : (p+1)*d]
		for q := range m {
			zq := zs[q*d : (q+1)*d]
			var s float32
			for j, v := range zp {
				diff := v - zq[j]
				s += diff * diff
			}
			dist[p*m+q] = s
		}
	}
	knn := newKNNLoss(ys, variance)
	w := make([]float64, d)
	for j := range w {
		w[j] = 1
	}
	best := knn.loss(dist)
	trial := make([]float32, m*m)
	for range metricSweeps {
		changed := false
		for j := range d {
			for _, c := range metricWeights {
				if c == w[j] {
					continue
				}
				delta := float32(c - w[j])
				for p := range m {
					zp := zs[p*d+j]
					for q := range m {
						diff := zp - zs[q*d+j]
						trial[p*m+q] = dist[p*m+q] + delta*diff*diff
					}
				}
				if l := knn.loss(trial); l < best*(1-metricTol) {
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
	for j := range w {
		w[j] /= top
	}
	return w
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

// knnLoss computes the leave-one-out error of a k-nearest-neighbour mean
// from an m x m distance matrix.
type knnLoss struct {
	y        []float64
	variance float64
	k        int
	heap     []int // the k nearest so far, farthest first
}

func newKNNLoss(y []float64, variance float64) *knnLoss {
	return &knnLoss{y: y, variance: variance, k: min(metricK, len(y)-1), heap: make([]int, 0, metricK)}
}

// loss is step 3 of the algorithm for the distances dist (row-major m x m).
func (l *knnLoss) loss(dist []float32) float64 {
	m := len(l.y)
	s := 0.0
	for p := range m {
		row := dist[p*m : (p+1)*m]
		// farther reports whether a is farther than b (a later row is
		// farther at equal distance).
		farther := func(a, b int) bool {
			if row[a] != row[b] {
				return row[a] > row[b]
			}
			return a > b
		}
		h := l.heap[:0]
		for q := range m {
			if q == p {
				continue
			}
			if len(h) < l.k {
				h = append(h, q)
				for c := len(h) - 1; c > 0; {
					par := (c - 1) / 2
					if !farther(h[c], h[par]) {
						break
					}
					h[c], h[par] = h[par], h[c]
					c = par
				}
				continue
			}
			if !farther(h[0], q) {
				continue
			}
			h[0] = q
			for c := 0; ; {
				ch := 2*c + 1
				if ch >= len(h) {
					break
				}
				if ch+1 < len(h) && farther(h[ch+1], h[ch]) {
					ch++
				}
				if !farther(h[ch], h[c]) {
					break
				}
				h[c], h[ch] = h[ch], h[c]
				c = ch
			}
		}
		pred := 0.0
		for _, q := range h {
			pred += l.y[q]
		}
		pred /= float64(len(h))
		s += (l.y[p] - pred) * (l.y[p] - pred)
	}
	return s / l.variance
}
