package prior

import (
	"math"
	"slices"
)

// Learnability is the filter's score for t: the out-of-bag R² of an
// ExtraTrees forest (cfg.Forest) fitted to at most cfg.MaxRows rows of t,
// subsampled without replacement when the table is larger. It returns NaN
// when R² is undefined (constant target, fewer than two rows with an
// out-of-bag prediction); the pipeline treats NaN as a rejection. All
// randomness comes from r.
func Learnability(r Source, t *Table, cfg FilterConfig) float64 {
	x, y, rows := t.X, t.Y, t.Rows
	if cfg.MaxRows > 0 && rows > cfg.MaxRows {
		// The first MaxRows entries of a partial Fisher-Yates shuffle are a
		// uniform subset; keep them in table order for locality.
		pick := make([]int, rows)
		for i := range pick {
			pick[i] = i
		}
		for i := 0; i < cfg.MaxRows; i++ {
			j := i + r.Intn(rows-i)
			pick[i], pick[j] = pick[j], pick[i]
		}
		pick = pick[:cfg.MaxRows]
		slices.Sort(pick)
		f := t.Features
		x = make([]float64, len(pick)*f)
		y = make([]float64, len(pick))
		for k, i := range pick {
			copy(x[k*f:(k+1)*f], t.X[i*f:(i+1)*f])
			y[k] = t.Y[i]
		}
		rows = len(pick)
	}
	fo := FitForest(r, x, rows, t.Features, y, cfg.Forest)
	if fo == nil {
		return math.NaN()
	}
	r2, _ := fo.OOBR2(x, rows, t.Features, y)
	return r2
}
