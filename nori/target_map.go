package nori

import "math"

// Target maps. The network sees a context's targets standardised (mean 0,
// std 1). On a skewed target (prices, wages, counts) most rows then crowd
// into a small part of the range the network resolves while a few outliers
// take the rest; a monotone transform that makes the target more symmetric
// first spreads the bulk out. Because the model predicts quantiles and a
// quantile of a monotone increasing transform of y is the transform of y's
// quantile, a member can predict the quantiles of the transformed target and
// map each back through the inverse: the result is still a predictive
// distribution of y, and the mean of the mapped-back quantiles an estimate
// of y's mean (not the back-transformed mean of the transformed target,
// which would be biased).
//
// With target power on (WithTargetPower; off by default), every odd-indexed member sees the
// Yeo-Johnson transform of the standardised target (preprocess_adaptive.go),
// its λ fitted by maximum likelihood on the training target; even members
// see the target as it is. Member weighting (ensemble_weights.go) scores
// both kinds in the target's own units, so it favours whichever view
// predicts the table better. (The map's λ is fitted on every training
// target, the held-out folds' too: one scalar of the target's shape, not a
// fit of their values.)

// targetMap maps a context's raw targets to the network's units and back.
type targetMap struct {
	mean, std float64 // standardisation of the raw target
	// power: whether the Yeo-Johnson transform with lambda follows the
	// standardisation, then a second standardisation (tMean, tStd).
	power       bool
	lambda      float64
	tMean, tStd float64
	// zLo, zHi bound the inverse, in standardised units: the training
	// range widened by half its width on each side, so that a tail
	// quantile far outside the data cannot map back to an overflowing
	// value through a steep inverse.
	zLo, zHi float64
}

// fitTargetMap fits the map of y (the context's raw targets); power asks for
// the Yeo-Johnson step, which is skipped when y is constant.
func fitTargetMap(y []float64, power bool) *targetMap {
	t := &targetMap{}
	t.mean, t.std = targetStats(y)
	if !power || len(y) < 2 {
		return t
	}
	z := make([]float64, len(y))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range y {
		z[i] = (v - t.mean) / t.std
		lo, hi = min(lo, z[i]), max(hi, z[i])
	}
	if !(hi > lo) {
		return t
	}
	t.lambda = maxLikelihoodLambda(z, 1, yeoJohnson, yeoJohnsonLogJacobian)
	u := make([]float64, len(z))
	for i, v := range z {
		u[i] = yeoJohnson(v, t.lambda)
	}
	t.tMean, t.tStd = targetStats(u)
	w := hi - lo
	t.power, t.zLo, t.zHi = true, lo-w/2, hi+w/2
	return t
}

// forward maps a raw target to network units.
func (t *targetMap) forward(y float64) float64 {
	z := (y - t.mean) / t.std
	if !t.power {
		return z
	}
	return (yeoJohnson(z, t.lambda) - t.tMean) / t.tStd
}

// inverse maps a network output back to the target's units.
func (t *targetMap) inverse(v float64) float64 {
	if !t.power {
		return v*t.std + t.mean
	}
	u := v*t.tStd + t.tMean
	z := yeoJohnsonInverse(u, t.lambda)
	switch {
	case math.IsNaN(z) && u >= 0, z > t.zHi:
		// NaN: u beyond the transform's range (above -1/λ for λ < 0,
		// below 1/(2-λ) for λ > 2), where the inverse tends to ±Inf.
		z = t.zHi
	case math.IsNaN(z), z < t.zLo:
		z = t.zLo
	}
	return z*t.std + t.mean
}
