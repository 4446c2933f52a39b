package prior

import (
	"math"
	"slices"
	"testing"
)

// within4Sigma reports whether count successes of n trials are within four
// binomial standard deviations of n*p.
func within4Sigma(count, n int, p float64) bool {
	return math.Abs(float64(count)-float64(n)*p) <= 4*math.Sqrt(float64(n)*p*(1-p))+1e-9
}

// TestMixtureShares: over 3000 tables of the reference prior (filter on),
// each generator's share, and each augmentation's rate, is within 4
// binomial sigmas of its configured value. The generator is picked once per
// table and the filter judges the generator's draw before the
// augmentations, so rejections bias neither.
func TestMixtureShares(t *testing.T) {
	p := defaultPrior(t)
	n := 3000
	if testing.Short() {
		n = 600
	}
	counts := map[string]int{}
	augs := map[string]int{}
	attempts := 0
	for i := 0; i < n; i++ {
		tb, err := p.Table(17, uint64(i), 60, 8)
		if err != nil {
			t.Fatal(err)
		}
		counts[tb.Info.Generator]++
		attempts += tb.Info.Attempts
		for _, a := range tb.Info.Augmentations {
			augs[a]++
		}
	}
	total := 0.0
	for _, w := range p.cfg.Shares {
		total += w
	}
	for _, name := range sortedKeys(p.cfg.Shares) {
		want := p.cfg.Shares[name] / total
		t.Logf("%-17s %5d tables (%.4f, configured %.4f)", name, counts[name], float64(counts[name])/float64(n), want)
		if !within4Sigma(counts[name], n, want) {
			t.Errorf("generator %s: %d of %d tables, want %.0f ± 4 sigma", name, counts[name], n, want*float64(n))
		}
		delete(counts, name)
	}
	if len(counts) != 0 {
		t.Errorf("tables from generators outside the config: %v", counts)
	}
	t.Logf("%.3f draws per kept table", float64(attempts)/float64(n))
	want := expectedAugmentRates(p.cfg.Augment)
	for _, name := range AugmentationNames() {
		t.Logf("%-22s %.4f (configured %.4f)", name, float64(augs[name])/float64(n), want[name])
		if !within4Sigma(augs[name], n, want[name]) {
			t.Errorf("augmentation %s on %d of %d kept tables, want %.0f ± 4 sigma", name, augs[name], n, want[name]*float64(n))
		}
	}
}

// augmentRates counts, over n tables of p (index 0..n-1), how many carry
// each augmentation and how many carry any missingness mechanism.
func augmentRates(t *testing.T, p *Prior, n, rows, features int) (map[string]int, int) {
	t.Helper()
	counts := map[string]int{}
	anyMissing := 0
	for i := 0; i < n; i++ {
		tb, err := p.Table(23, uint64(i), rows, features)
		if err != nil {
			t.Fatal(err)
		}
		missing := false
		for _, a := range tb.Info.Augmentations {
			counts[a]++
			missing = missing || slices.ContainsFunc(missingMechanisms, func(m missingMechanism) bool { return m.name == a })
		}
		if missing {
			anyMissing++
		}
	}
	return counts, anyMissing
}

// expectedAugmentRates returns the configured probability of each
// augmentation name (AugmentationNames) being recorded on a table where it
// can act. A table gets missing values with MissingProb; it then gets each
// mechanism k with probability p_k, redrawn until at least one is chosen,
// so mechanism k's overall rate is MissingProb * p_k / (1 - prod(1 - p_j)).
func expectedAugmentRates(c AugmentConfig) map[string]float64 {
	out := map[string]float64{}
	for _, s := range augmentSteps {
		out[s.name] = s.prob(&c)
	}
	none := 1.0
	for _, m := range missingMechanisms {
		none *= 1 - m.prob(&c)
	}
	for _, m := range missingMechanisms {
		out[m.name] = c.MissingProb * m.prob(&c) / (1 - none)
	}
	return out
}

// TestMixtureAugmentRates: each augmentation is applied at its configured
// rate (4 binomial sigmas over 3000 tables). The tables come from an
// all-numeric test generator with the filter off, so that every augmentation
// can act and no rejection biases the rates; the names are prior-B's list
// (AugmentationNames).
func TestMixtureAugmentRates(t *testing.T) {
	p := pipePrior(t, DefaultAugmentConfig(), "pipe_linear")
	p.cfg.Filter.Enabled = false
	n := 3000
	if testing.Short() {
		n = 600
	}
	counts, anyMissing := augmentRates(t, p, n, 60, 8)
	want := expectedAugmentRates(p.cfg.Augment)
	names := AugmentationNames()
	if len(names) != len(want) {
		t.Fatalf("AugmentationNames %v vs configured %v", names, want)
	}
	for _, name := range names {
		t.Logf("%-22s %.4f (configured %.4f)", name, float64(counts[name])/float64(n), want[name])
		if !within4Sigma(counts[name], n, want[name]) {
			t.Errorf("augmentation %s on %d of %d tables, want %.0f ± 4 sigma", name, counts[name], n, want[name]*float64(n))
		}
		delete(counts, name)
	}
	if len(counts) != 0 {
		t.Errorf("unknown augmentation names recorded: %v", counts)
	}
	if !within4Sigma(anyMissing, n, p.cfg.Augment.MissingProb) {
		t.Errorf("%d of %d tables have missing values, want %.0f ± 4 sigma", anyMissing, n, p.cfg.Augment.MissingProb*float64(n))
	}
}
