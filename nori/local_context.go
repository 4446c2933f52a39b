package nori

import (
	"math"
	"slices"
)

// Local contexts.
//
// The pretrained network was trained on tables of at most 1024 rows, most
// of them far smaller, and it predicts a query best from a few hundred
// context rows near it: on the benchmark tables of 1,000-5,000 rows,
// predicting each group of 25 query rows from the 256 training rows
// nearest to it raised R² by 0.05-0.2 (kin8nm 0.46 -> 0.67, pol 0.79 ->
// 0.93, bike_sharing 0.62 -> 0.81) where a random subsample of 1024 rows
// lowered it (docs/model.md). This is retrieval, as in LoCalPFN: the network
// still learns the function in context, now from the neighbourhood that
// matters to the query.
//
// Algorithm, for a training table of n > rows rows (rows = localRows):
//
//  1. Fit encodes the training rows with the global encoder and maps each
//     base column to mid-ranks among its training values, in [0, 1]
//     (missing: 0.5), then multiplies each coordinate by a weight learned
//     from the training rows (local_metric.go; WithLocalMetric). Distances
//     are Euclidean in these coordinates: free of the features' scales and
//     skew, each feature counting as much as it helps a nearest-neighbour
//     prediction of the target.
//  2. Predict maps the query rows the same way and groups them by k-means
//     (local_groups.go), about localGroup rows per group.
//  3. Each group's context is the rows training rows with the smallest
//     distance to any member of the group, so every query row keeps its
//     nearest neighbours; ties go to the smaller target, then the earlier
//     training row.
//  4. Each group fits the whole pipeline (encoder, members) on its context
//     rows alone, as Fit would on a table of those rows, and predicts its
//     members. By default the members are weighted on the group's context
//     for tables of at most localWeightRows rows; above, every group uses
//     the weights Fit scored on a few probe contexts (local_weights.go).
//
// With the neighbour feature (local_knn.go), Fit adds a column to the
// training rows, the mean target of each row's nearest other training rows
// in the distance of step 1, and Predict adds it to the query rows, from
// every training row, before the groups fit; a table no larger than a
// context then takes this path too, with one context of every row, fitted
// once by Fit.
//
// Cost: a group costs one Fit on rows rows plus the prediction of its
// members, so a query set of q rows costs about q/localGroup such fits;
// the distances cost n·q·d, small next to the network.

// localFit is what Fit stores when the query groups get local contexts.
type localFit struct {
	table     *Table // a private copy of the training rows
	features  []string
	target    string
	fromTable bool
	y         []float64
	space     *rankSpace
	z         []float64 // the training rows' rank coordinates, n x space.dim
	rows      int       // context rows per group
	group     int       // query rows per group, about
	sub       settings  // the groups' settings: s without local contexts
	// weights, when set, are the members' weights in every group
	// (local_weights.go); the groups then do not weight their own.
	weights []float64
	// neighbour, when set, is the column of the neighbour feature
	// (local_knn.go), already in table and features.
	neighbour *neighbourFeature
	// whole, when set, is the one fit on every training row (a table no
	// larger than a context, kept for the neighbour feature): Fit made it,
	// and every query row is predicted with it.
	whole *fitState
}

// fitLocal returns the fitted state for local contexts, or nil when they do
// not apply (no informative feature column: every distance would be 0).
func fitLocal(t *Table, features []string, target string, fromTable bool, y []float64, s *settings) *fitState {
	enc, base := fitEncoder(t, features)
	if enc.empty {
		return nil
	}
	space := fitRankSpace(base)
	z := space.coords(base)
	if s.localMetric || s.usesSubsets() {
		if w := fitMetric(z, t.rows, space.dim, y); w != nil {
			if s.localMetric {
				space.weigh(z, w)
			}
			if s.usesSubsets() {
				s.dropFeatures = subsetDrop(enc, w)
			}
		}
	}
	sub := *s
	sub.localRows, sub.localGroup = 0, 0
	if sub.weights == weightsAuto && t.rows > localWeightRows {
		sub.weights = weightsOff
	}
	st := &fitState{features: features, target: target, fromTable: fromTable, ens: &ensemble{enc: enc}}
	table, colNames := SelectRows(t, rowRange(0, t.rows)), features
	var nf *neighbourFeature
	if s.neighbour && enc.svd == nil { // a wide table's SVD would mix the column into every component
		var vals []float64
		if nf, vals = fitNeighbourFeature(z, space.dim, y, t.Names()); nf != nil {
			table.AddNumeric(nf.name, vals)
			colNames = append(append([]string(nil), features...), nf.name)
			sub.neighbourCol = nf.name
		}
	}
	st.local = &localFit{
		table: table, neighbour: nf,
		features: colNames, target: target, fromTable: fromTable,
		y:     append([]float64(nil), y...),
		space: space, z: z,
		rows: s.localRows, group: s.localGroup,
		sub: sub,
	}
	return st
}

// predict groups the query rows and predicts each group from its context.
func (l *localFit) predict(qm quantileModel, q *query, emit emitFunc) error {
	if q.m.rows == 0 {
		return nil
	}
	z := l.space.coords(q.m)
	if l.whole != nil {
		return l.predictGroup(qm, q, z, rowRange(0, q.m.rows), l.whole, emit)
	}
	for _, g := range groupQueries(z, l.space.dim, l.group, l.sub.seed) {
		ctx := nearestRows(l.z, z, g, l.space.dim, l.rows, l.y)
		yc := make([]float64, len(ctx))
		for k, i := range ctx {
			yc[k] = l.y[i]
		}
		st, err := fitGlobal(qm, SelectRows(l.table, ctx), l.features, l.target, l.fromTable, yc, &l.sub)
		if err != nil {
			return err
		}
		if l.weights != nil && !st.constant {
			st.ens.weights = l.weights
		}
		if err := l.predictGroup(qm, q, z, g, st, emit); err != nil {
			return err
		}
	}
	return nil
}

// predictGroup predicts the query rows g (rank coordinates z) with st, the
// fit on their context, adding the neighbour feature when there is one.
func (l *localFit) predictGroup(qm quantileModel, q *query, z []float64, g []int, st *fitState, emit emitFunc) error {
	gt := SelectRows(q.t, g)
	if l.neighbour != nil {
		d := l.space.dim
		qz := make([]float64, len(g)*d)
		for k, i := range g {
			copy(qz[k*d:(k+1)*d], z[i*d:(i+1)*d])
		}
		if err := gt.AddNumeric(l.neighbour.name, l.neighbour.values(l.z, qz, d, l.y)); err != nil {
			return err
		}
	}
	m, err := st.ens.enc.encode(gt, l.target)
	if err != nil {
		return err
	}
	return st.run(qm, &query{m: m, t: gt}, func(rows []int, quant []float64, nq int) error {
		orig := make([]int, len(rows))
		for k, i := range rows {
			orig[k] = g[i]
		}
		return emit(orig, quant, nq)
	})
}

// rankSpace maps base columns to mid-ranks among the training values.
type rankSpace struct {
	dim    int
	sorted [][]float64 // per column, the non-missing training values, ascending
	scale  []float64   // per column, the factor on its coordinate (nil: 1)
}

func fitRankSpace(base *matrix) *rankSpace {
	r := &rankSpace{dim: base.cols, sorted: make([][]float64, base.cols)}
	for j := range base.cols {
		v := base.nonMissingCol(j)
		slices.Sort(v)
		r.sorted[j] = v
	}
	return r
}

// coords returns m's rows in rank coordinates (m.rows x dim): the value's
// mid-rank among the column's training values, (#below + #at most)/(2
// count), so training values land on ((a+b+1)/2)/count for their tie run
// a..b and unseen values between their neighbours; missing values, and
// columns without training values, sit at 0.5.
func (r *rankSpace) coords(m *matrix) []float64 {
	z := make([]float64, m.rows*r.dim)
	for j, s := range r.sorted {
		for i := range m.rows {
			v := m.at(i, j)
			if math.IsNaN(v) || len(s) == 0 {
				z[i*r.dim+j] = 0.5
				continue
			}
			below, _ := slices.BinarySearch(s, v)
			atMost := below
			for atMost < len(s) && s[atMost] == v {
				atMost++
			}
			z[i*r.dim+j] = float64(below+atMost) / float64(2*len(s))
		}
	}
	r.apply(z)
	return z
}

// weigh sets the columns' scales to sqrt(w) (local_metric.go) and applies
// them to z, coordinates computed before.
func (r *rankSpace) weigh(z []float64, w []float64) {
	r.scale = make([]float64, r.dim)
	for j, v := range w {
		r.scale[j] = math.Sqrt(v)
	}
	r.apply(z)
}

// apply multiplies each column of z by its scale.
func (r *rankSpace) apply(z []float64) {
	if r.scale == nil {
		return
	}
	for i := 0; i < len(z); i += r.dim {
		for j, f := range r.scale {
			z[i+j] *= f
		}
	}
}

// nearestRows returns the m training rows (rows of trainZ, n x d) with the
// smallest squared distance to any query row of group (rows of queryZ), in
// ascending training order; ties go to the smaller y, then the earlier row.
func nearestRows(trainZ, queryZ []float64, group []int, d, m int, y []float64) []int {
	n := len(trainZ) / d
	if m >= n {
		return rowRange(0, n)
	}
	dist := make([]float64, n)
	for i := range n {
		zi := trainZ[i*d : (i+1)*d]
		best := math.Inf(1)
		for _, qi := range group {
			zq := queryZ[qi*d : (qi+1)*d]
			s := 0.0
			for j, v := range zi {
				diff := v - zq[j]
				s += diff * diff
				if s >= best {
					break
				}
			}
			best = min(best, s)
		}
		dist[i] = best
	}
	before := nearerRow(dist, y)
	// A heap of the m best so far: O(n log m).
	h := make([]int, 0, m)
	for i := range n {
		h = keepBest(h, i, m, before)
	}
	slices.Sort(h)
	return h
}

// nearerRow orders training rows by dist, ties by the smaller target, then
// the earlier row: the order of every nearest-row search of the local
// contexts, so that results do not depend on the rows' order but for exact
// duplicates.
func nearerRow(dist, y []float64) func(a, b int) bool {
	return func(a, b int) bool {
		if dist[a] != dist[b] {
			return dist[a] < dist[b]
		}
		if y[a] != y[b] {
			return y[a] < y[b]
		}
		return a < b
	}
}
