package nori

import (
	"math"
	"slices"
	"strconv"
)

// The neighbour feature (WithNeighbourFeature).
//
// A local context shows the network the 256 training rows nearest to a
// group of queries, and nothing of the rest of the table. The learned
// distance (local_metric.go) already knows how well a plain
// nearest-neighbour mean predicts the target, and on some tables that mean
// predicts better than the network does from its context (scikit-learn's
// KNN beats nori's card before this feature on kin8nm, 0.767 against
// 0.746). With the neighbour feature, every row carries one more numeric
// column: the mean target of its k nearest training rows in the learned
// distance, leaving the row itself out for the training rows. A query's
// value uses every training row; a training row's leaves out exactly its
// own target, so the column relates to the target in the same way for the
// context rows as for the queries (an out-of-sample prediction for both),
// and the network learns in context how much to trust it. Candidates i of
// the member pool with i/2 odd leave the column out (candidateCols), so
// the pool's scores decide per table how many views read it.
//
// Measured on split 0 of 10 tables of 1,000-5,000 rows (4 members,
// docs/model.md): +0.021 mean R² with half the candidates reading it
// (kin8nm +0.075, airfoil +0.042, house_16H +0.039, boston +0.035;
// california_housing -0.011), +0.016 with every candidate (california
// -0.033).
//
// Algorithm: k is chosen from neighbourKs by the leave-one-out squared
// error of the training rows; distances are the squared Euclidean
// distances of the weighted rank coordinates (ties: the smaller target,
// then the earlier row, as nearestRows), so the values do not depend on
// the order of the training rows. Cost: n²·d for the training rows once
// per Fit (BenchmarkNeighbourFeature: 0.67 s for 4,000 rows of 20
// features on the 2-core dev machine, busy with other work), n·q·d for q
// queries.

// neighbourKs are the candidate neighbour counts.
var neighbourKs = []int{4, 8, 16, 32}

// neighbourFeature is the fitted column: its name and its k.
type neighbourFeature struct {
	name string
	k    int
}

// neighbourName returns a column name not among names.
func neighbourName(names []string) string {
	taken := map[string]bool{}
	for _, n := range names {
		taken[n] = true
	}
	name := "nori_neighbour_mean"
	for i := 2; taken[name]; i++ {
		name = "nori_neighbour_mean_" + strconv.Itoa(i)
	}
	return name
}

// nearestTargets returns, for each query row of qz (rows x d), the targets
// of its kmax nearest training rows (tz, n x d) in order of distance,
// leaving out training row i for query i when self is set.
func nearestTargets(tz, qz []float64, d int, y []float64, kmax int, self bool) [][]float64 {
	n, m := len(tz)/d, len(qz)/d
	out := make([][]float64, m)
	dist := make([]float64, n)
	for p := range m {
		zp := qz[p*d : (p+1)*d]
		for i := range n {
			zi := tz[i*d : (i+1)*d]
			s := 0.0
			for j, v := range zi {
				diff := v - zp[j]
				s += diff * diff
			}
			dist[i] = s
		}
		before := nearerRow(dist, y)
		k := min(kmax, n)
		if self {
			k = min(kmax, n-1)
		}
		h := make([]int, 0, k)
		for i := range n {
			if (self && i == p) || (len(h) == k && !before(i, h[0])) {
				continue
			}
			h = keepBest(h, i, k, before)
		}
		// keepBest keeps a heap, farthest first; sort by distance.
		slices.SortFunc(h, func(a, b int) int {
			if before(a, b) {
				return -1
			}
			return 1 // h holds distinct rows, and before is a strict total order
		})
		ys := make([]float64, len(h))
		for r, i := range h {
			ys[r] = y[i]
		}
		out[p] = ys
	}
	return out
}

// meanOfFirst returns the mean of the first k values of each row.
func meanOfFirst(rows [][]float64, k int) []float64 {
	out := make([]float64, len(rows))
	for p, ys := range rows {
		kk := min(k, len(ys))
		s := 0.0
		for _, v := range ys[:kk] {
			s += v
		}
		out[p] = s / float64(kk)
	}
	return out
}

// fitNeighbourFeature chooses k by the training rows' leave-one-out error
// and returns the feature and the training rows' values; nil when the table
// has fewer than 2·neighbourKs[0] rows.
func fitNeighbourFeature(z []float64, d int, y []float64, names []string) (*neighbourFeature, []float64) {
	n := len(y)
	if n < 2*neighbourKs[0] {
		return nil, nil
	}
	kmax := neighbourKs[len(neighbourKs)-1]
	near := nearestTargets(z, z, d, y, kmax, true)
	bestK, bestErr := 0, math.Inf(1)
	var bestVals []float64
	for _, k := range neighbourKs {
		if k >= n {
			break
		}
		v := meanOfFirst(near, k)
		e := 0.0
		for i, p := range v {
			e += (y[i] - p) * (y[i] - p)
		}
		if e < bestErr {
			bestK, bestErr, bestVals = k, e, v
		}
	}
	return &neighbourFeature{name: neighbourName(names), k: bestK}, bestVals
}

// values returns the feature for query coordinates qz (rows x d), from the
// training coordinates tz and targets y.
func (f *neighbourFeature) values(tz, qz []float64, d int, y []float64) []float64 {
	return meanOfFirst(nearestTargets(tz, qz, d, y, f.k, false), f.k)
}
