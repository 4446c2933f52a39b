package prior

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "regression" generator imitates the textbook regression datasets
// (Boston housing, concrete strength, airfoil noise, kin8nm, wine quality):
// a target that is one well-defined function of the features plus noise,
// drawn from ten families of functions (regressionFamilies), with inputs of
// varied marginals (drawInputs) and the target's R² drawn by drawTargetR2
// and met by Gaussian noise of variance var(f)(1-R²)/R².
//
// Parameters recorded in Info.Params: "family" and that family's own
// parameters, "r2_target", "noise_sd" (in the units of y), "y_scale",
// "y_shift" and the "inputs_*" keys of drawInputs.

func init() { Register(regressionGen{}) }

type regressionGen struct{}

func (regressionGen) Name() string { return "regression" }

// regressionFamily is one family of signal functions. draw receives the
// robustly standardised inputs (columns, clipped to ±5) and returns f.
type regressionFamily struct {
	name   string
	weight float64
	draw   func(r Source, z [][]float64, rows int, p map[string]any) []float64
}

// regressionFamilies are the families with their shares: the eight named by
// the reference prior equally, sparse linear and random tree less often
// (other generators already cover sparse and tree structure).
var regressionFamilies = []regressionFamily{
	{"dense_linear", 0.11, familyDenseLinear},
	{"sparse_linear", 0.06, familySparseLinear},
	{"gam", 0.11, familyGAM},
	{"additive_pairwise", 0.11, familyAdditivePairwise},
	{"mlp", 0.11, familyMLP},
	{"rbf", 0.11, familyRBF},
	{"fourier", 0.11, familyFourier},
	{"chained_trig", 0.11, familyChainedTrig},
	{"polynomial", 0.11, familyPolynomial},
	{"tree", 0.06, familyTree},
}

// inputClip bounds the standardised inputs the families see.
const inputClip = 5

func (g regressionGen) Generate(r *tensor.RNG, rows, features int) *Table {
	t, _ := drawRegression(r, rows, features, -1)
	return t
}

// drawRegression draws a table and returns its noiseless signal f on the
// scale of y (so var(f)/var(y) estimates the drawn R²). family >= 0 forces
// a family (tests); -1 draws one.
func drawRegression(r Source, rows, features, family int) (*Table, []float64) {
	t := NewTable(rows, features)
	p := t.Info.Params
	t.X = drawInputs(r, rows, features, p)
	z := robustZColumns(t.X, rows, features, inputClip)
	f := drawSignal(r, z, rows, family, p)
	r2 := drawTargetR2(r)
	y, sd := addNoiseForR2(r, f, r2)
	affineTarget(r, y, f, p)
	p["r2_target"] = r2
	p["noise_sd"] = sd * math.Abs(p["y_scale"].(float64))
	t.Y = y
	t.Info.Generator = "regression"
	return t, f
}

// drawSignal draws a family (or uses the forced one) and its function of z,
// redrawing when the function is (numerically) constant on the table's rows
// or not finite (a dead ReLU network, a tree with one populated leaf); after
// a few failures it falls back to dense linear, which is never constant on
// continuous inputs.
func drawSignal(r Source, z [][]float64, rows, family int, p map[string]any) []float64 {
	weights := make([]float64, len(regressionFamilies))
	for k, fam := range regressionFamilies {
		weights[k] = fam.weight
	}
	for attempt := 0; ; attempt++ {
		k := family
		if k < 0 {
			k = Categorical(r, weights)
		}
		if attempt >= 8 {
			k = 0
		}
		fam := regressionFamilies[k]
		fp := map[string]any{}
		f := fam.draw(r, z, rows, fp)
		if _, v := finiteMeanVar(f); allFinite(f) && v > 1e-12 {
			for key, val := range fp {
				p[key] = val
			}
			p["family"] = fam.name
			p["family_attempts"] = attempt + 1
			return f
		}
		if attempt >= 8 {
			// Constant columns everywhere: the signal is constant and the
			// target is pure noise around it, which the filter rejects.
			p["family"] = fam.name
			p["family_attempts"] = attempt + 1
			return f
		}
	}
}
