package prior

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"

	"github.com/nori-ml/nori/tensor"
)

// The "rff_gp" generator draws the target as a sample path of a Gaussian
// process over the features, approximated with random Fourier features
// (Rahimi and Recht, 2007): f(x) = sqrt(2/D) sum_d a_d cos(w_d . x + b_d),
// a_d ~ N(0, 1), b_d ~ U(0, 2pi), and w_d drawn from the kernel's spectral
// density. It imitates smooth physical and economic response surfaces:
// yields, prices, sensor responses that vary smoothly with every relevant
// input at its own length scale. Each table draws
//   - the kernel: RBF (w ~ N(0, diag(1/l^2))) or Matern-like (w ~ a
//     multivariate Student-t with 2*nu degrees of freedom, nu in {1/2, 3/2,
//     5/2}, the spectral density of the Matern kernel), so paths range from
//     rough to infinitely smooth;
//   - a length scale per relevant feature (automatic relevance
//     determination), log-uniform over [0.3, 4] input standard deviations;
//   - which features are irrelevant (a length scale of infinity: their
//     frequency is zero), 0-60% of them, at least one feature relevant;
//   - D = 256-1024 Fourier features;
//   - the inputs: correlated, with varied marginals (correlatedInputs).
// The target is standardised to zero mean and unit variance.

func init() { Register(rffGPGen{}) }

type rffGPGen struct{}

func (rffGPGen) Name() string { return "rff_gp" }

func (rffGPGen) Generate(r *tensor.RNG, rows, features int) *Table {
	f := NewFastRNG(r)
	cols, inDesc := correlatedInputs(r, f, rows, features)

	// Relevant features and their length scales.
	nIrr := int(Uniform(r, 0, 0.6) * float64(features))
	nRel := max(1, features-nIrr)
	rel := SampleWithoutReplacement(r, features, nRel)
	sort.Ints(rel)
	ls := make([]float64, nRel)
	for k := range ls {
		ls[k] = LogUniform(r, 0.3, 4)
	}
	// Many relevant dimensions with short length scales give a white-noise
	// like surface no model can learn from a few hundred rows; widen the
	// scales with the square root of the dimension as GP priors usually do.
	widen := math.Sqrt(float64(nRel) / 2)
	if widen < 1 {
		widen = 1
	}
	for k := range ls {
		ls[k] *= widen
	}
	kernel := WeightedChoice(r, []string{"rbf", "matern12", "matern32", "matern52"}, []float64{0.4, 0.15, 0.2, 0.25})
	nu := map[string]float64{"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}[kernel]
	nFeat := LogUniformInt(r, 256, 1024)

	y := make([]float64, rows)
	phase := make([]float64, rows)
	w := make([]float64, nRel)
	for d := 0; d < nFeat; d++ {
		// The Student-t scale mixture: one chi-square draw per frequency.
		scale := 1.0
		if nu > 0 {
			scale = math.Sqrt(2 * nu / (2 * Gamma(f, nu)))
		}
		for k := range w {
			w[k] = f.NormFloat64() * scale / ls[k]
		}
		b := 2 * math.Pi * f.Float64()
		a := f.NormFloat64()
		for i := range phase {
			phase[i] = b
		}
		for k, j := range rel {
			floats.AddScaled(phase, w[k], cols[j])
		}
		for i, p := range phase {
			y[i] += a * fastCos(p)
		}
	}
	zscoreInPlace(y)

	t := NewTable(rows, features)
	fillTable(t, cols, y)
	t.Info.Generator = "rff_gp"
	t.Info.Params["kernel"] = kernel
	t.Info.Params["fourier_features"] = nFeat
	t.Info.Params["relevant_features"] = rel
	t.Info.Params["lengthscales"] = ls
	t.Info.Params["inputs"] = inDesc
	return t
}

// fastCos is cos(x) to about 1e-12 absolute error for |x| < 100 and 1e-9
// for |x| < 1e6 (the phases of the Fourier features stay far below that);
// math.Cos dominated the generator's cost. It rounds x to the nearest of
// fastCosN points per period, a = 2*pi*k/N, and applies
// cos(a + d) = cos(a) cos(d) - sin(a) sin(d) with table values for a and
// short Taylor series for |d| <= pi/N (truncation below 1e-14), with no
// data-dependent branch. Larger |x|, Inf and NaN go to math.Cos.
func fastCos(x float64) float64 {
	if !(math.Abs(x) < 1e6) {
		return math.Cos(x)
	}
	u := x * (fastCosN / (2 * math.Pi))
	k := math.RoundToEven(u)
	d := (u - k) * (2 * math.Pi / fastCosN)
	i := int(k) & (fastCosN - 1) // k mod N, also for negative k
	d2 := d * d
	c := 1 - d2*(0.5-d2*(1.0/24))
	sn := d * (1 - d2*(1.0/6)*(1-d2*(1.0/20)))
	return fastCosTab[i][0]*c - fastCosTab[i][1]*sn
}

// fastCosN is the number of table points per period (a power of two).
const fastCosN = 256

// fastCosTab holds cos and sin of 2*pi*i/fastCosN.
var fastCosTab = func() (t [fastCosN][2]float64) {
	for i := range t {
		t[i][1], t[i][0] = math.Sincos(2 * math.Pi * float64(i) / fastCosN)
	}
	return t
}()
