package prior

// Additive regression families: the generalised additive model and its
// extension with pairwise interactions.

// familyGAM is f = sum_j w_j g_j(z_j): a random smooth curve per feature
// with power-law importances w (a few strong effects, a long tail of weak
// ones), the structure behind many tabular datasets where effects are
// separable, such as house prices by area, age and location score.
func familyGAM(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	alpha := Uniform(r, 0.5, 2)
	w := powerLawWeights(SampleWithoutReplacement(r, len(z), len(z)), alpha)
	p["importance_alpha"] = alpha
	return additiveTerms(r, z, rows, w)
}

func additiveTerms(r Source, z [][]float64, rows int, w []float64) []float64 {
	f := make([]float64, rows)
	for j, col := range z {
		g := newSmooth1D(r)
		gz, ok := g.evalStandardised(col)
		if !ok {
			continue
		}
		for i, v := range gz {
			f[i] += w[j] * v
		}
	}
	return f
}

// familyAdditivePairwise is a GAM plus products of smooth functions of a few
// feature pairs, f = sum_j w_j g_j(z_j) + sum_(j,k) c_jk h_j(z_j) h_k(z_k):
// effects that mostly add up, with some interactions (dose x weight,
// temperature x humidity).
func familyAdditivePairwise(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	alpha := Uniform(r, 0.5, 2)
	w := powerLawWeights(SampleWithoutReplacement(r, len(z), len(z)), alpha)
	f := additiveTerms(r, z, rows, w)
	p["importance_alpha"] = alpha
	if len(z) < 2 {
		p["pairs"] = [][2]int{}
		return f
	}
	nPairs := IntRange(r, 1, min(8, len(z)))
	strength := Uniform(r, 0.3, 1.2)
	pairs := make([][2]int, 0, nPairs)
	for range nPairs {
		jk := SampleWithoutReplacement(r, len(z), 2)
		pairs = append(pairs, [2]int{jk[0], jk[1]})
		hj, ok1 := newSmooth1D(r).evalStandardised(z[jk[0]])
		hk, ok2 := newSmooth1D(r).evalStandardised(z[jk[1]])
		c := strength * r.NormFloat64()
		if !ok1 || !ok2 {
			continue
		}
		for i := range f {
			f[i] += c * hj[i] * hk[i]
		}
	}
	p["pairs"] = pairs
	p["interaction_strength"] = strength
	return f
}
