package prior

import (
	"math"
)

// Augmentations that change the feature columns' values (or, for the
// power-law importances, the target's dependence on them). Each returns
// whether it changed anything and records its parameters in p.

// augClip bounds the standardised features the power-law term's curves see,
// as inputClip does for the regression families.
const augClip = 5

// augPowerLawImportance adds to y a term lambda*std(y)*h, h = sum_j w_j
// g_j(z_j) standardised, over the numeric features: random smooth curves g_j
// of the robustly standardised features with weights w_j ∝ rank^-alpha over
// a random ranking. Real targets depend on a few features strongly and on
// many weakly; this imposes that profile whatever the generator did.
func augPowerLawImportance(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := numericColumns(t)
	if len(cols) == 0 || t.Rows < 2 {
		return false
	}
	alpha := uniformIn(r, c.PowerLawAlpha)
	lambda := uniformIn(r, c.PowerLawStrength)
	w := powerLawWeights(SampleWithoutReplacement(r, len(cols), len(cols)), alpha)
	h := make([]float64, t.Rows)
	z := make([]float64, t.Rows)
	for k, j := range cols {
		for i := range z {
			z[i] = t.X[i*t.Features+j]
		}
		ctr, sc := robustCentreScale(z)
		for i, v := range z {
			z[i] = math.Max(-augClip, math.Min(augClip, (v-ctr)/sc))
		}
		g, ok := newSmooth1D(r).evalStandardised(z)
		if !ok {
			continue
		}
		for i, v := range g {
			h[i] += w[k] * v
		}
	}
	if !standardiseInPlace(h) {
		return false
	}
	_, vy := finiteMeanVar(t.Y)
	sy := math.Sqrt(vy)
	if !(sy > 0) {
		sy = 1
	}
	for i, v := range h {
		t.Y[i] += lambda * sy * v
	}
	weights := make(map[int]float64, len(cols))
	for k, j := range cols {
		weights[j] = w[k]
	}
	p["alpha"] = alpha
	p["strength"] = lambda
	p["weights"] = weights
	return true
}

// augNoiseFeatures replaces ceil(frac*F) columns (frac from
// NoiseFeaturesFrac, at most F-1) with noise independent of everything else:
// the irrelevant columns every real table has (IDs, unrelated measurements).
// A numeric column becomes noise of a random shape (normal, uniform,
// log-normal, Student-t, small integers) with the old column's mean and
// standard deviation, so its units do not give it away; a categorical column
// becomes random codes over as many levels. Whatever the old column
// contributed to y becomes unexplained variation, as for an unmeasured cause.
func augNoiseFeatures(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	if t.Features < 4 {
		return false
	}
	k := min(t.Features-1, max(1, int(math.Ceil(uniformIn(r, c.NoiseFeaturesFrac)*float64(t.Features)))))
	cols := SampleWithoutReplacement(r, t.Features, k)
	fr := NewFastRNG(r)
	kinds := make([]string, k)
	for n, j := range cols {
		col := t.Column(j)
		if t.Categorical[j] {
			levels := 1
			for _, v := range col {
				levels = max(levels, int(v)+1)
			}
			for i := range col {
				col[i] = float64(fr.Intn(levels))
			}
			kinds[n] = "codes"
			setColumn(t, j, col)
			continue
		}
		m, v := finiteMeanVar(col)
		sd := math.Sqrt(v)
		if !(sd > 0) {
			sd = 1
		}
		kind := Choice(r, []string{"normal", "uniform", "lognormal", "student_t", "integer"})
		kinds[n] = kind
		df := Uniform(r, 2.5, 6)
		hi := IntRange(r, 2, 20)
		for i := range col {
			switch kind {
			case "normal":
				col[i] = fr.NormFloat64()
			case "uniform":
				col[i] = fr.Float64()
			case "lognormal":
				col[i] = math.Exp(fr.NormFloat64())
			case "student_t":
				col[i] = StudentT(fr, df)
			default:
				col[i] = float64(fr.Intn(hi + 1))
			}
		}
		if !standardiseInPlace(col) {
			FillNormal(fr, col, 0, 1)
		}
		for i := range col {
			col[i] = m + sd*col[i]
		}
		setColumn(t, j, col)
	}
	p["columns"] = cols
	p["kinds"] = kinds
	return true
}

// augCorrelatedBlock builds blocks of correlated numeric columns, like the
// redundant measurements of one quantity (several sensors, height and
// weight). In each block every member m is replaced by
// rho*a + sqrt(1-rho²)*e, where a is the standardised anchor and e the
// standardised part of m orthogonal to a: the sample correlation with the
// anchor is exactly rho, and m's old values are still a linear function of
// the anchor and the new column, so no signal is lost. Members keep their
// mean and standard deviation.
func augCorrelatedBlock(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	free := numericColumns(t)
	if len(free) < 2 || t.Rows < 3 {
		return false
	}
	Shuffle(r, free)
	nBlocks := IntRange(r, c.CorrelatedBlockCount[0], c.CorrelatedBlockCount[1])
	var blocks [][]int
	var rhos []float64
	for range nBlocks {
		if len(free) < 2 {
			break
		}
		size := min(len(free), IntRange(r, c.CorrelatedBlockSize[0], c.CorrelatedBlockSize[1]))
		members := free[:size]
		free = free[size:]
		rho := uniformIn(r, c.CorrelatedBlockRho)
		anchor := t.Column(members[0])
		if !standardiseInPlace(anchor) {
			continue
		}
		block := []int{members[0]}
		for _, m := range members[1:] {
			col := t.Column(m)
			mean, v := finiteMeanVar(col)
			sd := math.Sqrt(v)
			if !standardiseInPlace(col) {
				continue
			}
			dot := 0.0
			for i, a := range anchor {
				dot += a * col[i]
			}
			dot /= float64(t.Rows)
			for i, a := range anchor {
				col[i] -= dot * a
			}
			if !standardiseInPlace(col) {
				continue // m is (almost) a copy of the anchor already
			}
			// Re-orthogonalise after centring so the correlation is exact.
			dot = 0
			for i, a := range anchor {
				dot += a * col[i]
			}
			dot /= float64(t.Rows)
			for i, a := range anchor {
				col[i] -= dot * a
			}
			standardiseInPlace(col)
			s := math.Sqrt(1 - rho*rho)
			for i, a := range anchor {
				col[i] = mean + sd*(rho*a+s*col[i])
			}
			setColumn(t, m, col)
			block = append(block, m)
		}
		if len(block) > 1 {
			blocks = append(blocks, block)
			rhos = append(rhos, rho)
		}
	}
	if len(blocks) == 0 {
		return false
	}
	p["blocks"] = blocks
	p["rho"] = rhos
	return true
}

// warpKinds are the increasing functions augMonotoneWarp chooses from.
var warpKinds = []string{"exp", "log", "power", "sigmoid", "kumaraswamy"}

// augMonotoneWarp passes some numeric columns through random increasing
// functions of their robustly standardised values, then restores the
// column's mean and standard deviation: the same quantity measured on
// another scale (decibels, log-prices, saturating sensors). The order of the
// values never changes.
func augMonotoneWarp(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := pickColumns(r, numericColumns(t), c.MonotoneWarpFrac)
	var done []int
	var kinds []string
	for _, j := range cols {
		kind := Choice(r, warpKinds)
		a := Uniform(r, 0.3, 1.5)
		b := LogUniform(r, 0.3, 3)
		col := t.Column(j)
		mean, v := finiteMeanVar(col)
		ctr, sc := robustCentreScale(col)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range col {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		w := make([]float64, len(col))
		for i, x := range col {
			z := (x - ctr) / sc
			switch kind {
			case "exp":
				w[i] = math.Exp(math.Min(a*z, 50))
			case "log":
				w[i] = math.Copysign(math.Log1p(b*math.Abs(z)), z)
			case "power":
				w[i] = math.Copysign(math.Pow(math.Abs(z), b), z)
			case "sigmoid":
				w[i] = 1 / (1 + math.Exp(-a*z))
			default: // Kumaraswamy CDF on the min-max scaled column
				u := 0.0
				if hi > lo {
					u = (x - lo) / (hi - lo)
				}
				w[i] = 1 - math.Pow(1-math.Pow(u, a*2), b)
			}
		}
		if !standardiseInPlace(w) {
			continue
		}
		sd := math.Sqrt(v)
		for i := range w {
			w[i] = mean + sd*w[i]
		}
		setColumn(t, j, w)
		done = append(done, j)
		kinds = append(kinds, kind)
	}
	if len(done) == 0 {
		return false
	}
	p["columns"] = done
	p["kinds"] = kinds
	return true
}

// augHeavyTails gives some numeric columns heavy tails while keeping their
// order: values are replaced by their normal scores z (rankGauss), mapped
// through Tukey's h transform z*exp(h*z²/2), and put back at the column's
// robust centre and scale. Financial and count data have such tails.
func augHeavyTails(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := pickColumns(r, numericColumns(t), c.HeavyTailsFrac)
	hs := make([]float64, len(cols))
	for k, j := range cols {
		h := uniformIn(r, c.HeavyTailsH)
		hs[k] = h
		col := t.Column(j)
		ctr, sc := robustCentreScale(col)
		z := rankGauss(col)
		for i, v := range z {
			z[i] = ctr + sc*v*math.Exp(h*v*v/2)
		}
		setColumn(t, j, z)
	}
	if len(cols) == 0 {
		return false
	}
	p["columns"] = cols
	p["h"] = hs
	return true
}

// augRescale multiplies some numeric columns by factors log-uniform in
// RescaleFactor: the same quantities in other units.
func augRescale(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	cols := pickColumns(r, numericColumns(t), c.RescaleFrac)
	factors := make([]float64, len(cols))
	for k, j := range cols {
		f := LogUniform(r, c.RescaleFactor[0], c.RescaleFactor[1])
		factors[k] = f
		for i := range t.Rows {
			t.X[i*t.Features+j] *= f
		}
	}
	if len(cols) == 0 {
		return false
	}
	p["columns"] = cols
	p["factors"] = factors
	return true
}

// sortedIndexByValue returns the row indices ordered by col (ties in row
// order).
func sortedIndexByValue(col []float64) []int {
	idx := make([]int, len(col))
	for i := range idx {
		idx[i] = i
	}
	sortIndexByValue(idx, col)
	return idx
}
