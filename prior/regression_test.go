package prior

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// Tests of the regression-style generators: regression, quadratic,
// clean_lowdim and lookup.

var regressionStyleGenerators = []string{"regression", "quadratic", "clean_lowdim", "lookup"}

func mustGenerator(t testing.TB, name string) Generator {
	t.Helper()
	g, ok := Lookup(name)
	if !ok {
		t.Fatalf("generator %q not registered", name)
	}
	return g
}

// checkTableBasics fails unless tab has the requested shape, finite values
// everywhere and a recorded generator and parameters.
func checkTableBasics(t *testing.T, tab *Table, name string, rows, features int) {
	t.Helper()
	if tab.Rows != rows || tab.Features != features || len(tab.X) != rows*features ||
		len(tab.Y) != rows || len(tab.Categorical) != features {
		t.Fatalf("%s: shape %dx%d (len X %d, Y %d, Categorical %d), want %dx%d",
			name, tab.Rows, tab.Features, len(tab.X), len(tab.Y), len(tab.Categorical), rows, features)
	}
	if !allFinite(tab.X) || !allFinite(tab.Y) {
		t.Fatalf("%s %dx%d: non-finite values", name, rows, features)
	}
	if tab.Info.Generator != name || len(tab.Info.Params) == 0 {
		t.Fatalf("%s: Info.Generator %q, %d params", name, tab.Info.Generator, len(tab.Info.Params))
	}
	for j, c := range tab.Categorical {
		if !c {
			continue
		}
		for i := range rows {
			if v := tab.At(i, j); v != math.Trunc(v) || v < 0 {
				t.Fatalf("%s: categorical column %d holds %v", name, j, v)
			}
		}
	}
}

func TestRegressionStyleGeneratorsShapesFiniteDeterministic(t *testing.T) {
	shapes := [][2]int{{4, 1}, {7, 2}, {50, 3}, {200, 16}, {63, 40}}
	for _, name := range regressionStyleGenerators {
		g := mustGenerator(t, name)
		for _, sh := range shapes {
			for seed := uint64(0); seed < 12; seed++ {
				a := g.Generate(tensor.NewRNG(seed, 7), sh[0], sh[1])
				checkTableBasics(t, a, name, sh[0], sh[1])
				b := g.Generate(tensor.NewRNG(seed, 7), sh[0], sh[1])
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s %v seed %d: two draws from the same stream differ", name, sh, seed)
				}
			}
		}
		a := g.Generate(tensor.NewRNG(1, 7), 100, 5)
		b := g.Generate(tensor.NewRNG(2, 7), 100, 5)
		if reflect.DeepEqual(a.Y, b.Y) {
			t.Fatalf("%s: different seeds gave the same target", name)
		}
	}
}

func TestRegressionFamiliesNonConstant(t *testing.T) {
	for k, fam := range regressionFamilies {
		for seed := uint64(0); seed < 20; seed++ {
			r := tensor.NewRNG(seed, uint64(k))
			tab, f := drawRegression(r, 120, 1+int(seed%9), k)
			if got := tab.Info.Params["family"]; got != fam.name {
				t.Fatalf("forced family %s, recorded %v", fam.name, got)
			}
			if _, v := finiteMeanVar(f); !(v > 0) || !allFinite(f) {
				t.Fatalf("family %s seed %d: signal variance %v", fam.name, seed, v)
			}
		}
	}
}

func TestRegressionFamilyShares(t *testing.T) {
	counts := map[string]int{}
	const n = 3000
	for seed := range uint64(n) {
		tab, _ := drawRegression(tensor.NewRNG(seed, 3), 16, 4, -1)
		counts[tab.Info.Params["family"].(string)]++
	}
	total := 0.0
	for _, fam := range regressionFamilies {
		total += fam.weight
	}
	for _, fam := range regressionFamilies {
		want := fam.weight / total
		got := float64(counts[fam.name]) / n
		// Redraws of constant signals move a little mass to other families.
		if sd := math.Sqrt(want * (1 - want) / n); math.Abs(got-want) > 4*sd+0.01 {
			t.Errorf("family %s: share %.3f, want %.3f", fam.name, got, want)
		}
	}
}

func TestTargetR2Distribution(t *testing.T) {
	r := tensor.NewRNG(5, 0)
	const n = 20000
	exact, sum, cnt := 0, 0.0, 0
	for range n {
		v := drawTargetR2(r)
		switch {
		case v == 1:
			exact++
		case v < 0.7 || v > 0.98:
			t.Fatalf("R² %v outside [0.7, 0.98]", v)
		default:
			sum += v
			cnt++
		}
	}
	if p := float64(exact) / n; math.Abs(p-0.05) > 4*math.Sqrt(0.05*0.95/n) {
		t.Errorf("P(R²=1) = %.4f, want 0.05", p)
	}
	// E[0.7 + 0.28*Beta(4, 1.5)] = 0.7 + 0.28*4/5.5.
	if m, want := sum/float64(cnt), 0.7+0.28*4/5.5; math.Abs(m-want) > 0.002 {
		t.Errorf("mean R² below 1 = %.4f, want %.4f", m, want)
	}
}

// r2Check compares var(f)/var(y) with the drawn target R² over many tables.
func r2Check(t *testing.T, name string, draw func(seed uint64) (*Table, []float64)) {
	const n = 200
	sumErr, maxErr := 0.0, 0.0
	for seed := range uint64(n) {
		tab, f := draw(seed)
		want := tab.Info.Params["r2_target"].(float64)
		_, vf := finiteMeanVar(f)
		_, vy := finiteMeanVar(tab.Y)
		got := vf / vy
		if want == 1 {
			if !reflect.DeepEqual(f, tab.Y) {
				t.Fatalf("%s seed %d: R² = 1 but y != f", name, seed)
			}
			continue
		}
		e := got - want
		sumErr += e
		maxErr = max(maxErr, math.Abs(e))
		// 1000 rows: the sampling error of the ratio is about 0.02.
		if math.Abs(e) > 0.1 {
			t.Errorf("%s seed %d (%v): var(f)/var(y) = %.3f, target R² %.3f", name, seed, tab.Info.Params["family"], got, want)
		}
	}
	if m := sumErr / n; math.Abs(m) > 0.01 {
		t.Errorf("%s: mean error of var(f)/var(y) against target R² = %.4f (bias)", name, m)
	}
	t.Logf("%s: mean error %.4f, max |error| %.3f over %d tables", name, sumErr/n, maxErr, n)
}

func TestRegressionR2MatchesTarget(t *testing.T) {
	r2Check(t, "regression", func(seed uint64) (*Table, []float64) {
		return drawRegression(tensor.NewRNG(seed, 11), 1000, 8, -1)
	})
}

func TestQuadraticR2AndShape(t *testing.T) {
	r2Check(t, "quadratic", func(seed uint64) (*Table, []float64) {
		return drawQuadratic(tensor.NewRNG(seed, 12), 1000, 10)
	})
	for seed := range uint64(50) {
		tab, _ := drawQuadratic(tensor.NewRNG(seed, 13), 30, 10)
		lam := tab.Info.Params["eigenvalues"].([]float64)
		active := tab.Info.Params["active"].([]int)
		if len(lam) != len(active) || len(active) < 2 || len(active) > 6 {
			t.Fatalf("seed %d: %d eigenvalues for %d active features", seed, len(lam), len(active))
		}
		pos, neg := 0, 0
		for _, l := range lam {
			if l > 0 {
				pos++
			} else {
				neg++
			}
		}
		shape := tab.Info.Params["shape"]
		if (shape == "bowl" && neg > 0) || (shape == "dome" && pos > 0) || (shape == "saddle" && (pos == 0 || neg == 0)) {
			t.Fatalf("seed %d: shape %v with eigenvalues %v", seed, shape, lam)
		}
	}
}

func TestRandomOrthogonal(t *testing.T) {
	r := tensor.NewRNG(1, 1)
	for k := 1; k <= 6; k++ {
		q := randomOrthogonal(r, k)
		for a := range k {
			for b := range k {
				d := 0.0
				for i := range k {
					d += q[i*k+a] * q[i*k+b]
				}
				want := 0.0
				if a == b {
					want = 1
				}
				if math.Abs(d-want) > 1e-12 {
					t.Fatalf("k=%d: Q^T Q[%d,%d] = %v", k, a, b, d)
				}
			}
		}
	}
}

func TestCleanLowDimIsCleanAndLowDim(t *testing.T) {
	noiseless := 0
	formulas := map[string]bool{}
	for seed := range uint64(300) {
		tab, f := drawCleanLowDim(tensor.NewRNG(seed, 14), 300, 1+int(seed%12))
		active := tab.Info.Params["active"].([]int)
		if len(active) < 1 || len(active) > 3 || len(active) > tab.Features {
			t.Fatalf("seed %d: %d active features of %d", seed, len(active), tab.Features)
		}
		formulas[tab.Info.Params["formula"].(string)] = true
		resid := make([]float64, len(f))
		for i := range f {
			resid[i] = tab.Y[i] - f[i]
		}
		_, vr := finiteMeanVar(resid)
		_, vy := finiteMeanVar(tab.Y)
		if vr/vy > 0.012 {
			t.Fatalf("seed %d (%v): noise share %.4f, want <= 0.01", seed, tab.Info.Params["formula"], vr/vy)
		}
		if vr == 0 {
			noiseless++
		}
	}
	if noiseless < 100 || noiseless > 200 {
		t.Errorf("%d of 300 tables noiseless, want about half", noiseless)
	}
	if len(formulas) < len(lowDimFormulas)-3 {
		t.Errorf("only %d of %d formulas drawn in 300 tables", len(formulas), len(lowDimFormulas))
	}
}

// TestLookupIsATableLookup checks that rows with the same key levels get
// the same target when the table has no noise and no quantity, and that
// categorical keys are marked and Zipf-skewed.
func TestLookupIsATableLookup(t *testing.T) {
	checked := 0
	g := mustGenerator(t, "lookup")
	for seed := range uint64(200) {
		tab := g.Generate(tensor.NewRNG(seed, 15), 400, 6)
		p := tab.Info.Params
		keys := p["keys"].([]int)
		kinds := p["key_kinds"].([]string)
		for k, j := range keys {
			if (kinds[k] == "categorical") != tab.Categorical[j] {
				t.Fatalf("seed %d: key %d kind %s but Categorical=%v", seed, j, kinds[k], tab.Categorical[j])
			}
		}
		for j, c := range tab.Categorical {
			if c && !containsInt(keys, j) {
				t.Fatalf("seed %d: non-key column %d marked categorical", seed, j)
			}
		}
		if p["noise_sd"].(float64) != 0 || p["quantity"].(int) >= 0 {
			continue
		}
		banded := false
		for _, k := range kinds {
			banded = banded || k == "banded"
		}
		if banded {
			continue
		}
		seen := map[string]float64{}
		for i := range tab.Rows {
			key := ""
			for _, j := range keys {
				key += fmt.Sprintf("%v,", tab.At(i, j))
			}
			if y, ok := seen[key]; ok && y != tab.Y[i] {
				t.Fatalf("seed %d: key %s has targets %v and %v", seed, key, y, tab.Y[i])
			}
			seen[key] = tab.Y[i]
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d noiseless categorical/ordinal tables checked", checked)
	}
}
