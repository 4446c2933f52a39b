package prior

import "math"

// Structured missingness: which cells are missing depends on the mechanism,
// as in real data, where values are rarely missing completely at random.
// Missing cells are NaN in X; Y is never touched. The mechanisms read the
// complete values (hidden) from a copy taken before any cell is removed.

// missingMechanism is one way of placing NaN cells.
type missingMechanism struct {
	name  string
	prob  func(c *AugmentConfig) float64
	apply func(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool
}

var missingMechanisms = []missingMechanism{
	{"missing_mcar", func(c *AugmentConfig) float64 { return c.MissingMCARProb }, missMCAR},
	{"missing_mar", func(c *AugmentConfig) float64 { return c.MissingMARProb }, missMAR},
	{"missing_mnar", func(c *AugmentConfig) float64 { return c.MissingMNARProb }, missMNAR},
	{"missing_rows", func(c *AugmentConfig) float64 { return c.MissingRowsProb }, missRows},
	{"missing_block", func(c *AugmentConfig) float64 { return c.MissingBlockProb }, missBlock},
}

// augMissing decides whether t gets missing values (MissingProb) and which
// mechanisms (each with its probability, redrawn until at least one is
// chosen), applies them, restores cells so that every row keeps an observed
// feature and every column an observed value, and returns the names of the
// mechanisms applied.
func augMissing(r Source, t *Table, c *AugmentConfig, details map[string]any) []string {
	if !Bernoulli(r, c.MissingProb) || t.Features < 2 || t.Rows < 2 {
		return nil
	}
	var chosen []missingMechanism
	for len(chosen) == 0 {
		for _, m := range missingMechanisms {
			if Bernoulli(r, m.prob(c)) {
				chosen = append(chosen, m)
			}
		}
		if len(chosen) == 0 && sumMissingProbs(c) == 0 {
			return nil
		}
	}
	hidden := append([]float64(nil), t.X...)
	var names []string
	for _, m := range chosen {
		p := map[string]any{}
		if m.apply(r, t, hidden, c, p) {
			names = append(names, m.name)
			details[m.name] = p
		}
	}
	restoreObserved(r, t, hidden)
	return names
}

func sumMissingProbs(c *AugmentConfig) float64 {
	s := 0.0
	for _, m := range missingMechanisms {
		s += m.prob(c)
	}
	return s
}

// restoreObserved puts back a random hidden cell in every row whose features
// are all missing and in every column with no observed value.
func restoreObserved(r Source, t *Table, hidden []float64) {
	f := t.Features
	for i := range t.Rows {
		row := t.X[i*f : (i+1)*f]
		observed := false
		for _, v := range row {
			if !math.IsNaN(v) {
				observed = true
				break
			}
		}
		if !observed {
			j := r.Intn(f)
			row[j] = hidden[i*f+j]
		}
	}
	for j := range f {
		observed := false
		for i := range t.Rows {
			if !math.IsNaN(t.X[i*f+j]) {
				observed = true
				break
			}
		}
		if !observed {
			i := r.Intn(t.Rows)
			t.X[i*f+j] = hidden[i*f+j]
		}
	}
}

// missMCAR blanks cells of some columns independently at a per-column rate:
// random recording failures.
func missMCAR(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool {
	cols := SampleWithoutReplacement(r, t.Features, fracCount(r, c.MissingColsFrac, t.Features, 1))
	rates := make([]float64, len(cols))
	fr := NewFastRNG(r)
	for k, j := range cols {
		rates[k] = uniformIn(r, c.MissingRate)
		for i := range t.Rows {
			if fr.Float64() < rates[k] {
				t.X[i*t.Features+j] = math.NaN()
			}
		}
	}
	p["columns"] = cols
	p["rates"] = rates
	return true
}

// missMAR blanks cells of some columns with a probability that is a
// logistic function of another column of the same row (older patients
// skip a test; small firms do not report a figure). The driver is read from
// the hidden complete values.
func missMAR(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool {
	cols := SampleWithoutReplacement(r, t.Features, fracCount(r, c.MissingColsFrac, t.Features, 1))
	drivers := make([]int, len(cols))
	for k, j := range cols {
		d := r.Intn(t.Features - 1)
		if d >= j {
			d++
		}
		drivers[k] = d
		missLogistic(r, t, hidden, j, d, uniformIn(r, c.MissingRate))
	}
	p["columns"] = cols
	p["drivers"] = drivers
	return true
}

// missMNAR blanks cells of some columns with a probability that is a
// logistic function of the cell's own hidden value (high incomes and low
// test scores go unreported), the hardest case for a model: the observed
// values are a biased sample.
func missMNAR(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool {
	cols := SampleWithoutReplacement(r, t.Features, fracCount(r, c.MissingColsFrac, t.Features, 1))
	slopes := make([]float64, len(cols))
	for k, j := range cols {
		slopes[k] = missLogistic(r, t, hidden, j, j, uniformIn(r, c.MissingRate))
	}
	p["columns"] = cols
	p["slopes"] = slopes
	return true
}

// missLogistic blanks cells of column j with probability
// sigmoid(slope*z_i + b), z the robustly standardised hidden driver column
// (clipped to ±3), slope of random sign and size 1-3, b set so that the
// mean probability is rate. It returns the slope.
func missLogistic(r Source, t *Table, hidden []float64, j, driver int, rate float64) float64 {
	f := t.Features
	z := make([]float64, t.Rows)
	for i := range z {
		z[i] = hidden[i*f+driver]
	}
	ctr, sc := robustCentreScale(z)
	slope := Uniform(r, 1, 3)
	if Bernoulli(r, 0.5) {
		slope = -slope
	}
	for i, v := range z {
		z[i] = slope * math.Max(-3, math.Min(3, (v-ctr)/sc))
	}
	b := logisticShiftForMean(z, rate)
	fr := NewFastRNG(r)
	for i, v := range z {
		if fr.Float64() < 1/(1+math.Exp(-(v+b))) {
			t.X[i*f+j] = math.NaN()
		}
	}
	return slope
}

// logisticShiftForMean returns b such that the mean of sigmoid(z_i + b) is
// rate (to 1e-6): Newton steps from logit(rate), safeguarded by bisection
// on [-40, 40] (the mean is increasing in b).
func logisticShiftForMean(z []float64, rate float64) float64 {
	lo, hi := -40.0, 40.0
	rate = math.Max(1e-9, math.Min(1-1e-9, rate))
	b := math.Log(rate / (1 - rate))
	for range 100 {
		m, d := 0.0, 0.0
		for _, v := range z {
			p := 1 / (1 + math.Exp(-(v + b)))
			m += p
			d += p * (1 - p)
		}
		m /= float64(len(z))
		d /= float64(len(z))
		if math.Abs(m-rate) < 1e-6 {
			break
		}
		if m < rate {
			lo = b
		} else {
			hi = b
		}
		next := b - (m-rate)/d
		if !(d > 0) || !(next > lo && next < hi) {
			next = 0.5 * (lo + hi)
		}
		b = next
	}
	return b
}

// missRows blanks all features but one (kept at random) in a few rows:
// records where almost nothing but the outcome was captured. One feature is
// kept so that no row is entirely empty, which would carry no information
// about its target and which the model's normalisation could only fill with
// column means.
func missRows(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool {
	m := fracCount(r, c.MissingRowsFrac, t.Rows, 1)
	rows := SampleWithoutReplacement(r, t.Rows, m)
	f := t.Features
	for _, i := range rows {
		keep := r.Intn(f)
		for j := range f {
			if j != keep {
				t.X[i*f+j] = math.NaN()
			}
		}
	}
	p["rows"] = len(rows)
	return true
}

// missBlock blanks one set of columns (at most all but one) over one set of
// rows: a data source merged for part of the records only, or a sensor
// outage affecting a group of channels.
func missBlock(r Source, t *Table, hidden []float64, c *AugmentConfig, p map[string]any) bool {
	nc := min(t.Features-1, fracCount(r, c.MissingBlockCols, t.Features, 1))
	cols := SampleWithoutReplacement(r, t.Features, nc)
	rows := SampleWithoutReplacement(r, t.Rows, fracCount(r, c.MissingBlockRows, t.Rows, 1))
	for _, i := range rows {
		for _, j := range cols {
			t.X[i*t.Features+j] = math.NaN()
		}
	}
	p["columns"] = cols
	p["rows"] = len(rows)
	return true
}
