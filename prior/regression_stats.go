package prior

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// Small column statistics shared by the regression-style generators and the
// augmentations. They skip NaN cells so that they can also be used after
// missingness has been placed.

// finiteMeanVar returns the mean and population variance of the finite
// values of xs (0, 0 when there are none).
func finiteMeanVar(xs []float64) (mean, variance float64) {
	n := 0
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			mean += v
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	mean /= float64(n)
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			d := v - mean
			variance += d * d
		}
	}
	return mean, variance / float64(n)
}

// sortedFinite returns the finite values of xs, sorted ascending.
func sortedFinite(xs []float64) []float64 {
	s := make([]float64, 0, len(xs))
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s = append(s, v)
		}
	}
	sort.Float64s(s)
	return s
}

// quantileSorted returns the q-quantile of sorted (linear interpolation
// between order statistics); sorted must be non-empty.
func quantileSorted(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo < 0 {
		return sorted[0]
	}
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// robustCentreScale returns the median and 1.4826*MAD of the finite values
// of xs (robustCenterScale, which falls back to a mean-deviation scale and
// then to 1, so the scale is always positive): the centre and scale of a
// normal distribution, unmoved by heavy tails.
func robustCentreScale(xs []float64) (centre, scale float64) {
	if !allFinite(xs) {
		xs = sortedFinite(xs)
	}
	return robustCenterScale(xs, make([]float64, 2*len(xs)))
}

// robustZColumns returns the features of a row-major matrix as columns,
// robustly standardised (median, 1.4826*MAD) and clipped to ±clip, so that
// the random functions the generators draw see inputs of unit scale whatever
// the marginals and heavy tails of the columns.
func robustZColumns(x []float64, rows, features int, clip float64) [][]float64 {
	cols := make([][]float64, features)
	col := make([]float64, rows)
	for j := range cols {
		for i := range col {
			col[i] = x[i*features+j]
		}
		c, s := robustCentreScale(col)
		z := make([]float64, rows)
		for i, v := range col {
			z[i] = math.Max(-clip, math.Min(clip, (v-c)/s))
		}
		cols[j] = z
	}
	return cols
}

// normCDF is the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normQuantile is the standard normal quantile function for p in (0, 1).
func normQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// rankGauss maps xs to normal scores Φ⁻¹((rank+0.5)/n), ties sharing their
// mean rank, so the result is a non-decreasing function of xs with an exactly
// normal marginal. NaN cells stay NaN.
func rankGauss(xs []float64) []float64 {
	idx := make([]int, 0, len(xs))
	for i, v := range xs {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sortIndexByValue(idx, xs)
	out := make([]float64, len(xs))
	for i := range out {
		out[i] = math.NaN()
	}
	n := float64(len(idx))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && xs[idx[hi]] == xs[idx[lo]] {
			hi++
		}
		r := 0.5 * float64(lo+hi-1) // mean rank of the tie group
		z := normQuantile((r + 0.5) / n)
		for k := lo; k < hi; k++ {
			out[idx[k]] = z
		}
		lo = hi
	}
	return out
}

// sortIndexByValue sorts the row indices idx by xs[idx], ties by index, so
// the order is the stable one whatever the sort algorithm (pdqsort on an
// index key is faster than a stable sort). xs must not hold NaN at idx.
func sortIndexByValue(idx []int, xs []float64) {
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(xs[a], xs[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// standardiseInPlace rescales xs to mean 0 and standard deviation 1 and
// reports false (leaving xs unchanged) when xs is (numerically) constant.
func standardiseInPlace(xs []float64) bool {
	m, v := finiteMeanVar(xs)
	if !(v > 1e-24*math.Max(1, m*m)) {
		return false
	}
	s := 1 / math.Sqrt(v)
	for i := range xs {
		xs[i] = (xs[i] - m) * s
	}
	return true
}

// powerLawWeights returns n weights (rank+1)^-alpha assigned to a random
// permutation of [0, n), normalised to unit sum of squares: a few dominant
// features and a long tail, as in the importances of real datasets.
func powerLawWeights(perm []int, alpha float64) []float64 {
	w := make([]float64, len(perm))
	ss := 0.0
	for rank, j := range perm {
		w[j] = math.Pow(float64(rank+1), -alpha)
		ss += w[j] * w[j]
	}
	s := 1 / math.Sqrt(ss)
	for j := range w {
		w[j] *= s
	}
	return w
}

// allFinite reports whether every value of xs is finite.
func allFinite(xs []float64) bool {
	for _, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
