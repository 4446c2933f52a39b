package prior

import (
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// Tests of Augment as a whole: invariants, determinism, application rates.
// Each augmentation's own effect is tested in augment_each_test.go.

// augProb returns a pointer to the probability field of the named
// augmentation (or missingness mechanism) in c.
func augProb(c *AugmentConfig, name string) *float64 {
	switch name {
	case "power_law_importance":
		return &c.PowerLawImportanceProb
	case "noise_features":
		return &c.NoiseFeaturesProb
	case "correlated_block":
		return &c.CorrelatedBlockProb
	case "monotone_warp":
		return &c.MonotoneWarpProb
	case "heavy_tails":
		return &c.HeavyTailsProb
	case "rescale":
		return &c.RescaleProb
	case "discretise":
		return &c.DiscretiseProb
	case "categorical":
		return &c.CategoricalProb
	case "heteroskedastic_noise":
		return &c.HeteroskedasticProb
	case "target_outliers":
		return &c.TargetOutliersProb
	case "winsorise":
		return &c.WinsoriseProb
	case "duplicate_rows":
		return &c.DuplicateRowsProb
	case "missing_mcar":
		return &c.MissingMCARProb
	case "missing_mar":
		return &c.MissingMARProb
	case "missing_mnar":
		return &c.MissingMNARProb
	case "missing_rows":
		return &c.MissingRowsProb
	case "missing_block":
		return &c.MissingBlockProb
	}
	panic("unknown augmentation " + name)
}

// onlyAug returns the default ranges with every probability zero except
// the named augmentation's, which is one (and MissingProb for a missingness
// mechanism).
func onlyAug(name string) AugmentConfig {
	c := DefaultAugmentConfig()
	for _, n := range AugmentationNames() {
		*augProb(&c, n) = 0
	}
	c.MissingProb = 0
	c.WinsoriseTargetProb = 0
	*augProb(&c, name) = 1
	if len(name) > 8 && name[:8] == "missing_" {
		c.MissingProb = 1
	}
	return c
}

// allAugmentations returns the default ranges with every augmentation and
// missingness mechanism forced on.
func allAugmentations() AugmentConfig {
	c := DefaultAugmentConfig()
	for _, n := range AugmentationNames() {
		*augProb(&c, n) = 1
	}
	c.MissingProb = 1
	c.WinsoriseTargetProb = 1
	return c
}

// normalTable returns a rows x features table of standard normal features
// and a smooth target of all of them.
func normalTable(seed uint64, rows, features int) *Table {
	r := tensor.NewRNG(seed, 99)
	t := NewTable(rows, features)
	FillNormal(r, t.X, 0, 1)
	for i := range rows {
		s := 0.0
		for j := range features {
			s += math.Sin(float64(j+1)*0.7*t.At(i, j)) + 0.5*t.At(i, j)
		}
		t.Y[i] = s
	}
	t.Info.Generator = "test"
	return t
}

func cloneTable(t *Table) *Table {
	c := *t
	c.X = slices.Clone(t.X)
	c.Y = slices.Clone(t.Y)
	c.Categorical = slices.Clone(t.Categorical)
	c.Info.Params = map[string]any{}
	c.Info.Augmentations = slices.Clone(t.Info.Augmentations)
	return &c
}

// checkAugmentInvariants fails unless t is finite except NaN cells in X,
// every row and column keeps an observed feature, categorical columns hold
// non-negative integer codes, and the recorded names are known and in order.
func checkAugmentInvariants(t *testing.T, tab *Table, rows, features int, what string) {
	t.Helper()
	if tab.Rows != rows || tab.Features != features || len(tab.X) != rows*features || len(tab.Y) != rows || len(tab.Categorical) != features {
		t.Fatalf("%s: shape changed to %dx%d", what, tab.Rows, tab.Features)
	}
	if !allFinite(tab.Y) {
		t.Fatalf("%s: non-finite target", what)
	}
	colObserved := make([]bool, features)
	for i := range rows {
		rowObserved := false
		for j := range features {
			v := tab.At(i, j)
			if math.IsInf(v, 0) {
				t.Fatalf("%s: infinite X[%d,%d]", what, i, j)
			}
			if math.IsNaN(v) {
				continue
			}
			rowObserved, colObserved[j] = true, true
			if tab.Categorical[j] && (v != math.Trunc(v) || v < 0) {
				t.Fatalf("%s: categorical X[%d,%d] = %v", what, i, j, v)
			}
		}
		if !rowObserved && features > 0 {
			t.Fatalf("%s: row %d has no observed feature", what, i)
		}
	}
	for j, ok := range colObserved {
		if !ok {
			t.Fatalf("%s: column %d has no observed value", what, j)
		}
	}
	order := AugmentationNames()
	last := -1
	for _, name := range tab.Info.Augmentations {
		k := slices.Index(order, name)
		if k <= last {
			t.Fatalf("%s: augmentations %v unknown or out of order", what, tab.Info.Augmentations)
		}
		last = k
	}
}

func TestAugmentDefaultConfigValid(t *testing.T) {
	if err := DefaultAugmentConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := NoAugment().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultAugmentConfig()
	bad.DiscretiseProb = 1.5
	if err := bad.Validate(); err == nil {
		t.Fatal("DiscretiseProb 1.5 accepted")
	}
	bad = DefaultAugmentConfig()
	bad.CorrelatedBlockRho = [2]float64{0.9, 0.4}
	if err := bad.Validate(); err == nil {
		t.Fatal("reversed CorrelatedBlockRho accepted")
	}
	bad = DefaultAugmentConfig()
	bad.RescaleFactor = [2]float64{0, 10}
	if err := bad.Validate(); err == nil {
		t.Fatal("RescaleFactor starting at 0 (log-uniform) accepted")
	}
	bad = DefaultAugmentConfig()
	bad.DiscretiseBins = [2]int{1, 4}
	if err := bad.Validate(); err == nil {
		t.Fatal("one discretisation bin accepted")
	}
	if len(AugmentationNames()) != 17 {
		t.Fatalf("%d augmentation names, want 17", len(AugmentationNames()))
	}
}

// TestAugmentInvariantsAndDeterminism runs the default augmentations, and
// every augmentation forced on, over tables of the regression-style
// generators of many shapes.
func TestAugmentInvariantsAndDeterminism(t *testing.T) {
	shapes := [][2]int{{4, 1}, {5, 2}, {50, 3}, {128, 16}, {33, 7}}
	configs := map[string]AugmentConfig{"default": DefaultAugmentConfig(), "all": allAugmentations()}
	for cname, cfg := range configs {
		for _, gname := range regressionStyleGenerators {
			g := mustGenerator(t, gname)
			for _, sh := range shapes {
				for seed := range uint64(8) {
					base := g.Generate(tensor.NewRNG(seed, 1), sh[0], sh[1])
					a, b := cloneTable(base), cloneTable(base)
					Augment(tensor.NewRNG(seed, 2), a, cfg)
					Augment(tensor.NewRNG(seed, 2), b, cfg)
					what := cname + "/" + gname
					checkAugmentInvariants(t, a, sh[0], sh[1], what)
					if !reflect.DeepEqual(a.Info, b.Info) || !slices.Equal(a.Categorical, b.Categorical) ||
						!augBitsEqual(a.X, b.X) || !augBitsEqual(a.Y, b.Y) {
						t.Fatalf("%s %v seed %d: Augment not deterministic", what, sh, seed)
					}
				}
			}
		}
	}
}

func augBitsEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestAugmentNothingWithNoAugment(t *testing.T) {
	base := normalTable(1, 40, 5)
	a := cloneTable(base)
	Augment(tensor.NewRNG(1, 1), a, NoAugment())
	if !augBitsEqual(a.X, base.X) || !augBitsEqual(a.Y, base.Y) || len(a.Info.Augmentations) != 0 {
		t.Fatal("NoAugment changed the table")
	}
}

// TestAugmentApplicationRates checks that over many tables each
// augmentation is applied at its configured rate, and each missingness
// mechanism at its rate given that the table has missing values:
// p_m / (1 - prod_k (1 - p_k)), the law of independent draws redrawn until
// one is chosen.
func TestAugmentApplicationRates(t *testing.T) {
	cfg := DefaultAugmentConfig()
	const n = 2500
	counts := map[string]int{}
	missingTables := 0
	for seed := range uint64(n) {
		tab := normalTable(seed%50, 40, 8)
		Augment(tensor.NewRNG(seed, 3), tab, cfg)
		hasMissing := false
		for _, name := range tab.Info.Augmentations {
			counts[name]++
			if len(name) > 8 && name[:8] == "missing_" {
				hasMissing = true
			}
		}
		if hasMissing {
			missingTables++
		}
	}
	within := func(name string, got int, trials int, p float64) {
		t.Helper()
		rate := float64(got) / float64(trials)
		if sd := math.Sqrt(p * (1 - p) / float64(trials)); math.Abs(rate-p) > 4*sd+1e-9 {
			t.Errorf("%s: applied to %.4f of tables, want %.4f (±%.4f)", name, rate, p, 4*sd)
		}
	}
	for _, s := range augmentSteps {
		within(s.name, counts[s.name], n, s.prob(&cfg))
	}
	within("any missingness", missingTables, n, cfg.MissingProb)
	none := 1.0
	for _, m := range missingMechanisms {
		none *= 1 - m.prob(&cfg)
	}
	for _, m := range missingMechanisms {
		within(m.name+" | missing", counts[m.name], missingTables, m.prob(&cfg)/(1-none))
	}
}

// TestAugmentOnEveryGenerator forces every augmentation on the tables of
// every registered generator (constant columns, ties and categorical columns
// included) and checks the invariants.
func TestAugmentOnEveryGenerator(t *testing.T) {
	shapes := [][2]int{{4, 1}, {60, 2}, {60, 12}, {150, 5}}
	cfg := allAugmentations()
	for _, name := range Names() {
		g := mustGenerator(t, name)
		for _, sh := range shapes {
			for seed := range uint64(4) {
				tab := g.Generate(tensor.NewRNG(seed, 21), sh[0], sh[1])
				Augment(tensor.NewRNG(seed, 22), tab, cfg)
				checkAugmentInvariants(t, tab, sh[0], sh[1], "all/"+name)
			}
		}
	}
}
