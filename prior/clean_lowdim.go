package prior

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "clean_lowdim" generator imitates simulator and physical-law data
// (airfoil self-noise, kinematics, pendulum periods, Cobb-Douglas production,
// the ideal gas law): the target is a smooth, nearly noiseless function of 1-3
// features, and every other feature is irrelevant noise. Half the tables are
// exactly noiseless; the others have R² in [0.99, 0.9999].
//
// The active inputs are drawn afresh on a canonical scale u (uniform on
// [-1, 1] or standard normal, or positive on [0.5, 3] for the power laws)
// and shown to the model after a random affine change of units.
//
// Parameters recorded in Info.Params: "active", "formula", "r2_target",
// "noise_sd", "y_scale", "y_shift", and "exponents" for power laws.

func init() { Register(cleanLowDimGen{}) }

type cleanLowDimGen struct{}

func (cleanLowDimGen) Name() string { return "clean_lowdim" }

func (cleanLowDimGen) Generate(r *tensor.RNG, rows, features int) *Table {
	t, _ := drawCleanLowDim(r, rows, features)
	return t
}

// lowDimFormula is one function of d canonical inputs. positive formulas
// need inputs bounded away from zero.
type lowDimFormula struct {
	name     string
	d        int
	positive bool
	f        func(u []float64, c []float64) float64
}

// lowDimFormulas is the library; c holds per-table random constants
// (frequencies, phases, exponents) drawn in drawCleanLowDim.
var lowDimFormulas = []lowDimFormula{
	{"sin", 1, false, func(u, c []float64) float64 { return math.Sin(c[0]*u[0] + c[1]) }},
	{"square", 1, false, func(u, c []float64) float64 { return u[0] * u[0] }},
	{"cubic", 1, false, func(u, c []float64) float64 { return u[0]*u[0]*u[0] - c[2]*u[0] }},
	{"gauss_bump", 1, false, func(u, c []float64) float64 { return math.Exp(-c[0] * u[0] * u[0]) }},
	{"damped_sin", 1, false, func(u, c []float64) float64 { return math.Sin(c[0]*u[0]) * math.Exp(-u[0]*u[0]) }},
	{"logistic", 1, false, func(u, c []float64) float64 { return math.Tanh(c[0] * (u[0] - 0.3*c[2])) }},
	{"abs_power", 1, false, func(u, c []float64) float64 { return math.Pow(math.Abs(u[0]), c[2]) }},
	{"product", 2, false, func(u, c []float64) float64 { return u[0] * u[1] }},
	{"sin_cos", 2, false, func(u, c []float64) float64 { return math.Sin(c[0]*u[0]) * math.Cos(c[1]*u[1]) }},
	{"radius", 2, false, func(u, c []float64) float64 { return math.Hypot(u[0], u[1]) }},
	{"saddle", 2, false, func(u, c []float64) float64 { return u[0]*u[0] - u[1]*u[1] }},
	{"ratio", 2, false, func(u, c []float64) float64 { return u[0] / (1 + u[1]*u[1]) }},
	{"wave_sum", 2, false, func(u, c []float64) float64 { return math.Sin(c[0]*(u[0]+c[2]*u[1]) + c[1]) }},
	{"exp_mix", 2, false, func(u, c []float64) float64 { return u[0] * math.Exp(0.5*u[1]) }},
	{"triple_product", 3, false, func(u, c []float64) float64 { return u[0] * u[1] * u[2] }},
	{"sin_plus_product", 3, false, func(u, c []float64) float64 { return math.Sin(c[0]*u[0]) + u[1]*u[2] }},
	{"radius3", 3, false, func(u, c []float64) float64 { return math.Sqrt(u[0]*u[0] + u[1]*u[1] + u[2]*u[2]) }},
	{"gauss_bump3", 3, false, func(u, c []float64) float64 {
		return math.Exp(-c[2] * (u[0]*u[0] + u[1]*u[1] + u[2]*u[2]) / 3)
	}},
	{"friedman_like", 3, false, func(u, c []float64) float64 {
		return math.Sin(math.Pi*u[0]*u[1]) + 2*(u[2]-0.5)*(u[2]-0.5)
	}},
	// Power laws y = prod u_j^e_j on positive inputs: physical and economic
	// laws; exponents from {-2,-1,-0.5,0.5,1,2,3} are set per table in c[3:].
	{"power_law1", 1, true, powerLawFormula},
	{"power_law2", 2, true, powerLawFormula},
	{"power_law3", 3, true, powerLawFormula},
}

func powerLawFormula(u, c []float64) float64 {
	v := 1.0
	for j := range u {
		v *= math.Pow(u[j], c[3+j])
	}
	return v
}

var lowDimExponents = []float64{-2, -1, -0.5, 0.5, 1, 2, 3}

// drawCleanLowDim draws a table and its noiseless signal on the scale of y.
func drawCleanLowDim(r Source, rows, features int) (*Table, []float64) {
	t := NewTable(rows, features)
	p := t.Info.Params
	t.X = drawInputs(r, rows, features, p)

	dmax := min(3, features)
	var cand []int
	for k, fm := range lowDimFormulas {
		if fm.d <= dmax {
			cand = append(cand, k)
		}
	}
	fm := lowDimFormulas[Choice(r, cand)]
	c := []float64{LogUniform(r, 1, 6), Uniform(r, 0, 2*math.Pi), Uniform(r, 0.5, 2.5), 0, 0, 0}
	exps := make([]float64, fm.d)
	for j := range exps {
		exps[j] = Choice(r, lowDimExponents)
		c[3+j] = exps[j]
	}
	active := SampleWithoutReplacement(r, features, fm.d)
	fr := NewFastRNG(r)
	u := make([][]float64, fm.d)
	for k, j := range active {
		normalInput := !fm.positive && Bernoulli(r, 0.3)
		scale := LogUniform(r, 0.1, 100)
		shift := Normal(r, 0, 2) * scale
		if fm.positive {
			shift = 0 // ratio-scale quantities keep their natural zero
		}
		u[k] = make([]float64, rows)
		for i := range rows {
			var v float64
			switch {
			case fm.positive:
				v = Uniform(fr, 0.5, 3)
			case normalInput:
				v = fr.NormFloat64()
			default:
				v = Uniform(fr, -1, 1)
			}
			u[k][i] = v
			t.X[i*features+j] = shift + scale*v
		}
	}
	f := make([]float64, rows)
	ui := make([]float64, fm.d)
	for i := range f {
		for k := range ui {
			ui[k] = u[k][i]
		}
		f[i] = fm.f(ui, c)
	}
	r2 := 1.0
	if Bernoulli(r, 0.5) {
		r2 = 1 - LogUniform(r, 1e-4, 1e-2)
	}
	y, sd := addNoiseForR2(r, f, r2)
	affineTarget(r, y, f, p)
	p["active"] = active
	p["formula"] = fm.name
	if fm.positive {
		p["exponents"] = exps
	}
	p["r2_target"] = r2
	p["noise_sd"] = sd * math.Abs(p["y_scale"].(float64))
	t.Y = y
	t.Info.Generator = "clean_lowdim"
	return t, f
}
