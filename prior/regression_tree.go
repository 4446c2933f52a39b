package prior

import ()

// familyTree is a random axis-aligned regression tree of depth 2-6 whose
// thresholds are values of random rows: piecewise-constant responses with
// interactions between the split variables, like eligibility rules, tax
// brackets and tariff schedules. Leaf values accumulate a random step per
// level so that neighbouring leaves are related.
func familyTree(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	depth := IntRange(r, 2, 6)
	f := make([]float64, rows)
	idx := make([]int, rows)
	for i := range idx {
		idx[i] = i
	}
	leaves := 0
	var grow func(rowsAt []int, level int, value float64)
	grow = func(rowsAt []int, level int, value float64) {
		if level == depth || len(rowsAt) < 2 {
			for _, i := range rowsAt {
				f[i] = value
			}
			leaves++
			return
		}
		j := r.Intn(len(z))
		thr := z[j][rowsAt[r.Intn(len(rowsAt))]]
		var left, right []int
		for _, i := range rowsAt {
			if z[j][i] <= thr {
				left = append(left, i)
			} else {
				right = append(right, i)
			}
		}
		step := r.NormFloat64() / float64(level+1)
		grow(left, level+1, value-step)
		grow(right, level+1, value+step)
	}
	grow(idx, 0, 0)
	p["depth"] = depth
	p["leaves"] = leaves
	return f
}
