package prior

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// Realism augmentations: the generators draw clean numeric tables; real
// tables have irrelevant columns, redundant (correlated) columns, binned and
// categorical columns, skewed units, heavy tails, gaps, duplicated records,
// top-coded values and noisy, outlying targets. Augment applies a random
// subset of these transformations to each table, so that the model learns to
// cope with them.
//
// Every augmentation keeps the table's shape (columns are replaced, never
// added), keeps X and Y finite except for the NaN cells placed by the
// missingness augmentations (in X only, never in Y), and records its name in
// Info.Augmentations and its parameters in Info.Params["augment"][name].

// AugmentConfig holds the probability that each augmentation is applied to a
// table and the ranges its parameters are drawn from (uniformly, unless a
// field says otherwise). Ranges are [lo, hi] pairs. "Fraction of columns"
// counts the eligible columns: numeric (non-categorical) ones for the
// transformations of values.
type AugmentConfig struct {
	// PowerLawImportanceProb adds to the target a sum of smooth functions of
	// the numeric features with importances w_j ∝ rank^-alpha over a random
	// ranking, scaled to PowerLawStrength times the target's std: a few
	// features dominate and the rest have a long tail of small effects.
	PowerLawImportanceProb float64
	PowerLawAlpha          [2]float64 // default [0.5, 2]
	PowerLawStrength       [2]float64 // default [0.3, 1]

	// NoiseFeaturesProb replaces a fraction NoiseFeaturesFrac of the columns
	// (at least one, never all) with pure noise in the column's own units.
	// Tables with fewer than 4 features are left alone.
	NoiseFeaturesProb float64
	NoiseFeaturesFrac [2]float64 // default [0, 0.15]

	// CorrelatedBlockProb turns 1..CorrelatedBlockCount groups of
	// CorrelatedBlockSize numeric columns into correlated blocks: each member
	// becomes rho*anchor + sqrt(1-rho²)*(its part orthogonal to the anchor),
	// so its sample correlation with the block's anchor is exactly rho and no
	// information is lost (the old column is a linear function of the anchor
	// and the new one).
	CorrelatedBlockProb  float64
	CorrelatedBlockRho   [2]float64 // default [0.4, 0.95]
	CorrelatedBlockSize  [2]int     // default [2, 5]
	CorrelatedBlockCount [2]int     // default [1, 3]

	// MonotoneWarpProb passes a fraction MonotoneWarpFrac of the numeric
	// columns through random increasing functions (exp, signed log, signed
	// power, sigmoid, Kumaraswamy CDF): measurements on other scales.
	MonotoneWarpProb float64
	MonotoneWarpFrac [2]float64 // default [0.1, 0.6]

	// HeavyTailsProb gives a fraction HeavyTailsFrac of the numeric columns
	// Tukey-h tails (rank-normal scores z mapped to z*exp(h*z²/2)), keeping
	// the order of the values.
	HeavyTailsProb float64
	HeavyTailsFrac [2]float64 // default [0.1, 0.5]
	HeavyTailsH    [2]float64 // default [0.1, 0.5]

	// RescaleProb multiplies a fraction RescaleFrac of the numeric columns by
	// factors drawn log-uniformly from RescaleFactor (units: mm vs m).
	RescaleProb   float64
	RescaleFrac   [2]float64 // default [0.2, 1]
	RescaleFactor [2]float64 // default [0.1, 10], log-uniform

	// DiscretiseProb bins a fraction DiscretiseFrac of the numeric columns
	// into DiscretiseBins (log-uniform integer) bins: equal-width bins shown
	// as their midpoints (rounded readings) or quantile bins shown as
	// ordinal codes 0..bins-1 (brackets, grades).
	DiscretiseProb float64
	DiscretiseFrac [2]float64 // default [0.4, 0.98]
	DiscretiseBins [2]int     // default [2, 32], log-uniform

	// CategoricalProb turns a fraction CategoricalFrac of the columns (at
	// least one) into categorical columns: integer codes 0..levels-1 with
	// levels drawn log-uniformly from CategoricalLevels and category
	// frequencies following Zipf's law with exponent CategoricalZipf. Each
	// category is a contiguous range of the old values and the codes are
	// shuffled labels, so the column keeps coarse information but no order.
	// Table.Categorical is set for these columns.
	CategoricalProb   float64
	CategoricalFrac   [2]float64 // default [0.05, 0.3]
	CategoricalLevels [2]int     // default [2, 30], log-uniform
	CategoricalZipf   [2]float64 // default [0.5, 2]

	// HeteroskedasticProb adds zero-mean Gaussian noise to the target whose
	// standard deviation varies by row as exp(slope*d) (d a standardised
	// feature, or the target's own level), with root-mean-square
	// HeteroskedasticScale times the target's std.
	HeteroskedasticProb  float64
	HeteroskedasticScale [2]float64 // default [0.05, 0.5]

	// TargetOutliersProb shifts a fraction TargetOutliersFrac of the targets
	// (at least one) by TargetOutliersSize robust standard deviations, either
	// sign: data-entry errors and unmodelled events. The defaults keep the
	// outliers' share of the target variance below about one half, so that
	// tables with outliers still pass the learnability filter.
	TargetOutliersProb float64
	TargetOutliersFrac [2]float64 // default [0.002, 0.02]
	TargetOutliersSize [2]float64 // default [3, 8]

	// WinsoriseProb clips a fraction WinsoriseFrac of the numeric columns at
	// their q and 1-q quantiles (or only at 1-q: top-coding), q from
	// WinsoriseTail; with WinsoriseTargetProb the target is clipped too.
	WinsoriseProb       float64
	WinsoriseFrac       [2]float64 // default [0.2, 1]
	WinsoriseTail       [2]float64 // default [0.005, 0.05]
	WinsoriseTargetProb float64    // default 0.3

	// DuplicateRowsProb overwrites a fraction DuplicateRowsFrac of the rows
	// (at least one, at most half) with exact copies (features and target)
	// of other rows: records entered twice.
	DuplicateRowsProb float64
	DuplicateRowsFrac [2]float64 // default [0.01, 0.15]

	// MissingProb is the probability that a table gets missing values at
	// all. Such a table then gets each mechanism below independently with
	// its probability, redrawn until at least one is chosen. Missing cells
	// are NaN in X; the target is never missing. Tables with fewer than 2
	// features or rows get none. After all mechanisms, every row keeps at
	// least one observed feature and every column at least one observed
	// value (cells are restored where needed).
	MissingProb float64
	// MissingMCARProb: cells of a fraction MissingColsFrac of the columns go
	// missing completely at random, at a rate per column from MissingRate.
	MissingMCARProb float64
	// MissingMARProb: as MCAR but the probability of a cell being missing is
	// a logistic function of another (observed) column of the same row.
	MissingMARProb float64
	// MissingMNARProb: as MAR but driven by the cell's own (hidden) value,
	// such as incomes that high earners do not report.
	MissingMNARProb float64
	// MissingRowsProb: a fraction MissingRowsFrac of the rows lose all their
	// features but one (kept at random): records with almost nothing but
	// the outcome. Whole rows are never blanked, so every row keeps some
	// feature information.
	MissingRowsProb float64
	// MissingBlockProb: one random set of rows (a fraction MissingBlockRows)
	// misses one random set of columns (a fraction MissingBlockCols, at most
	// all but one) together: a source merged for part of the records.
	MissingBlockProb float64
	MissingColsFrac  [2]float64 // default [0.1, 0.6]
	MissingRate      [2]float64 // default [0.02, 0.3]
	MissingRowsFrac  [2]float64 // default [0.01, 0.1]
	MissingBlockRows [2]float64 // default [0.05, 0.4]
	MissingBlockCols [2]float64 // default [0.02, 0.5]
}

// DefaultAugmentConfig returns the augmentation mix of the reference prior.
// The reference gives the ranges (0-15% noise features, rho 0.4-0.95,
// discretised columns 40-98% of columns in many tables, rescaling 0.1-10x,
// missingness in ~15% of tables); the per-table probabilities of the other
// augmentations are ours, chosen so that a typical table carries two to
// four augmentations.
func DefaultAugmentConfig() AugmentConfig {
	return AugmentConfig{
		PowerLawImportanceProb: 0.2, PowerLawAlpha: [2]float64{0.5, 2}, PowerLawStrength: [2]float64{0.3, 1},
		NoiseFeaturesProb: 0.5, NoiseFeaturesFrac: [2]float64{0, 0.15},
		CorrelatedBlockProb: 0.3, CorrelatedBlockRho: [2]float64{0.4, 0.95},
		CorrelatedBlockSize: [2]int{2, 5}, CorrelatedBlockCount: [2]int{1, 3},
		MonotoneWarpProb: 0.3, MonotoneWarpFrac: [2]float64{0.1, 0.6},
		HeavyTailsProb: 0.2, HeavyTailsFrac: [2]float64{0.1, 0.5}, HeavyTailsH: [2]float64{0.1, 0.5},
		RescaleProb: 0.5, RescaleFrac: [2]float64{0.2, 1}, RescaleFactor: [2]float64{0.1, 10},
		DiscretiseProb: 0.5, DiscretiseFrac: [2]float64{0.4, 0.98}, DiscretiseBins: [2]int{2, 32},
		CategoricalProb: 0.3, CategoricalFrac: [2]float64{0.05, 0.3},
		CategoricalLevels: [2]int{2, 30}, CategoricalZipf: [2]float64{0.5, 2},
		HeteroskedasticProb: 0.25, HeteroskedasticScale: [2]float64{0.05, 0.5},
		TargetOutliersProb: 0.15, TargetOutliersFrac: [2]float64{0.002, 0.02}, TargetOutliersSize: [2]float64{3, 8},
		WinsoriseProb: 0.15, WinsoriseFrac: [2]float64{0.2, 1}, WinsoriseTail: [2]float64{0.005, 0.05},
		WinsoriseTargetProb: 0.3,
		DuplicateRowsProb:   0.1, DuplicateRowsFrac: [2]float64{0.01, 0.15},
		MissingProb:     0.15,
		MissingMCARProb: 0.5, MissingMARProb: 0.35, MissingMNARProb: 0.35, MissingRowsProb: 0.15, MissingBlockProb: 0.2,
		MissingColsFrac: [2]float64{0.1, 0.6}, MissingRate: [2]float64{0.02, 0.3},
		MissingRowsFrac: [2]float64{0.01, 0.1}, MissingBlockRows: [2]float64{0.05, 0.4},
		MissingBlockCols: [2]float64{0.02, 0.5},
	}
}

// NoAugment returns a configuration that applies nothing.
func NoAugment() AugmentConfig { return AugmentConfig{} }

// Validate reports the first invalid field of c, by name. The ranges of an
// augmentation whose probability is zero are not checked.
func (c AugmentConfig) Validate() error {
	probs := []struct {
		name string
		v    float64
	}{
		{"PowerLawImportanceProb", c.PowerLawImportanceProb}, {"NoiseFeaturesProb", c.NoiseFeaturesProb},
		{"CorrelatedBlockProb", c.CorrelatedBlockProb}, {"MonotoneWarpProb", c.MonotoneWarpProb},
		{"HeavyTailsProb", c.HeavyTailsProb}, {"RescaleProb", c.RescaleProb},
		{"DiscretiseProb", c.DiscretiseProb}, {"CategoricalProb", c.CategoricalProb},
		{"HeteroskedasticProb", c.HeteroskedasticProb}, {"TargetOutliersProb", c.TargetOutliersProb},
		{"WinsoriseProb", c.WinsoriseProb}, {"WinsoriseTargetProb", c.WinsoriseTargetProb},
		{"DuplicateRowsProb", c.DuplicateRowsProb}, {"MissingProb", c.MissingProb},
		{"MissingMCARProb", c.MissingMCARProb}, {"MissingMARProb", c.MissingMARProb},
		{"MissingMNARProb", c.MissingMNARProb}, {"MissingRowsProb", c.MissingRowsProb},
		{"MissingBlockProb", c.MissingBlockProb},
	}
	for _, p := range probs {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("prior: augment %s = %v, want a probability in [0, 1]", p.name, p.v)
		}
	}
	if c.MissingProb > 0 && c.MissingMCARProb+c.MissingMARProb+c.MissingMNARProb+c.MissingRowsProb+c.MissingBlockProb == 0 {
		return fmt.Errorf("prior: augment MissingProb = %v but every missingness mechanism has probability 0", c.MissingProb)
	}
	ranges := []struct {
		name   string
		v      [2]float64
		prob   float64 // the range is only used (and checked) when prob > 0
		lo, hi float64 // allowed bounds
		pos    bool    // lo must be > 0 (log-uniform)
	}{
		{"PowerLawAlpha", c.PowerLawAlpha, c.PowerLawImportanceProb, 0, 10, false},
		{"PowerLawStrength", c.PowerLawStrength, c.PowerLawImportanceProb, 0, 100, false},
		{"NoiseFeaturesFrac", c.NoiseFeaturesFrac, c.NoiseFeaturesProb, 0, 1, false},
		{"CorrelatedBlockRho", c.CorrelatedBlockRho, c.CorrelatedBlockProb, -1, 1, false},
		{"MonotoneWarpFrac", c.MonotoneWarpFrac, c.MonotoneWarpProb, 0, 1, false},
		{"HeavyTailsFrac", c.HeavyTailsFrac, c.HeavyTailsProb, 0, 1, false},
		{"HeavyTailsH", c.HeavyTailsH, c.HeavyTailsProb, 0, 1, false},
		{"RescaleFrac", c.RescaleFrac, c.RescaleProb, 0, 1, false},
		{"RescaleFactor", c.RescaleFactor, c.RescaleProb, 0, 1e6, true},
		{"DiscretiseFrac", c.DiscretiseFrac, c.DiscretiseProb, 0, 1, false},
		{"CategoricalFrac", c.CategoricalFrac, c.CategoricalProb, 0, 1, false},
		{"CategoricalZipf", c.CategoricalZipf, c.CategoricalProb, 0, 10, false},
		{"HeteroskedasticScale", c.HeteroskedasticScale, c.HeteroskedasticProb, 0, 100, false},
		{"TargetOutliersFrac", c.TargetOutliersFrac, c.TargetOutliersProb, 0, 0.5, false},
		{"TargetOutliersSize", c.TargetOutliersSize, c.TargetOutliersProb, 0, 1e6, false},
		{"WinsoriseFrac", c.WinsoriseFrac, c.WinsoriseProb, 0, 1, false},
		{"WinsoriseTail", c.WinsoriseTail, c.WinsoriseProb, 0, 0.5, false},
		{"DuplicateRowsFrac", c.DuplicateRowsFrac, c.DuplicateRowsProb, 0, 0.5, false},
		{"MissingColsFrac", c.MissingColsFrac, c.MissingProb, 0, 1, false},
		{"MissingRate", c.MissingRate, c.MissingProb, 0, 1, false},
		{"MissingRowsFrac", c.MissingRowsFrac, c.MissingProb, 0, 1, false},
		{"MissingBlockRows", c.MissingBlockRows, c.MissingProb, 0, 1, false},
		{"MissingBlockCols", c.MissingBlockCols, c.MissingProb, 0, 1, false},
	}
	for _, rg := range ranges {
		lo, hi := rg.v[0], rg.v[1]
		if rg.prob == 0 {
			continue
		}
		if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || lo < rg.lo || hi > rg.hi || (rg.pos && !(lo > 0)) {
			return fmt.Errorf("prior: augment %s = %v, want lo <= hi within [%v, %v]%s",
				rg.name, rg.v, rg.lo, rg.hi, map[bool]string{true: " and lo > 0", false: ""}[rg.pos])
		}
	}
	ints := []struct {
		name   string
		v      [2]int
		prob   float64
		lo, hi int
	}{
		{"CorrelatedBlockSize", c.CorrelatedBlockSize, c.CorrelatedBlockProb, 2, 1 << 20},
		{"CorrelatedBlockCount", c.CorrelatedBlockCount, c.CorrelatedBlockProb, 1, 1 << 20},
		{"DiscretiseBins", c.DiscretiseBins, c.DiscretiseProb, 2, 1 << 20},
		{"CategoricalLevels", c.CategoricalLevels, c.CategoricalProb, 2, 1 << 20},
	}
	for _, rg := range ints {
		if rg.prob > 0 && (rg.v[0] > rg.v[1] || rg.v[0] < rg.lo || rg.v[1] > rg.hi) {
			return fmt.Errorf("prior: augment %s = %v, want lo <= hi, lo >= %d", rg.name, rg.v, rg.lo)
		}
	}
	return nil
}

// augmentStep is one augmentation in Augment's fixed order.
type augmentStep struct {
	name  string
	prob  func(c *AugmentConfig) float64
	apply func(r Source, t *Table, c *AugmentConfig, p map[string]any) bool
}

// augmentSteps is the fixed order. The target's power-law term comes first
// so it uses the generator's features, not noise columns put in later;
// value transformations precede binning and categorical coding (so bins and
// codes stay few and integer); target noise precedes winsorising (which may
// clip its outliers) and duplication (so duplicates are exact); missingness
// comes last, on the final values.
var augmentSteps = []augmentStep{
	{"power_law_importance", func(c *AugmentConfig) float64 { return c.PowerLawImportanceProb }, augPowerLawImportance},
	{"noise_features", func(c *AugmentConfig) float64 { return c.NoiseFeaturesProb }, augNoiseFeatures},
	{"correlated_block", func(c *AugmentConfig) float64 { return c.CorrelatedBlockProb }, augCorrelatedBlock},
	{"monotone_warp", func(c *AugmentConfig) float64 { return c.MonotoneWarpProb }, augMonotoneWarp},
	{"heavy_tails", func(c *AugmentConfig) float64 { return c.HeavyTailsProb }, augHeavyTails},
	{"rescale", func(c *AugmentConfig) float64 { return c.RescaleProb }, augRescale},
	{"discretise", func(c *AugmentConfig) float64 { return c.DiscretiseProb }, augDiscretise},
	{"categorical", func(c *AugmentConfig) float64 { return c.CategoricalProb }, augCategorical},
	{"heteroskedastic_noise", func(c *AugmentConfig) float64 { return c.HeteroskedasticProb }, augHeteroskedastic},
	{"target_outliers", func(c *AugmentConfig) float64 { return c.TargetOutliersProb }, augTargetOutliers},
	{"winsorise", func(c *AugmentConfig) float64 { return c.WinsoriseProb }, augWinsorise},
	{"duplicate_rows", func(c *AugmentConfig) float64 { return c.DuplicateRowsProb }, augDuplicateRows},
}

// AugmentationNames returns every name Augment can record, in application
// order.
func AugmentationNames() []string {
	out := make([]string, 0, len(augmentSteps)+len(missingMechanisms))
	for _, s := range augmentSteps {
		out = append(out, s.name)
	}
	for _, m := range missingMechanisms {
		out = append(out, m.name)
	}
	return out
}

// Augment applies a random subset of the augmentations to t in place, in
// the fixed order of AugmentNames, each with its probability in cfg, and
// appends the name of each one applied to t.Info.Augmentations. An
// augmentation whose coin came up but which found nothing to act on (no
// numeric column, too few rows) is not recorded. t must hold finite values;
// cfg is assumed valid (see AugmentConfig.Validate).
func Augment(r *tensor.RNG, t *Table, cfg AugmentConfig) {
	if t.Rows == 0 || t.Features == 0 {
		return
	}
	if t.Info.Params == nil {
		t.Info.Params = map[string]any{}
	}
	details, _ := t.Info.Params["augment"].(map[string]any)
	if details == nil {
		details = map[string]any{}
	}
	for _, s := range augmentSteps {
		if !Bernoulli(r, s.prob(&cfg)) {
			continue
		}
		p := map[string]any{}
		if s.apply(r, t, &cfg, p) {
			t.Info.Augmentations = append(t.Info.Augmentations, s.name)
			details[s.name] = p
		}
	}
	for _, name := range augMissing(r, t, &cfg, details) {
		t.Info.Augmentations = append(t.Info.Augmentations, name)
	}
	if len(details) > 0 {
		t.Info.Params["augment"] = details
	}
}

// uniformIn draws uniformly from a [lo, hi] range.
func uniformIn(r Source, rg [2]float64) float64 { return Uniform(r, rg[0], rg[1]) }

// fracCount returns how many of n items a fraction drawn from rg selects:
// at least lo (1 or 0) and at most n.
func fracCount(r Source, rg [2]float64, n, lo int) int {
	return min(n, max(lo, int(math.Round(uniformIn(r, rg)*float64(n)))))
}

// numericColumns returns the indices of the non-categorical features.
func numericColumns(t *Table) []int {
	var out []int
	for j := range t.Features {
		if !t.Categorical[j] {
			out = append(out, j)
		}
	}
	return out
}

// pickColumns returns a random fraction (drawn from rg, at least one) of
// cols, in random order; nil when cols is empty.
func pickColumns(r Source, cols []int, rg [2]float64) []int {
	if len(cols) == 0 {
		return nil
	}
	k := fracCount(r, rg, len(cols), 1)
	out := make([]int, k)
	for i, idx := range SampleWithoutReplacement(r, len(cols), k) {
		out[i] = cols[idx]
	}
	return out
}

// setColumn writes c into feature j of t.
func setColumn(t *Table, j int, c []float64) {
	for i, v := range c {
		t.X[i*t.Features+j] = v
	}
}
