package prior

import "math"

// Augmentations acting on whole rows or on value ranges: winsorising and
// duplicated records.

// augWinsorise clips some numeric columns at their q and 1-q quantiles, or
// at 1-q only (top-coding, as for incomes in public survey files), q from
// WinsoriseTail; with WinsoriseTargetProb the target is clipped at both
// tails too (a capped outcome, such as house values capped at $500k).
func augWinsorise(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := pickColumns(r, numericColumns(t), c.WinsoriseFrac)
	tails := make([]float64, len(cols))
	upperOnly := make([]bool, len(cols))
	for k, j := range cols {
		q := uniformIn(r, c.WinsoriseTail)
		tails[k], upperOnly[k] = q, Bernoulli(r, 0.5)
		col := t.Column(j)
		clipToQuantiles(col, q, upperOnly[k])
		setColumn(t, j, col)
	}
	target := Bernoulli(r, c.WinsoriseTargetProb)
	if target {
		q := uniformIn(r, c.WinsoriseTail)
		clipToQuantiles(t.Y, q, false)
		p["target_tail"] = q
	}
	if len(cols) == 0 && !target {
		return false
	}
	p["columns"] = cols
	p["tails"] = tails
	p["upper_only"] = upperOnly
	p["target"] = target
	return true
}

// clipToQuantiles clips xs in place to its [q, 1-q] quantile range, or to
// its 1-q quantile only.
func clipToQuantiles(xs []float64, q float64, upperOnly bool) {
	s := sortedFinite(xs)
	if len(s) == 0 {
		return
	}
	lo, hi := quantileSorted(s, q), quantileSorted(s, 1-q)
	if upperOnly {
		lo = math.Inf(-1)
	}
	for i, v := range xs {
		xs[i] = math.Max(lo, math.Min(hi, v))
	}
}

// augDuplicateRows overwrites a few rows (features and target) with exact
// copies of other rows, as records entered twice or merged from two sources.
// Copies are placed over distinct rows from distinct sources, so the count
// of duplicated pairs is exact.
func augDuplicateRows(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	if t.Rows < 2 {
		return false
	}
	m := min(t.Rows/2, max(1, int(math.Round(uniformIn(r, c.DuplicateRowsFrac)*float64(t.Rows)))))
	perm := SampleWithoutReplacement(r, t.Rows, 2*m)
	f := t.Features
	for k := range m {
		dst, src := perm[k], perm[m+k]
		copy(t.X[dst*f:(dst+1)*f], t.X[src*f:(src+1)*f])
		t.Y[dst] = t.Y[src]
	}
	p["count"] = m
	return true
}
