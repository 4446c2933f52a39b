package prior

import (
	"math"
)

// Neural, kernel and trigonometric regression families.

// mlpActivations are the hidden activations of the random MLP family.
var mlpActivations = []string{"tanh", "relu", "gelu", "sin", "sigmoid", "softplus"}

func activate(kind string, v float64) float64 {
	switch kind {
	case "tanh":
		return math.Tanh(v)
	case "relu":
		return math.Max(0, v)
	case "gelu":
		return v * normCDF(v)
	case "sin":
		return math.Sin(v)
	case "sigmoid":
		return 1 / (1 + math.Exp(-v))
	case "softplus":
		if v > 30 {
			return v
		}
		return math.Log1p(math.Exp(v))
	}
	return v
}

// familyMLP is a randomly initialised MLP (1-2 hidden layers of 8-64 units,
// one random activation): smooth, non-additive, everywhere-interacting
// functions like those of simulators and learned physical responses.
func familyMLP(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	layers := IntRange(r, 1, 2)
	act := Choice(r, mlpActivations)
	gain := LogUniform(r, 0.5, 3) // larger gains give more non-linear functions
	widths := []int{len(z)}
	for range layers {
		widths = append(widths, IntRange(r, 8, 64))
	}
	type layer struct{ w, b []float64 }
	net := make([]layer, layers+1)
	for l := range layers + 1 {
		in := widths[l]
		out := 1
		if l < layers {
			out = widths[l+1]
		}
		w := make([]float64, in*out)
		FillNormal(r, w, 0, gain/math.Sqrt(float64(in)))
		b := make([]float64, out)
		FillNormal(r, b, 0, 0.5)
		net[l] = layer{w, b}
	}
	f := make([]float64, rows)
	h := make([]float64, 0, 64)
	next := make([]float64, 0, 64)
	for i := range rows {
		h = h[:0]
		for _, col := range z {
			h = append(h, col[i])
		}
		for l, ly := range net {
			out := len(ly.b)
			next = next[:0]
			for o := range out {
				v := ly.b[o]
				for k, hk := range h {
					v += ly.w[k*out+o] * hk
				}
				if l < layers {
					v = activate(act, v)
				}
				next = append(next, v)
			}
			h, next = next, h
		}
		f[i] = h[0]
	}
	p["hidden_layers"] = layers
	p["widths"] = widths[1:]
	p["activation"] = act
	p["gain"] = gain
	return f
}

// activeSubset picks 1..maxActive features for the families whose structure
// degenerates in many dimensions (distances concentrate).
func activeSubset(r Source, features, maxActive int) []int {
	return SampleWithoutReplacement(r, features, IntRange(r, 1, min(features, maxActive)))
}

// familyRBF is a sum of 3-20 Gaussian bumps centred on data rows in 1-5
// features: localised effects such as the yield of a process around its
// optimal settings, or prices around desirable locations.
func familyRBF(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	active := activeSubset(r, len(z), 5)
	m := IntRange(r, 3, 20)
	width := LogUniform(r, 0.3, 1.5) * math.Sqrt(float64(len(active)))
	f := make([]float64, rows)
	for range m {
		c := r.Intn(rows)
		a := r.NormFloat64()
		for i := range f {
			d2 := 0.0
			for _, j := range active {
				d := z[j][i] - z[j][c]
				d2 += d * d
			}
			f[i] += a * math.Exp(-d2/(2*width*width))
		}
	}
	p["active"] = active
	p["centres"] = m
	p["width"] = width
	return f
}

// familyFourier is a random-Fourier-feature function (a draw from an
// approximate Gaussian process with an RBF kernel of length scale ell) in
// 1-8 features: smooth, wiggly, stationary responses.
func familyFourier(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	active := activeSubset(r, len(z), 8)
	m := IntRange(r, 16, 128)
	ell := LogUniform(r, 0.3, 3)
	f := make([]float64, rows)
	omega := make([]float64, len(active))
	amp := math.Sqrt(2 / float64(m))
	for range m {
		FillNormal(r, omega, 0, 1/ell)
		b := Uniform(r, 0, 2*math.Pi)
		a := r.NormFloat64() * amp
		for i := range f {
			arg := b
			for k, j := range active {
				arg += omega[k] * z[j][i]
			}
			f[i] += a * math.Cos(arg)
		}
	}
	p["active"] = active
	p["features_m"] = m
	p["length_scale"] = ell
	return f
}

// familyChainedTrig nests trigonometric functions along a chain of 2-6
// features, u <- sin(w*u + c*z_j + phi), plus a weak linear trend: the
// oscillatory, strongly interacting responses of mechanical systems such as
// robot-arm kinematics (kin8nm).
func familyChainedTrig(r Source, z [][]float64, rows int, p map[string]any) []float64 {
	n := IntRange(r, 2, 6)
	chain := make([]int, n)
	for k := range chain {
		chain[k] = r.Intn(len(z))
	}
	w := make([]float64, n)
	c := make([]float64, n)
	phi := make([]float64, n)
	useCos := make([]bool, n)
	for k := range n {
		w[k] = Uniform(r, 0.5, 2.5)
		c[k] = Uniform(r, 0.5, 2) * float64(1-2*r.Intn(2))
		phi[k] = Uniform(r, 0, 2*math.Pi)
		useCos[k] = Bernoulli(r, 0.5)
	}
	trend := Normal(r, 0, 0.3)
	f := make([]float64, rows)
	for i := range f {
		u := z[chain[0]][i]
		for k := 1; k < n; k++ {
			arg := w[k]*u + c[k]*z[chain[k]][i] + phi[k]
			if useCos[k] {
				u = math.Cos(arg)
			} else {
				u = math.Sin(arg)
			}
		}
		f[i] = u + trend*z[chain[0]][i]
	}
	p["chain"] = chain
	p["trend"] = trend
	return f
}
