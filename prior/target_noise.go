package prior

import (
	"math"
)

// Target noise for the generators that draw an explicit signal f(x): the
// share of the target's variance the features can explain (R²) is drawn
// first and the noise is sized to it, so the prior covers the whole range
// from noiseless simulators to noisy survey data, with most tables in the
// 0.8-0.95 band typical of real regression benchmarks.

// exactR2Prob is the probability that a table is noiseless (R² = 1).
const exactR2Prob = 0.05

// drawTargetR2 draws a table's target R²: 1 with probability 0.05, else
// 0.7 + 0.28*Beta(4, 1.5) (mean ≈ 0.92, support [0.7, 0.98]).
func drawTargetR2(r Source) float64 {
	if Bernoulli(r, exactR2Prob) {
		return 1
	}
	return 0.7 + 0.28*Beta(r, 4, 1.5)
}

// noiseSDForR2 returns the standard deviation of the Gaussian noise that
// gives var(f)/(var(f)+sd²) = r2 for a signal of variance varF.
func noiseSDForR2(varF, r2 float64) float64 {
	if r2 >= 1 || varF <= 0 {
		return 0
	}
	return math.Sqrt(varF * (1 - r2) / r2)
}

// addNoiseForR2 returns y = f + e with e ~ N(0, sd²) sized by noiseSDForR2
// from the sample variance of f, and the sd used. f is not modified.
func addNoiseForR2(r Source, f []float64, r2 float64) (y []float64, sd float64) {
	_, v := finiteMeanVar(f)
	sd = noiseSDForR2(v, r2)
	y = make([]float64, len(f))
	if sd > 0 {
		FillNormal(r, y, 0, sd)
	}
	for i, fi := range f {
		y[i] += fi
	}
	return y, sd
}

// affineTarget puts y (and its noiseless signal f, when non-nil) on a random
// scale and offset, as real targets come in arbitrary units (prices in
// thousands, rates in fractions); it does not change any R².
func affineTarget(r Source, y, f []float64, p map[string]any) {
	scale := LogUniform(r, 0.05, 200)
	if Bernoulli(r, 0.2) {
		scale = -scale
	}
	shift := 0.0
	if Bernoulli(r, 0.7) {
		shift = Normal(r, 0, 3) * math.Abs(scale)
	}
	m, _ := finiteMeanVar(y)
	for i := range y {
		y[i] = (y[i]-m)*scale + shift
		if f != nil {
			f[i] = (f[i]-m)*scale + shift
		}
	}
	p["y_scale"] = scale
	p["y_shift"] = shift
}
