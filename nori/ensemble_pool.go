package nori

import (
	"cmp"
	"slices"
)

// Member pools. The member weighting (ensemble_weights.go) can only choose
// among the views it is given, and with 4 or 8 random column orders a table
// whose target needs two particular features in one pair token may get
// none that pairs them. With a pool (WithMemberPool), Fit builds more
// candidate members than the ensemble keeps, scores every candidate exactly
// as the weighting does (held-out folds of the context, or the probe
// contexts of local_weights.go), and keeps the ensemble-size best, weighted
// by their scores. Candidate i is the same view whatever the pool's use:
// its family comes from i among the pool's candidates, its draws from
// (seed, i).
//
// Cost: the scoring passes grow with the pool (weightFolds passes per
// candidate over the context); prediction runs only the kept members.

// candidates is the number of candidate members a fit draws from: the
// pool when one applies, else the ensemble size.
func (s *settings) candidates() int { return max(s.ensemble, s.pool) }

// bestMembers returns the indices of the k lowest scores, ties to the
// lower index, in ascending index order.
func bestMembers(scores []float64, k int) []int {
	idx := rowRange(0, len(scores))
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	idx = idx[:min(k, len(idx))]
	slices.Sort(idx)
	return idx
}

// pick returns v's values at idx, in idx's order.
func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = v[i]
	}
	return out
}

// keepMembers drops every member not listed in keep (positions in
// e.members, ascending).
func (e *ensemble) keepMembers(keep []int) {
	if len(keep) == len(e.members) {
		return
	}
	var members []*member
	var ctxX [][]float32
	var ctxY [][]float32
	var targets []*targetMap
	for _, i := range keep {
		members = append(members, e.members[i])
		ctxX = append(ctxX, e.ctxX[i])
		ctxY = append(ctxY, e.ctxY[i])
		targets = append(targets, e.targets[i])
	}
	e.members, e.ctxX, e.ctxY, e.targets = members, ctxX, ctxY, targets
}
