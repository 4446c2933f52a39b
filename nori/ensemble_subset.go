package nori

// Feature-subset candidates.
//
// The network reads a member's columns two to a token and combines tokens
// only through the feature attention, which this checkpoint learned weakly
// (docs/model.md, "What limits it"): a column the target ignores still
// takes a token, or half of one beside a column that matters, and dilutes
// the ones the target needs. The learned distance of the local contexts
// (local_metric.go) already tells which columns a nearest-neighbour
// predictor can do without: those it weights 0. With WithFeatureSubsets,
// every odd candidate of the member pool leaves those columns out of its
// view (its quantile transforms, SVD, pair products and column order are
// then drawn over the kept columns only), and the pool's scores decide
// which views the ensemble keeps, so a table where the dropped columns
// matter to the network keeps the full views. The distance is learned
// once per Fit, on all the training rows, and every local context uses the
// same subset, as it uses the same candidates.
//
// A subset applies only with a pool (nothing else would judge it), when
// the distance drops some but not all of the encoded columns, and when the
// encoder has not already reduced a wide table to SVD components.

// subsetDrop returns the features whose learned weight is 0, nil when none
// or every one is.
func subsetDrop(enc *encoder, w []float64) map[string]bool {
	if w == nil || enc.svd != nil || enc.empty || len(w) != len(enc.cols) {
		return nil
	}
	drop := map[string]bool{}
	for j, v := range w {
		if v == 0 {
			drop[enc.cols[j].name] = true
		}
	}
	if len(drop) == 0 || len(drop) == len(w) {
		return nil
	}
	return drop
}

// usesSubsets reports whether Fit should look for a subset: a pool that
// applies (more candidates than members, and scores to choose by).
func (s *settings) usesSubsets() bool {
	return s.subsets && s.pool > s.ensemble && s.weights != weightsOff
}

// candidateCols returns the base columns candidate i reads, ascending, nil
// for all of them: an odd candidate leaves out s.dropFeatures (the subset),
// and a candidate with i/2 odd leaves out the neighbour feature
// s.neighbourCol (local_knn.go), so that of every four candidates one sees
// both, one neither, one each. Fit sets s.dropFeatures only when
// usesSubsets holds for the table's settings; the local contexts' groups
// inherit it even when they do not score their members themselves (the
// probes chose them).
// Columns are matched by name, since a local context's encoder may drop a
// column that is constant on its rows.
func candidateCols(enc *encoder, s *settings, i int) []int {
	if enc.svd != nil || enc.empty {
		return nil
	}
	dropSubset := s.dropFeatures != nil && i%2 == 1
	dropNeighbour := s.neighbourCol != "" && (i/2)%2 == 1
	if !dropSubset && !dropNeighbour {
		return nil
	}
	var cols []int
	for j, c := range enc.cols {
		if (dropSubset && s.dropFeatures[c.name]) || (dropNeighbour && c.name == s.neighbourCol) {
			continue
		}
		cols = append(cols, j)
	}
	if len(cols) == 0 || len(cols) == len(enc.cols) {
		return nil
	}
	return cols
}

// globalDrop learns the distance's weights for a table fitted with one
// context (local contexts learn them in fitLocal) and returns the features
// the subset candidates leave out.
func globalDrop(t *Table, features []string, y []float64, s *settings) map[string]bool {
	if !s.usesSubsets() {
		return nil
	}
	enc, base := fitEncoder(t, features)
	if enc.empty || enc.svd != nil {
		return nil
	}
	space := fitRankSpace(base)
	return subsetDrop(enc, fitMetric(space.coords(base), t.rows, space.dim, y))
}
