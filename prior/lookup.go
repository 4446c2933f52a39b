package prior

import (
	"math"
	"sort"

	"github.com/nori-ml/nori/tensor"
)

// The "lookup" generator imitates targets read off a table: price lists
// (price by product category and size), insurance and tax rate tables
// (premium by age band, region and vehicle class), tariffs. The target is
// T[k_1, ..., k_d] for 1-4 key inputs, optionally times a quantity, with
// little or no noise; all other features are irrelevant.
//
// Each key is shown to the model in one of three ways:
//   - "categorical": an integer code with Zipf frequencies (Categorical is set);
//   - "ordinal": the level itself as a small integer (number of rooms, grade);
//   - "banded": a continuous column, the level being its band between random
//     thresholds (age bands, income brackets).
//
// The table T is "multiplicative" (base rate times a factor per key, as in
// rating tables), "additive" (base price plus surcharges) or "random" (an
// arbitrary value per cell).
//
// Parameters recorded in Info.Params: "keys" (feature indices), "key_kinds",
// "levels", "table_mode", "quantity" (feature index or -1), "rounding" (the
// price step, 0 for none), "noise_sd" (relative noise) and "y_scale".

func init() { Register(lookupGen{}) }

type lookupGen struct{}

func (lookupGen) Name() string { return "lookup" }

var lookupKeyKinds = []string{"categorical", "ordinal", "banded"}

func (lookupGen) Generate(r *tensor.RNG, rows, features int) *Table {
	t := NewTable(rows, features)
	p := t.Info.Params
	t.X = drawInputs(r, rows, features, p)

	// Keys and their levels; the number of cells is kept to about a fifth
	// of the rows or fewer so that most cells are seen in a table.
	nKeys := min(features, IntRange(r, 1, 4))
	keys := SampleWithoutReplacement(r, features, nKeys)
	maxCells := max(4, rows/5)
	levels := make([]int, nKeys)
	kinds := make([]string, nKeys)
	cells := 1
	for k := range keys {
		room := max(2, maxCells/cells)
		levels[k] = LogUniformInt(r, 2, max(2, min(12, room)))
		cells *= levels[k]
		kinds[k] = Choice(r, lookupKeyKinds)
	}

	// Draw each key's level per row and write the shown column.
	fr := NewFastRNG(r) // per-row draws
	level := make([][]int, nKeys)
	for k, j := range keys {
		level[k] = drawLookupKey(r, fr, t, j, kinds[k], levels[k])
	}

	mode := WeightedChoice(r, []string{"multiplicative", "additive", "random"}, []float64{0.45, 0.3, 0.25})
	value := lookupTable(r, mode, levels)
	strides := make([]int, nKeys)
	s := 1
	for k := nKeys - 1; k >= 0; k-- {
		strides[k] = s
		s *= levels[k]
	}

	quantity := -1
	if features > nKeys && Bernoulli(r, 0.3) {
		// A quantity column: positive, integer-ish (units bought, area).
		for {
			quantity = r.Intn(features)
			if !containsInt(keys, quantity) {
				break
			}
		}
		hi := LogUniformInt(r, 2, 50)
		for i := range rows {
			t.X[i*features+quantity] = float64(IntRange(fr, 1, hi))
		}
	}

	base := LogUniform(r, 1, 1e4)
	noise := 0.0
	if Bernoulli(r, 0.4) {
		noise = LogUniform(r, 0.005, 0.1)
	}
	for i := range rows {
		cell := 0
		for k := range keys {
			cell += level[k][i] * strides[k]
		}
		v := base * value[cell]
		if quantity >= 0 {
			v *= t.X[i*features+quantity]
		}
		if noise > 0 {
			v *= math.Exp(noise * fr.NormFloat64())
		}
		t.Y[i] = v
	}
	rounding := 0.0
	if Bernoulli(r, 0.5) {
		// Prices are quoted to a few significant digits.
		_, v := finiteMeanVar(t.Y)
		rounding = math.Pow(10, math.Floor(math.Log10(math.Sqrt(v)+base))-2)
		for i := range t.Y {
			t.Y[i] = math.Round(t.Y[i]/rounding) * rounding
		}
	}
	p["keys"] = keys
	p["key_kinds"] = kinds
	p["levels"] = levels
	p["table_mode"] = mode
	p["quantity"] = quantity
	p["rounding"] = rounding
	p["noise_sd"] = noise
	p["y_scale"] = base
	t.Info.Generator = "lookup"
	return t
}

// drawLookupKey draws the level of key column j for every row (row draws
// from fr, structure from r) and writes what the model sees into t.X.
func drawLookupKey(r Source, fr *FastRNG, t *Table, j int, kind string, n int) []int {
	lv := make([]int, t.Rows)
	switch kind {
	case "categorical":
		cdf := ZipfCDF(n, Uniform(r, 0.5, 1.5))
		codes := SampleWithoutReplacement(r, n, n) // codes are labels: not ordered by frequency or value
		for i := range lv {
			lv[i] = SampleCDF(fr, cdf)
			t.X[i*t.Features+j] = float64(codes[lv[i]])
		}
		t.Categorical[j] = true
	case "ordinal":
		start := IntRange(r, 0, 2)
		for i := range lv {
			lv[i] = fr.Intn(n)
			t.X[i*t.Features+j] = float64(start + lv[i])
		}
	default: // banded: thresholds at random quantiles of the existing column
		col := t.Column(j)
		sorted := sortedFinite(col)
		cuts := make([]float64, n-1)
		qs := make([]float64, n-1)
		for k := range qs {
			qs[k] = r.Float64()
		}
		sort.Float64s(qs)
		for k, q := range qs {
			cuts[k] = quantileSorted(sorted, q)
		}
		for i, v := range col {
			b := 0
			for b < len(cuts) && v > cuts[b] {
				b++
			}
			lv[i] = b
		}
	}
	return lv
}

// lookupTable returns the relative value of every cell (row-major over the
// keys' levels), positive and of order 1.
func lookupTable(r Source, mode string, levels []int) []float64 {
	cells := 1
	for _, n := range levels {
		cells *= n
	}
	out := make([]float64, cells)
	switch mode {
	case "random":
		sigma := Uniform(r, 0.3, 1)
		for c := range out {
			out[c] = LogNormal(r, 0, sigma)
		}
		return out
	}
	factors := make([][]float64, len(levels))
	for k, n := range levels {
		sigma := Uniform(r, 0.1, 0.8)
		factors[k] = make([]float64, n)
		for l := range factors[k] {
			if mode == "multiplicative" {
				factors[k][l] = LogNormal(r, 0, sigma)
			} else {
				factors[k][l] = Uniform(r, 0, 2*sigma)
			}
		}
	}
	for c := range out {
		rem := c
		v := 1.0
		if mode == "additive" {
			v = 0.5
		}
		for k := len(levels) - 1; k >= 0; k-- {
			l := rem % levels[k]
			rem /= levels[k]
			if mode == "multiplicative" {
				v *= factors[k][l]
			} else {
				v += factors[k][l]
			}
		}
		out[c] = v
	}
	return out
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}
