package prior

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "quadratic" generator imitates response-surface data (designed
// experiments in chemistry and process engineering, yield against a few
// settings, cost curves): y = z^T A z + b^T z + noise on 2-6 of the features
// (one when the table has a single feature),
// the others irrelevant. A is symmetric and positive definite (a bowl with
// an optimum), negative definite or indefinite (a saddle); the noise is sized
// by drawTargetR2 as in the "regression" generator.
//
// Parameters recorded in Info.Params: "active" (feature indices), "shape"
// ("bowl", "dome" or "saddle"), "eigenvalues", "linear" (b), "r2_target",
// "noise_sd", "y_scale", "y_shift" and the "inputs_*" keys.

func init() { Register(quadraticGen{}) }

type quadraticGen struct{}

func (quadraticGen) Name() string { return "quadratic" }

func (quadraticGen) Generate(r *tensor.RNG, rows, features int) *Table {
	t, _ := drawQuadratic(r, rows, features)
	return t
}

// drawQuadratic draws a table and its noiseless signal on the scale of y.
func drawQuadratic(r Source, rows, features int) (*Table, []float64) {
	t := NewTable(rows, features)
	p := t.Info.Params
	t.X = drawInputs(r, rows, features, p)
	z := robustZColumns(t.X, rows, features, inputClip)

	k := min(features, IntRange(r, 2, 6))
	active := SampleWithoutReplacement(r, features, k)
	// A = Q diag(lambda) Q^T with a random orthogonal Q (Gram-Schmidt on a
	// normal matrix), so the definiteness is chosen, not left to chance.
	saddleWeight := 0.4
	if k < 2 {
		saddleWeight = 0 // one active feature: a parabola has no saddle
	}
	shape := WeightedChoice(r, []string{"bowl", "dome", "saddle"}, []float64{0.35, 0.25, saddleWeight})
	lambda := make([]float64, k)
	for i := range lambda {
		lambda[i] = LogUniform(r, 0.1, 2)
		switch {
		case shape == "dome":
			lambda[i] = -lambda[i]
		case shape == "saddle" && (i == 1 || (i > 1 && Bernoulli(r, 0.5))):
			// The first eigenvalue stays positive and the second turns
			// negative; the rest take random signs.
			lambda[i] = -lambda[i]
		}
	}
	q := randomOrthogonal(r, k)
	a := make([]float64, k*k)
	for i := range k {
		for j := range k {
			s := 0.0
			for m := range k {
				s += q[i*k+m] * lambda[m] * q[j*k+m]
			}
			a[i*k+j] = s
		}
	}
	b := make([]float64, k)
	FillNormal(r, b, 0, Uniform(r, 0, 1.5))

	f := make([]float64, rows)
	v := make([]float64, k)
	for i := range f {
		for m, j := range active {
			v[m] = math.Max(-3, math.Min(3, z[j][i]))
		}
		s := 0.0
		for m := range k {
			am := a[m*k : (m+1)*k]
			row := 0.0
			for n := range k {
				row += am[n] * v[n]
			}
			s += v[m]*row + b[m]*v[m]
		}
		f[i] = s
	}
	r2 := drawTargetR2(r)
	y, sd := addNoiseForR2(r, f, r2)
	affineTarget(r, y, f, p)
	p["active"] = active
	p["shape"] = shape
	p["eigenvalues"] = lambda
	p["linear"] = b
	p["r2_target"] = r2
	p["noise_sd"] = sd * math.Abs(p["y_scale"].(float64))
	t.Y = y
	t.Info.Generator = "quadratic"
	return t, f
}

// randomOrthogonal returns a k x k orthogonal matrix (row-major) from
// Gram-Schmidt on a standard normal matrix.
func randomOrthogonal(r Source, k int) []float64 {
	q := make([]float64, k*k)
	for {
		FillNormal(r, q, 0, 1)
		ok := true
		for c := range k {
			for prev := range c {
				d := 0.0
				for i := range k {
					d += q[i*k+c] * q[i*k+prev]
				}
				for i := range k {
					q[i*k+c] -= d * q[i*k+prev]
				}
			}
			n := 0.0
			for i := range k {
				n += q[i*k+c] * q[i*k+c]
			}
			if n < 1e-10 {
				ok = false
				break
			}
			n = 1 / math.Sqrt(n)
			for i := range k {
				q[i*k+c] *= n
			}
		}
		if ok {
			return q
		}
	}
}
