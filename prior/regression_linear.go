package prior

import (
	"math"
)

// Linear and polynomial regression families. z holds the robustly
// standardised, clipped input columns; each family returns the noiseless
// signal f, one value per row, and records its parameters in p.

// familyDenseLinear is f = sum_j beta_j z_j with Student-t(3) coefficients:
// every feature matters, a few much more than the rest, like the linear
// structure of econometric and physical-measurement tables.
func familyDenseLinear(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	beta := make([]float64, len(z))
	for j := range beta {
		beta[j] = StudentT(r, 3)
	}
	p["coef"] = beta
	return linearCombination(z, rows, beta)
}

// familySparseLinear is a linear function of a few features (1 to a quarter
// of them), the rest irrelevant: tables where most recorded columns carry no
// signal.
func familySparseLinear(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	k := IntRange(r, 1, max(1, (len(z)+3)/4))
	active := SampleWithoutReplacement(r, len(z), k)
	beta := make([]float64, len(z))
	for _, j := range active {
		// Magnitudes bounded away from zero so every active feature counts.
		mag := 0.3 + math.Abs(r.NormFloat64())
		if Bernoulli(r, 0.5) {
			mag = -mag
		}
		beta[j] = mag
	}
	p["active"] = active
	p["coef"] = beta
	return linearCombination(z, rows, beta)
}

func linearCombination(z [][]float64, rows int, beta []float64) []float64 {
	f := make([]float64, rows)
	for j, col := range z {
		if beta[j] == 0 {
			continue
		}
		for i, v := range col {
			f[i] += beta[j] * v
		}
	}
	return f
}

// familyPolynomial is a random polynomial surface of degree 2 or 3 in 2-5
// features: a few random monomials with normal coefficients, like response
// surfaces fitted in process engineering. Inputs are clipped to ±3 so the
// cubic terms do not turn heavy-tailed inputs into extreme targets.
func familyPolynomial(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	d := min(len(z), IntRange(r, 2, 5))
	active := SampleWithoutReplacement(r, len(z), d)
	deg := IntRange(r, 2, 3)
	terms := IntRange(r, 3, 10)
	f := make([]float64, rows)
	mono := make([][]int, terms)
	coef := make([]float64, terms)
	for t := range terms {
		k := IntRange(r, 1, deg)
		m := make([]int, k)
		for q := range m {
			m[q] = Choice(r, active)
		}
		mono[t] = m
		coef[t] = r.NormFloat64()
		for i := range f {
			v := coef[t]
			for _, j := range m {
				v *= math.Max(-3, math.Min(3, z[j][i]))
			}
			f[i] += v
		}
	}
	p["active"] = active
	p["degree"] = deg
	p["monomials"] = mono
	p["coef"] = coef
	return f
}
