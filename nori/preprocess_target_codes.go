package nori

import (
	"cmp"
	"slices"
)

// Target-ordered category codes (WithTargetOrderedCodes, on by default).
//
// The network reads a categorical column as one number per row, so the order
// of its codes is a shape the network has to undo: under the reference's
// random permutations a category that raises the target may sit between two
// that lower it, and the table needs a sharp, non-monotone function of that
// one value (the network was trained on few such tables; docs/model.md). A
// member with target-ordered codes numbers the categories in the order of
// their mean training target instead, so the column is nearly monotone in
// the target, as it would be for an ordinal feature (diamonds' cut, colour
// and clarity are ordinal categories whose labels sort arbitrarily).
//
// The means are shrunk toward the overall mean with the weight of one row
// ((sum + mean_all) / (count + 1)), so a category seen once does not sort to
// an extreme on its single target alone; only the order of the means enters
// the member, never their values. Ties (equal shrunk means) keep the natural
// order. Every sum runs over the category's targets in sorted order, so the
// codes do not depend on the order of the training rows.

// targetOrderCodes returns targetOrderPerm for every categorical column of
// base, computed once per fit and shared by the members.
func targetOrderCodes(base *matrix, info baseInfo, y []float64) map[int][]int {
	codes := map[int][]int{}
	for j, cat := range info.isCat {
		if cat {
			codes[j] = targetOrderPerm(base, j, info.ncat[j], y)
		}
	}
	return codes
}

// targetOrderPerm returns the member codes of base column j's ncat natural
// codes (0..ncat-1): perm[c] is c's rank by its shrunk mean target over the
// rows of base (y aligned with them). Missing (NaN) and unknown (-1) cells are
// skipped.
func targetOrderPerm(base *matrix, j, ncat int, y []float64) []int {
	byCat := make([][]float64, ncat)
	all := make([]float64, 0, base.rows)
	for i := range base.rows {
		all = append(all, y[i])
		if v := base.row(i)[j]; v >= 0 && int(v) < ncat {
			byCat[int(v)] = append(byCat[int(v)], y[i])
		}
	}
	overall := sortedMean(all)
	mean := make([]float64, ncat)
	for c, ys := range byCat {
		mean[c] = (sortedSum(ys) + overall) / float64(len(ys)+1)
	}
	idx := rowRange(0, ncat)
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(mean[a], mean[b]) })
	perm := make([]int, ncat)
	for rank, c := range idx {
		perm[c] = rank
	}
	return perm
}

// sortedSum sums v in ascending order (v is sorted in place).
func sortedSum(v []float64) float64 {
	slices.Sort(v)
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// sortedMean is the mean of v summed in ascending order (0 when empty).
func sortedMean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return sortedSum(v) / float64(len(v))
}
