package prior

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// Each augmentation, forced on alone, does what its doc comment says.

// applyOnly augments a copy of base with only the named augmentation and
// returns it with its recorded parameters; it fails if the augmentation was
// not recorded.
func applyOnly(t *testing.T, base *Table, name string, seed uint64) (*Table, map[string]any) {
	t.Helper()
	a := cloneTable(base)
	Augment(tensor.NewRNG(seed, 5), a, onlyAug(name))
	if !slices.Equal(a.Info.Augmentations, []string{name}) {
		t.Fatalf("%s: recorded %v", name, a.Info.Augmentations)
	}
	checkAugmentInvariants(t, a, base.Rows, base.Features, name)
	return a, a.Info.Params["augment"].(map[string]any)[name].(map[string]any)
}

func corr(a, b []float64) float64 {
	ma, va := finiteMeanVar(a)
	mb, vb := finiteMeanVar(b)
	c := 0.0
	for i := range a {
		c += (a[i] - ma) * (b[i] - mb)
	}
	return c / float64(len(a)) / math.Sqrt(va*vb)
}

func TestAugmentNoiseFeatures(t *testing.T) {
	for seed := range uint64(30) {
		base := normalTable(seed, 500, 20)
		a, p := applyOnly(t, base, "noise_features", seed)
		cols := p["columns"].([]int)
		if len(cols) < 1 || len(cols) > 3 { // ceil(0.15*20)
			t.Fatalf("seed %d: %d noise columns of 20", seed, len(cols))
		}
		for j := range a.Features {
			old, cur := base.Column(j), a.Column(j)
			if !slices.Contains(cols, j) {
				if !augBitsEqual(old, cur) {
					t.Fatalf("column %d changed but not listed", j)
				}
				continue
			}
			if c := corr(old, cur); math.Abs(c) > 0.2 {
				t.Fatalf("seed %d: noise column %d correlates %.2f with the old one", seed, j, c)
			}
			if c := corr(cur, a.Y); math.Abs(c) > 0.2 {
				t.Fatalf("seed %d: noise column %d correlates %.2f with y", seed, j, c)
			}
			m0, v0 := finiteMeanVar(old)
			m1, v1 := finiteMeanVar(cur)
			if math.Abs(m0-m1) > 1e-9 || math.Abs(v0-v1) > 1e-9*v0 {
				t.Fatalf("seed %d: noise column %d has mean/var %v/%v, old %v/%v", seed, j, m1, v1, m0, v0)
			}
		}
	}
}

func TestAugmentCorrelatedBlock(t *testing.T) {
	for seed := range uint64(30) {
		base := normalTable(seed, 300, 12)
		a, p := applyOnly(t, base, "correlated_block", seed)
		blocks := p["blocks"].([][]int)
		rhos := p["rho"].([]float64)
		for b, blk := range blocks {
			if rhos[b] < 0.4 || rhos[b] > 0.95 {
				t.Fatalf("rho %v outside [0.4, 0.95]", rhos[b])
			}
			anchor := a.Column(blk[0])
			for _, m := range blk[1:] {
				if c := corr(anchor, a.Column(m)); math.Abs(c-rhos[b]) > 1e-9 {
					t.Fatalf("seed %d: corr(anchor, member) = %v, want rho %v", seed, c, rhos[b])
				}
				// No information lost: the old column is a linear function
				// of the anchor and the new column.
				if r2 := linearR2(base.Column(m), anchor, a.Column(m)); r2 < 1-1e-9 {
					t.Fatalf("seed %d: old column recovered with R² %v", seed, r2)
				}
			}
		}
	}
}

// linearR2 is the R² of the least-squares fit of y on [1, a, b].
func linearR2(y, a, b []float64) float64 {
	my, vy := finiteMeanVar(y)
	ma, va := finiteMeanVar(a)
	mb, vb := finiteMeanVar(b)
	cab, cay, cby := 0.0, 0.0, 0.0
	n := float64(len(y))
	for i := range y {
		cab += (a[i] - ma) * (b[i] - mb) / n
		cay += (a[i] - ma) * (y[i] - my) / n
		cby += (b[i] - mb) * (y[i] - my) / n
	}
	det := va*vb - cab*cab
	ba := (cay*vb - cby*cab) / det
	bb := (cby*va - cay*cab) / det
	return (ba*cay + bb*cby) / vy
}

func TestAugmentMonotoneWarpKeepsOrder(t *testing.T) {
	kinds := map[string]bool{}
	for seed := range uint64(40) {
		base := normalTable(seed, 200, 8)
		a, p := applyOnly(t, base, "monotone_warp", seed)
		for k, j := range p["columns"].([]int) {
			kinds[p["kinds"].([]string)[k]] = true
			old, cur := base.Column(j), a.Column(j)
			idx := sortedIndexByValue(old)
			for q := 1; q < len(idx); q++ {
				if cur[idx[q]] < cur[idx[q-1]] {
					t.Fatalf("seed %d: warp %s reversed the order of column %d", seed, p["kinds"].([]string)[k], j)
				}
			}
			if augBitsEqual(old, cur) {
				t.Fatalf("seed %d: column %d unchanged", seed, j)
			}
		}
	}
	if len(kinds) != len(warpKinds) {
		t.Errorf("warp kinds seen: %v", kinds)
	}
}

func kurtosis(xs []float64) float64 {
	m, v := finiteMeanVar(xs)
	s := 0.0
	for _, x := range xs {
		d := (x - m) * (x - m)
		s += d * d
	}
	return s / float64(len(xs)) / (v * v)
}

func TestAugmentHeavyTails(t *testing.T) {
	for seed := range uint64(20) {
		base := normalTable(seed, 2000, 6)
		a, p := applyOnly(t, base, "heavy_tails", seed)
		for k, j := range p["columns"].([]int) {
			h := p["h"].([]float64)[k]
			old, cur := base.Column(j), a.Column(j)
			k0, k1 := kurtosis(old), kurtosis(cur)
			// Tukey h >= 0.1 gives kurtosis well above the normal's 3.
			if k1 < k0+1 || k1 < 4 {
				t.Fatalf("seed %d: h=%.2f kurtosis %.2f -> %.2f", seed, h, k0, k1)
			}
			idx := sortedIndexByValue(old)
			for q := 1; q < len(idx); q++ {
				if cur[idx[q]] < cur[idx[q-1]] {
					t.Fatalf("seed %d: heavy tails changed the order", seed)
				}
			}
		}
	}
}

func TestAugmentRescale(t *testing.T) {
	base := normalTable(3, 50, 10)
	a, p := applyOnly(t, base, "rescale", 3)
	for k, j := range p["columns"].([]int) {
		f := p["factors"].([]float64)[k]
		if f < 0.1 || f > 10 {
			t.Fatalf("factor %v outside [0.1, 10]", f)
		}
		for i := range base.Rows {
			if math.Abs(a.At(i, j)-f*base.At(i, j)) > 1e-12*math.Abs(f*base.At(i, j)) {
				t.Fatalf("column %d not scaled by %v", j, f)
			}
		}
	}
}

func uniqueCount(xs []float64) int {
	m := map[float64]bool{}
	for _, v := range xs {
		m[v] = true
	}
	return len(m)
}

func TestAugmentDiscretise(t *testing.T) {
	modes := map[string]bool{}
	for seed := range uint64(40) {
		base := normalTable(seed, 400, 20)
		a, p := applyOnly(t, base, "discretise", seed)
		cols := p["columns"].([]int)
		if len(cols) < 8 || len(cols) > 20 { // round(0.4*20) .. round(0.98*20)
			t.Fatalf("seed %d: %d of 20 columns discretised", seed, len(cols))
		}
		for k, j := range cols {
			bins := p["bins"].([]int)[k]
			mode := p["modes"].([]string)[k]
			modes[mode] = true
			if bins < 2 || bins > 32 {
				t.Fatalf("bins %d", bins)
			}
			if u := uniqueCount(a.Column(j)); u > bins {
				t.Fatalf("seed %d: %s column %d has %d unique values for %d bins", seed, mode, j, u, bins)
			}
			if mode == "quantile" {
				for _, v := range a.Column(j) {
					if v != math.Trunc(v) || v < 0 || v >= float64(bins) {
						t.Fatalf("quantile code %v not in 0..%d", v, bins-1)
					}
				}
			}
			// Binning keeps the order (ties allowed).
			old, cur := base.Column(j), a.Column(j)
			idx := sortedIndexByValue(old)
			for q := 1; q < len(idx); q++ {
				if cur[idx[q]] < cur[idx[q-1]] {
					t.Fatalf("binning reversed the order")
				}
			}
		}
	}
	if len(modes) != 2 {
		t.Errorf("modes seen: %v", modes)
	}
}

func TestAugmentCategoricalZipfCodes(t *testing.T) {
	for seed := range uint64(40) {
		base := normalTable(seed, 1000, 10)
		a, p := applyOnly(t, base, "categorical", seed)
		cols := p["columns"].([]int)
		for k, j := range cols {
			if !a.Categorical[j] {
				t.Fatalf("column %d not marked categorical", j)
			}
			levels := p["levels"].([]int)[k]
			s := p["zipf_s"].([]float64)[k]
			counts := make([]int, levels)
			for _, v := range a.Column(j) {
				if v != math.Trunc(v) || v < 0 || v >= float64(levels) {
					t.Fatalf("code %v not in 0..%d", v, levels-1)
				}
				counts[int(v)]++
			}
			// Sorted frequencies follow Zipf's law to within rounding.
			sort.Sort(sort.Reverse(sort.IntSlice(counts)))
			cdf := ZipfCDF(levels, s)
			prev := 0.0
			for q, c := range counts {
				want := (cdf[q] - prev) * float64(base.Rows)
				prev = cdf[q]
				if math.Abs(float64(c)-want) > 2 {
					t.Fatalf("seed %d: rank %d category has %d rows, Zipf(%.2f) wants %.1f", seed, q, c, s, want)
				}
			}
			// Each category is a contiguous range of the old values.
			old := base.Column(j)
			idx := sortedIndexByValue(old)
			seen := map[float64]bool{}
			for q, i := range idx {
				code := a.At(i, j)
				if q > 0 && code != a.At(idx[q-1], j) {
					if seen[code] {
						t.Fatalf("category %v is not contiguous in the old values", code)
					}
				}
				seen[code] = true
			}
		}
	}
}

func TestAugmentHeteroskedasticNoise(t *testing.T) {
	agree, total := 0, 0
	for seed := range uint64(60) {
		base := normalTable(seed, 2000, 4)
		a, p := applyOnly(t, base, "heteroskedastic_noise", seed)
		driver := p["driver"].(int)
		if driver < 0 {
			continue
		}
		slope := p["slope"].(float64)
		// Mean squared noise in the top third of the driver against the
		// bottom third: larger where exp(slope*d) is larger.
		d := base.Column(driver)
		idx := sortedIndexByValue(d)
		third := len(idx) / 3
		lo, hi := 0.0, 0.0
		for q := range third {
			e := a.Y[idx[q]] - base.Y[idx[q]]
			lo += e * e
			e = a.Y[idx[len(idx)-1-q]] - base.Y[idx[len(idx)-1-q]]
			hi += e * e
		}
		total++
		if (hi > lo) == (slope > 0) {
			agree++
		}
	}
	if total < 20 || agree < total-1 {
		t.Fatalf("noise grew with exp(slope*driver) in %d of %d tables", agree, total)
	}
}

func TestAugmentTargetOutliers(t *testing.T) {
	for seed := range uint64(20) {
		base := normalTable(seed, 1000, 4)
		a, p := applyOnly(t, base, "target_outliers", seed)
		rows := p["rows"].([]int)
		if len(rows) < 1 || len(rows) > 20 {
			t.Fatalf("%d outliers in 1000 rows", len(rows))
		}
		_, sc := robustCentreScale(base.Y)
		changed := 0
		for i := range a.Y {
			if d := math.Abs(a.Y[i] - base.Y[i]); d > 0 {
				changed++
				if d < 3*sc-1e-9 || d > 8*sc+1e-9 {
					t.Fatalf("outlier shift %.2f robust sds, want 3-8", d/sc)
				}
			}
		}
		if changed != len(rows) {
			t.Fatalf("%d targets changed, %d outliers recorded", changed, len(rows))
		}
	}
}

func TestAugmentWinsorise(t *testing.T) {
	for seed := range uint64(20) {
		base := normalTable(seed, 1000, 6)
		a, p := applyOnly(t, base, "winsorise", seed)
		for k, j := range p["columns"].([]int) {
			q := p["tails"].([]float64)[k]
			upperOnly := p["upper_only"].([]bool)[k]
			old := sortedFinite(base.Column(j))
			cur := a.Column(j)
			hi := quantileSorted(old, 1-q)
			lo := quantileSorted(old, q)
			atHi, atLo, minCur := 0, 0, math.Inf(1)
			for _, v := range cur {
				if v > hi {
					t.Fatalf("value %v above the %v quantile %v", v, 1-q, hi)
				}
				if v == hi {
					atHi++
				}
				if v == lo {
					atLo++
				}
				minCur = math.Min(minCur, v)
			}
			// About q*n values are clipped onto each clipped tail.
			if want := int(q * float64(len(cur)-1)); atHi < want {
				t.Fatalf("%d values at the upper clip, want >= %d", atHi, want)
			}
			if upperOnly && minCur != old[0] {
				t.Fatalf("top-coded column lost its minimum")
			}
			if !upperOnly && (minCur < lo || atLo < int(q*float64(len(cur)-1))) {
				t.Fatalf("lower tail not clipped (min %v, clip %v, %d at clip)", minCur, lo, atLo)
			}
		}
	}
}

func TestAugmentDuplicateRows(t *testing.T) {
	for seed := range uint64(20) {
		base := normalTable(seed, 200, 5)
		a, p := applyOnly(t, base, "duplicate_rows", seed)
		m := p["count"].(int)
		if m < 2 || m > 30 { // round(0.01*200) .. round(0.15*200)
			t.Fatalf("%d duplicates in 200 rows", m)
		}
		// Rows (features and target) that occur more than once.
		type key [6]float64
		seen := map[key]int{}
		for i := range a.Rows {
			var k key
			copy(k[:5], a.X[i*5:(i+1)*5])
			k[5] = a.Y[i]
			seen[k]++
		}
		dups := 0
		for _, c := range seen {
			dups += c - 1
		}
		if dups != m {
			t.Fatalf("%d duplicated rows found, %d recorded", dups, m)
		}
	}
}

// missingFrac returns the fraction of NaN cells of column j.
func missingFrac(t *Table, j int) float64 {
	n := 0
	for i := range t.Rows {
		if math.IsNaN(t.At(i, j)) {
			n++
		}
	}
	return float64(n) / float64(t.Rows)
}

func TestAugmentMissingMCAR(t *testing.T) {
	base := normalTable(4, 4000, 10)
	a, p := applyOnly(t, base, "missing_mcar", 4)
	cols := p["columns"].([]int)
	for j := range a.Features {
		k := slices.Index(cols, j)
		got := missingFrac(a, j)
		if k < 0 {
			if got != 0 {
				t.Fatalf("column %d not chosen but %.3f missing", j, got)
			}
			continue
		}
		if want := p["rates"].([]float64)[k]; math.Abs(got-want) > 4*math.Sqrt(want*(1-want)/4000) {
			t.Fatalf("column %d: %.3f missing, rate %.3f", j, got, want)
		}
	}
}

// missingShift returns mean(driver | cell missing) - mean(driver | observed)
// in units of the driver's standard deviation.
func missingShift(a *Table, j int, driver []float64) float64 {
	var sm, so float64
	var nm, no int
	for i := range a.Rows {
		if math.IsNaN(a.At(i, j)) {
			sm += driver[i]
			nm++
		} else {
			so += driver[i]
			no++
		}
	}
	_, v := finiteMeanVar(driver)
	return (sm/float64(nm) - so/float64(no)) / math.Sqrt(v)
}

func TestAugmentMissingMARAndMNAR(t *testing.T) {
	for seed := range uint64(10) {
		base := normalTable(seed, 3000, 6)
		a, p := applyOnly(t, base, "missing_mar", seed)
		for k, j := range p["columns"].([]int) {
			d := p["drivers"].([]int)[k]
			if d == j {
				t.Fatalf("MAR column %d drives itself", j)
			}
			if missingFrac(a, j) < 0.005 {
				continue // too few missing cells to compare means
			}
			if s := missingShift(a, j, base.Column(d)); math.Abs(s) < 0.3 {
				t.Fatalf("seed %d: MAR column %d: driver shift %.2f sd between missing and observed", seed, j, s)
			}
		}
		a, p = applyOnly(t, base, "missing_mnar", seed)
		for k, j := range p["columns"].([]int) {
			if missingFrac(a, j) < 0.005 {
				continue
			}
			slope := p["slopes"].([]float64)[k]
			s := missingShift(a, j, base.Column(j))
			// Missing cells hide values on the side the slope favours.
			if math.Abs(s) < 0.3 || (s > 0) != (slope > 0) {
				t.Fatalf("seed %d: MNAR column %d (slope %.2f): hidden-value shift %.2f sd", seed, j, slope, s)
			}
		}
	}
}

func TestAugmentMissingRowsAndBlock(t *testing.T) {
	for seed := range uint64(20) {
		base := normalTable(seed, 500, 7)
		a, p := applyOnly(t, base, "missing_rows", seed)
		nearlyEmpty := 0
		for i := range a.Rows {
			n := 0
			for j := range a.Features {
				if math.IsNaN(a.At(i, j)) {
					n++
				}
			}
			if n == a.Features-1 {
				nearlyEmpty++
			}
		}
		if nearlyEmpty != p["rows"].(int) || nearlyEmpty < 5 {
			t.Fatalf("seed %d: %d rows with one feature left, %v recorded", seed, nearlyEmpty, p["rows"])
		}

		a, p = applyOnly(t, base, "missing_block", seed)
		cols := p["columns"].([]int)
		blockRows := 0
		for i := range a.Rows {
			if math.IsNaN(a.At(i, cols[0])) {
				blockRows++
				for _, j := range cols {
					if !math.IsNaN(a.At(i, j)) {
						t.Fatalf("block row %d has column %d observed", i, j)
					}
				}
			}
		}
		if blockRows != p["rows"].(int) || len(cols) >= a.Features {
			t.Fatalf("block of %d rows x %d columns, recorded %v rows", blockRows, len(cols), p["rows"])
		}
	}
}

// TestAugmentPowerLawImportance checks that the added target term depends
// more on the feature with the largest weight than on the one with the
// smallest (correlation ratio over 20 quantile bins).
func TestAugmentPowerLawImportance(t *testing.T) {
	agree, total := 0, 0
	for seed := range uint64(40) {
		base := normalTable(seed, 2000, 8)
		a, p := applyOnly(t, base, "power_law_importance", seed)
		w := p["weights"].(map[int]float64)
		top, bottom := -1, -1
		for j, v := range w {
			if top < 0 || v > w[top] {
				top = j
			}
			if bottom < 0 || v < w[bottom] {
				bottom = j
			}
		}
		delta := make([]float64, a.Rows)
		for i := range delta {
			delta[i] = a.Y[i] - base.Y[i]
		}
		_, vd := finiteMeanVar(delta)
		_, vy := finiteMeanVar(base.Y)
		if s := math.Sqrt(vd / vy); math.Abs(s-p["strength"].(float64)) > 1e-9 {
			t.Fatalf("added term has %.3f std(y), strength %.3f", s, p["strength"])
		}
		total++
		if corrRatio(delta, base.Column(top)) > corrRatio(delta, base.Column(bottom)) {
			agree++
		}
	}
	if agree < total-2 {
		t.Fatalf("top-weighted feature explained more than the bottom one in %d of %d tables", agree, total)
	}
}

// corrRatio is the share of the variance of y explained by the means of y
// within 20 quantile bins of x.
func corrRatio(y, x []float64) float64 {
	idx := sortedIndexByValue(x)
	_, vy := finiteMeanVar(y)
	bins := 20
	between := 0.0
	my, _ := finiteMeanVar(y)
	for b := range bins {
		lo, hi := b*len(idx)/bins, (b+1)*len(idx)/bins
		s := 0.0
		for _, i := range idx[lo:hi] {
			s += y[i]
		}
		m := s / float64(hi-lo)
		between += float64(hi-lo) * (m - my) * (m - my)
	}
	return between / float64(len(y)) / vy
}

func TestAugmentLogisticShiftForMean(t *testing.T) {
	r := tensor.NewRNG(8, 0)
	for _, n := range []int{1, 7, 63, 1000} {
		z := make([]float64, n)
		for _, rate := range []float64{0.001, 0.02, 0.3, 0.9} {
			FillNormal(r, z, 0, 3)
			b := logisticShiftForMean(z, rate)
			m := 0.0
			for _, v := range z {
				m += 1 / (1 + math.Exp(-(v + b)))
			}
			if m /= float64(n); math.Abs(m-rate) > 1e-6 {
				t.Fatalf("n=%d rate %v: mean probability %v", n, rate, m)
			}
		}
	}
}
