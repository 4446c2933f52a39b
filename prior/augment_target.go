package prior

import "math"

// Augmentations of the target: noise whose size varies by row, and outliers.

// augHeteroskedastic adds Gaussian noise e_i*sigma_i to y with
// sigma_i ∝ exp(slope*d_i), where d is a robustly standardised feature
// (clipped to ±3) or, in a third of the tables, the target's own level
// (errors that grow with the measured amount). The sigmas are scaled to a
// root-mean-square of scale*std(y), scale from HeteroskedasticScale.
func augHeteroskedastic(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	if t.Rows < 2 {
		return false
	}
	scale := uniformIn(r, c.HeteroskedasticScale)
	slope := Uniform(r, 0.3, 1.2)
	if Bernoulli(r, 0.5) {
		slope = -slope
	}
	driver := -1
	var d []float64
	if num := numericColumns(t); len(num) > 0 && !Bernoulli(r, 1.0/3) {
		driver = Choice(r, num)
		d = t.Column(driver)
	} else {
		d = append([]float64(nil), t.Y...)
	}
	ctr, sc := robustCentreScale(d)
	ms := 0.0
	for i, v := range d {
		z := math.Max(-3, math.Min(3, (v-ctr)/sc))
		d[i] = math.Exp(slope * z)
		ms += d[i] * d[i]
	}
	_, vy := finiteMeanVar(t.Y)
	sy := math.Sqrt(vy)
	if !(sy > 0) {
		sy = 1
	}
	norm := scale * sy / math.Sqrt(ms/float64(t.Rows))
	fr := NewFastRNG(r)
	for i, s := range d {
		t.Y[i] += norm * s * fr.NormFloat64()
	}
	p["driver"] = driver
	p["slope"] = slope
	p["scale"] = scale
	return true
}

// augTargetOutliers shifts a few targets by several robust standard deviations
// (median absolute deviation based, so earlier outliers do not inflate it),
// either direction: typing errors, unit mix-ups, one-off events.
func augTargetOutliers(r Source, t *Table, c *AugmentConfig, p map[string]any) bool {
	m := min(t.Rows, max(1, int(math.Round(uniformIn(r, c.TargetOutliersFrac)*float64(t.Rows)))))
	_, sc := robustCentreScale(t.Y)
	rows := SampleWithoutReplacement(r, t.Rows, m)
	shifts := make([]float64, m)
	for k, i := range rows {
		s := uniformIn(r, c.TargetOutliersSize) * sc
		if Bernoulli(r, 0.5) {
			s = -s
		}
		shifts[k] = s
		t.Y[i] += s
	}
	p["rows"] = rows
	p["shifts"] = shifts
	return true
}
