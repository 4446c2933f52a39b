package prior

import "math"

// Input features for the functional generators (rff_gp, tree_ensemble,
// sparse_nonlinear). Real features are correlated (they share latent causes:
// size, wealth, age) and their marginals are skewed, bounded or heavy-tailed,
// so the inputs are a Gaussian factor model pushed through per-column
// monotone warps.

// inputMarginals are the per-column warps of correlatedInputs.
var inputMarginals = []string{"normal", "uniform", "lognormal", "heavy", "skew", "bimodal"}

var inputMarginalWeights = []float64{0.35, 0.2, 0.15, 0.1, 0.1, 0.1}

// correlatedInputs returns features columns of rows values: a factor model
// with 0-4 latent factors (so correlations range from none to strong),
// each column then warped to one of inputMarginals and standardised to zero
// mean and unit variance. Structure comes from r, row values from f. The
// returned map describes the draw for Info.Params.
func correlatedInputs(r Source, f *FastRNG, rows, features int) ([][]float64, map[string]any) {
	nFactors := IntRange(r, 0, min(4, features))
	strength := Uniform(r, 0.3, 2) // loading scale: larger means stronger correlation
	load := make([]float64, features*nFactors)
	for i := range load {
		load[i] = Normal(r, 0, strength)
	}
	z := make([][]float64, nFactors)
	for k := range z {
		z[k] = make([]float64, rows)
		f.FillNormal(z[k], 0, 1)
	}
	cols := make([][]float64, features)
	slab := make([]float64, rows*features)
	counts := map[string]int{}
	for j := range cols {
		c := slab[j*rows : (j+1)*rows]
		f.FillNormal(c, 0, 1)
		norm := 1.0
		for k := 0; k < nFactors; k++ {
			l := load[j*nFactors+k]
			norm += l * l
			for i, v := range z[k] {
				c[i] += l * v
			}
		}
		inv := 1 / math.Sqrt(norm)
		for i := range c {
			c[i] *= inv
		}
		m := WeightedChoice(r, inputMarginals, inputMarginalWeights)
		counts[m]++
		warpMarginal(r, m, c)
		zscoreInPlace(c)
		cols[j] = c
	}
	return cols, map[string]any{"factors": nFactors, "loading_scale": strength, "marginals": counts}
}

// warpMarginal applies a monotone (or, for "bimodal", a mixing) transform to
// a standard normal column.
func warpMarginal(r Source, kind string, c []float64) {
	switch kind {
	case "uniform":
		for i, v := range c {
			c[i] = 0.5 * math.Erfc(-v/math.Sqrt2) // the normal CDF
		}
	case "lognormal":
		s := Uniform(r, 0.4, 1.2)
		for i, v := range c {
			c[i] = math.Exp(s * v)
		}
	case "heavy":
		// sinh stretches the tails like a Student-t with few degrees of freedom.
		a := Uniform(r, 0.5, 1.5)
		for i, v := range c {
			c[i] = math.Sinh(a * v)
		}
	case "skew":
		p := Uniform(r, 1.5, 3)
		for i, v := range c {
			if v > 0 {
				c[i] = math.Pow(v, p)
			}
		}
	case "bimodal":
		// Shift the rows above a random quantile: two subpopulations that
		// keep the column's rank order (and so its correlations).
		cut := Normal(r, 0, 0.7)
		gap := Uniform(r, 2, 5)
		for i, v := range c {
			if v > cut {
				c[i] = v + gap
			}
		}
	}
}

// fillTable writes the feature columns and target into t.
func fillTable(t *Table, cols [][]float64, y []float64) {
	f := t.Features
	for j, c := range cols {
		for i, v := range c {
			t.X[i*f+j] = v
		}
	}
	copy(t.Y, y)
}
