package nori

import (
	"fmt"
	"math"
	"sort"
)

// Point estimates from a quantile function. The model predicts Q quantiles at
// levels tau_i = (i+1)/(Q+1); between levels the quantile function is taken
// as piecewise linear in tau, and beyond the first and last level as flat
// (q(tau) = q_0 for tau < tau_0, q_K for tau > tau_K). Every reduction below
// uses that one function, so the mean, the median and any other level agree
// with each other.

// quantileLevels returns the Q levels tau_i = (i+1)/(Q+1) of a Q-quantile head.
func quantileLevels(q int) []float64 {
	t := make([]float64, q)
	for i := range t {
		t[i] = float64(i+1) / float64(q+1)
	}
	return t
}

// meanOfQuantiles integrates the piecewise-linear quantile function over
// [0, 1]: tau_0*q_0 + sum_k 0.5*(q_k+q_{k+1})*(tau_{k+1}-tau_k) +
// (1-tau_K)*q_K. q must be sorted (non-decreasing) and len(q) == len(tau).
// The weights sum to 1, so it is computed as q_0 plus the integral of
// q - q_0: exact for a constant row, and free of cancellation when the
// quantiles sit far from zero.
func meanOfQuantiles(tau, q []float64) float64 {
	k := len(q) - 1
	base := q[0]
	var s float64
	for i := 0; i < k; i++ {
		s += 0.5 * ((q[i] - base) + (q[i+1] - base)) * (tau[i+1] - tau[i])
	}
	return base + s + (1-tau[k])*(q[k]-base)
}

// interpQuantile evaluates the quantile function at level by linear
// interpolation in tau, flat beyond the first and last level.
func interpQuantile(tau, q []float64, level float64) float64 {
	k := len(tau) - 1
	if level <= tau[0] {
		return q[0]
	}
	if level >= tau[k] {
		return q[k]
	}
	// First index with tau[j] >= level; j >= 1 here.
	j := sort.SearchFloat64s(tau, level)
	if tau[j] == level {
		return q[j]
	}
	w := (level - tau[j-1]) / (tau[j] - tau[j-1])
	return q[j-1] + w*(q[j]-q[j-1])
}

// checkLevels validates requested quantile levels: each strictly inside
// (0, 1). Levels need not be sorted; duplicates are allowed.
func checkLevels(levels []float64) error {
	if len(levels) == 0 {
		return fmt.Errorf("nori: no quantile levels requested")
	}
	for i, l := range levels {
		if !(l > 0 && l < 1) { // also rejects NaN
			return fmt.Errorf("nori: quantile level %d is %v; levels must lie strictly between 0 and 1", i, l)
		}
	}
	return nil
}

// Distribution is the predicted distribution of the target for each query
// row: the ensemble's averaged quantiles at fixed levels (999 levels
// tau_i = (i+1)/1000 for the standard head), non-decreasing in every row,
// in the target's original units.
type Distribution struct {
	levels []float64
	q      []float64 // rows x len(levels), row-major
	rows   int
}

// NewDistribution builds a Distribution from quantiles[i][k], row i's
// quantile at levels[k]: levels strictly increasing inside (0, 1), every row
// finite and non-decreasing, with one value per level. The values are
// copied. It lets callers reduce quantiles from elsewhere (or combine
// predictions) with the same rules as the Regressor.
func NewDistribution(levels []float64, quantiles [][]float64) (*Distribution, error) {
	if err := checkLevels(levels); err != nil {
		return nil, err
	}
	for k := 1; k < len(levels); k++ {
		if levels[k] <= levels[k-1] {
			return nil, fmt.Errorf("nori: quantile levels must increase: %v after %v", levels[k], levels[k-1])
		}
	}
	q := make([]float64, 0, len(quantiles)*len(levels))
	for i, row := range quantiles {
		if len(row) != len(levels) {
			return nil, fmt.Errorf("nori: row %d has %d quantiles for %d levels", i, len(row), len(levels))
		}
		for k, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("nori: row %d quantile %d is %v", i, k, v)
			}
			if k > 0 && v < row[k-1] {
				return nil, fmt.Errorf("nori: row %d decreases at level %v (%v after %v)", i, levels[k], v, row[k-1])
			}
		}
		q = append(q, row...)
	}
	return &Distribution{levels: append([]float64(nil), levels...), q: q, rows: len(quantiles)}, nil
}

// newDistribution wraps rows x len(levels) sorted quantiles (not copied).
func newDistribution(levels, q []float64) *Distribution {
	return &Distribution{levels: levels, q: q, rows: len(q) / len(levels)}
}

// Len returns the number of rows.
func (d *Distribution) Len() int { return d.rows }

// Levels returns a copy of the quantile levels tau_i, increasing.
func (d *Distribution) Levels() []float64 { return append([]float64(nil), d.levels...) }

// Row returns a copy of row i's quantiles (one per level, non-decreasing).
func (d *Distribution) Row(i int) []float64 {
	k := len(d.levels)
	return append([]float64(nil), d.q[i*k:(i+1)*k]...)
}

func (d *Distribution) row(i int) []float64 {
	k := len(d.levels)
	return d.q[i*k : (i+1)*k]
}

// Mean returns each row's mean: the integral of its piecewise-linear quantile
// function (see meanOfQuantiles), the default point estimate.
func (d *Distribution) Mean() []float64 {
	out := make([]float64, d.rows)
	for i := range out {
		out[i] = meanOfQuantiles(d.levels, d.row(i))
	}
	return out
}

// Median returns each row's quantile at level 0.5.
func (d *Distribution) Median() []float64 {
	out := make([]float64, d.rows)
	for i := range out {
		out[i] = interpQuantile(d.levels, d.row(i), 0.5)
	}
	return out
}

// Mode returns each row's mode estimate. A quantile function does not give a
// stable density peak (differences of adjacent quantiles are noisy), so, as in
// the reference model, the mode is the median.
func (d *Distribution) Mode() []float64 { return d.Median() }

// Quantile returns each row's quantile at level (strictly between 0 and 1),
// linearly interpolated between the two nearest predicted levels and flat
// beyond the outermost ones.
func (d *Distribution) Quantile(level float64) ([]float64, error) {
	if err := checkLevels([]float64{level}); err != nil {
		return nil, err
	}
	out := make([]float64, d.rows)
	for i := range out {
		out[i] = interpQuantile(d.levels, d.row(i), level)
	}
	return out, nil
}

// sortRows sorts each row of a rows x k matrix in place (callers check
// finiteness first: NaN has no place in an order).
func sortRows(q []float64, k int) {
	for i := 0; i+k <= len(q); i += k {
		r := q[i : i+k]
		if !sort.Float64sAreSorted(r) {
			sort.Float64s(r)
		}
	}
}

// finiteOrErr reports the first non-finite value of a model output.
func finiteOrErr(q []float64, k int) error {
	for i, v := range q {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("nori: the model produced a non-finite quantile (%v) for query row %d", v, i/k)
		}
	}
	return nil
}
