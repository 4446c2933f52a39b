package nori

import (
	"math"
	"sort"
)

// quantileTransform maps a column through its training distribution
// (scikit-learn's QuantileTransformer): values are located among nq train
// percentiles taken at evenly spaced levels and mapped to those levels by
// linear interpolation, giving a value in [0, 1] (uniform output) or its
// standard-normal quantile (normal output). Missing values stay missing.
type quantileTransform struct {
	quantiles []float64 // train percentiles at refs, non-decreasing
	refs      []float64 // 0, 1/(nq-1), ..., 1
	normal    bool
}

// normalClip bounds the uniform value before the inverse normal CDF, as
// scikit-learn does (about ±5.2 standard deviations).
const normalClip = 1e-7

// nQuantiles is the reference's coarse rule: n/5 percentiles, at most 256,
// at least 2 (and never more than the values available).
func nQuantiles(n int) int {
	return min(max(n/5, 2), 256, max(n, 2))
}

// fitQuantile fits on the non-missing values vals (not modified, at least one).
func fitQuantile(vals []float64, nq int, normal bool) *quantileTransform {
	s := sortedCopy(vals)
	qt := &quantileTransform{quantiles: make([]float64, nq), refs: make([]float64, nq), normal: normal}
	for i := range nq {
		p := float64(i) / float64(nq-1)
		qt.refs[i] = p
		qt.quantiles[i] = percentileSorted(s, p)
	}
	return qt
}

// percentileSorted is numpy's default (linear) percentile of sorted values.
func percentileSorted(s []float64, p float64) float64 {
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	w := pos - float64(lo)
	if w == 0 {
		return s[lo]
	}
	return s[lo] + w*(s[lo+1]-s[lo])
}

// uniform maps v to [0, 1]: below the smallest percentile 0, above the
// largest 1; on a run of equal percentiles the middle of their levels (the
// mean of the forward and backward interpolation scikit-learn uses, so that
// ties do not all map to one end); between two percentiles linearly.
func (qt *quantileTransform) uniform(v float64) float64 {
	q, r := qt.quantiles, qt.refs
	n := len(q)
	i := sort.SearchFloat64s(q, v)                                // first q[i] >= v
	j := sort.Search(n, func(k int) bool { return q[k] > v }) - 1 // last q[j] <= v
	switch {
	case j < 0:
		return 0
	case i >= n:
		return 1
	case i <= j: // v equals q[i..j]
		return 0.5 * (r[i] + r[j])
	default: // q[j] < v < q[i], i == j+1
		return r[j] + (v-q[j])/(q[i]-q[j])*(r[i]-r[j])
	}
}

// apply transforms one value; NaN stays NaN.
func (qt *quantileTransform) apply(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	u := qt.uniform(v)
	if !qt.normal {
		return u
	}
	u = min(max(u, normalClip), 1-normalClip)
	return math.Sqrt2 * math.Erfinv(2*u-1)
}

// sortedCopy returns the values sorted ascending.
func sortedCopy(v []float64) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s
}

// momentStats returns the mean, population std and Fisher-Pearson skewness
// (m3/m2^1.5) of the values, summed in sorted order so that the result does
// not depend on the order of the rows.
func momentStats(vals []float64) (mean, std, skew float64) {
	if len(vals) == 0 {
		return 0, 0, 0
	}
	s := sortedCopy(vals)
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	var m2 float64
	for _, v := range s {
		m2 += (v - mean) * (v - mean)
	}
	m2 /= float64(len(s))
	std = math.Sqrt(m2)
	if !(std > 0) || math.IsInf(std, 0) {
		return mean, std, 0
	}
	var m3 float64
	for _, v := range s {
		z := (v - mean) / std
		m3 += z * z * z
	}
	return mean, std, m3 / float64(len(s))
}
