package prior

// drawInputs returns a rows x features row-major matrix of finite inputs for
// the regression-style generators (regression, quadratic, clean_lowdim,
// lookup): the correlated, varied-marginal columns of correlatedInputs
// (normal, uniform, skewed, heavy-tailed, bimodal; a random factor model
// correlates them in most tables), each put in random units (an offset and a
// scale of 0.5-2x) as raw measurements are. It records the draw in
// p["inputs"]. Row values come from a FastRNG seeded from r.
func drawInputs(r Source, rows, features int, p map[string]any) []float64 {
	cols, desc := correlatedInputs(r, NewFastRNG(r), rows, features)
	x := make([]float64, rows*features)
	for j, c := range cols {
		loc := Normal(r, 0, 1)
		scale := LogUniform(r, 0.5, 2)
		for i, v := range c {
			x[i*features+j] = loc + scale*v
		}
	}
	p["inputs"] = desc
	return x
}
