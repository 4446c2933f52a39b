package prior

import (
	"math"
)

// Augmentations that coarsen columns: binning and categorical coding.

// augDiscretise bins a large share of the numeric columns, as most columns
// of real tables are recorded on coarse grids (ages in years, ratings,
// rounded readings, brackets). Each column gets 2-32 bins, either
// equal-width over its range and shown as the bin midpoint ("round"), or at
// its quantiles and shown as the ordinal code 0..bins-1 ("quantile"). A
// column ends with at most bins distinct values.
func augDiscretise(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := pickColumns(r, numericColumns(t), c.DiscretiseFrac)
	if len(cols) == 0 {
		return false
	}
	bins := make([]int, len(cols))
	modes := make([]string, len(cols))
	for k, j := range cols {
		nb := LogUniformInt(r, c.DiscretiseBins[0], c.DiscretiseBins[1])
		mode := Choice(r, []string{"round", "quantile"})
		bins[k], modes[k] = nb, mode
		col := t.Column(j)
		if mode == "round" {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range col {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			step := (hi - lo) / float64(nb)
			if !(step > 0) {
				continue
			}
			for i, v := range col {
				b := min(nb-1, int((v-lo)/step))
				col[i] = lo + (float64(b)+0.5)*step
			}
		} else {
			sorted := sortedFinite(col)
			cuts := make([]float64, nb-1)
			for q := range cuts {
				cuts[q] = quantileSorted(sorted, float64(q+1)/float64(nb))
			}
			for i, v := range col {
				b := 0
				for b < len(cuts) && v > cuts[b] {
					b++
				}
				col[i] = float64(b)
			}
		}
		setColumn(t, j, col)
	}
	p["columns"] = cols
	p["bins"] = bins
	p["modes"] = modes
	return true
}

// augCategorical turns some columns into categorical ones: integer codes
// whose frequencies follow Zipf's law (a few common categories, a long tail
// of rare ones), as for product types, regions or occupations. A column's
// rows are sorted by value and cut into contiguous segments, one per
// category, of sizes n*P(category) (Zipf over a random frequency order along
// the values); the codes are a random labelling. So the column keeps a
// coarse, unordered version of its information. Table.Categorical is set.
func augCategorical(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	var cand []int
	for j := range t.Features {
		if !t.Categorical[j] {
			cand = append(cand, j)
		}
	}
	if len(cand) == 0 || t.Rows < 2 {
		return false
	}
	k := fracCount(r, c.CategoricalFrac, t.Features, 1)
	k = min(k, len(cand))
	cols := make([]int, k)
	for n, idx := range SampleWithoutReplacement(r, len(cand), k) {
		cols[n] = cand[idx]
	}
	levels := make([]int, k)
	exps := make([]float64, k)
	for n, j := range cols {
		nl := min(max(2, t.Rows/2), LogUniformInt(r, c.CategoricalLevels[0], c.CategoricalLevels[1]))
		s := uniformIn(r, c.CategoricalZipf)
		levels[n], exps[n] = nl, s
		col := t.Column(j)
		codes := zipfSegmentCodes(r, col, nl, s)
		setColumn(t, j, codes)
		t.Categorical[j] = true
	}
	p["columns"] = cols
	p["levels"] = levels
	p["zipf_s"] = exps
	return true
}

// zipfSegmentCodes cuts the rows of col, sorted by value, into levels
// contiguous segments and returns each row's segment code. The category of
// frequency rank q gets a share P(q) ∝ (q+1)^-s of the rows (cumulative
// rounding, so each count is within one of n*P(q)); the ranks are placed
// along the values in random order and shown under random codes.
func zipfSegmentCodes(r Source, col []float64, levels int, s float64) []float64 {
	n := len(col)
	cdf := ZipfCDF(levels, s)
	prob := make([]float64, levels)
	prev := 0.0
	for q, v := range cdf {
		prob[q] = v - prev
		prev = v
	}
	order := SampleWithoutReplacement(r, levels, levels)  // frequency rank of the k-th segment along the values
	labels := SampleWithoutReplacement(r, levels, levels) // code shown for frequency rank q
	idx := sortedIndexByValue(col)
	out := make([]float64, n)
	acc := 0.0
	start := 0
	for k, q := range order {
		acc += prob[q]
		end := int(math.Round(acc * float64(n)))
		if k == levels-1 {
			end = n
		}
		for _, i := range idx[start:end] {
			out[i] = float64(labels[q])
		}
		start = end
	}
	return out
}
