package prior

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// moments returns the mean and variance of n draws of f.
func moments(n int, f func() float64) (mean, variance float64) {
	var s, s2 float64
	for i := 0; i < n; i++ {
		v := f()
		s += v
		s2 += v * v
	}
	mean = s / float64(n)
	return mean, s2/float64(n) - mean*mean
}

// checkMoments compares sample moments with the exact ones within tol
// standard errors of the mean (and a relative tolerance on the variance).
func checkMoments(t *testing.T, name string, f func() float64, mean, variance float64) {
	t.Helper()
	const n = 200000
	m, v := moments(n, f)
	se := math.Sqrt(variance / n)
	if math.Abs(m-mean) > 5*se+1e-12 {
		t.Errorf("%s: mean %.5f, want %.5f (+-%.5f)", name, m, mean, 5*se)
	}
	if math.Abs(v-variance) > 0.05*variance+1e-12 {
		t.Errorf("%s: variance %.5f, want %.5f (5%%)", name, v, variance)
	}
}

func TestDistMoments(t *testing.T) {
	r := tensor.NewRNG(42, 7)
	checkMoments(t, "Uniform(2,5)", func() float64 { return Uniform(r, 2, 5) }, 3.5, 9.0/12)
	checkMoments(t, "Normal(1,2)", func() float64 { return Normal(r, 1, 2) }, 1, 4)
	// log of LogUniform(1, e^3) is U(0, 3).
	checkMoments(t, "log LogUniform", func() float64 { return math.Log(LogUniform(r, 1, math.Exp(3))) }, 1.5, 9.0/12)
	s := 0.5
	checkMoments(t, "LogNormal(0,0.5)", func() float64 { return LogNormal(r, 0, s) },
		math.Exp(s*s/2), (math.Exp(s*s)-1)*math.Exp(s*s))
	checkMoments(t, "Exponential(2)", func() float64 { return Exponential(r, 2) }, 0.5, 0.25)
	for _, k := range []float64{0.3, 1, 2.5, 9} {
		checkMoments(t, "Gamma", func() float64 { return Gamma(r, k) }, k, k)
	}
	for _, ab := range [][2]float64{{0.5, 0.5}, {2, 5}, {4, 1.5}} {
		a, b := ab[0], ab[1]
		checkMoments(t, "Beta", func() float64 { return Beta(r, a, b) }, a/(a+b), a*b/((a+b)*(a+b)*(a+b+1)))
	}
	// Student-t with df=6 has finite fourth moment, so the variance estimate is stable.
	checkMoments(t, "StudentT(6)", func() float64 { return StudentT(r, 6) }, 0, 6.0/4)
	// Pareto(5): mean a/(a-1), variance a/((a-1)^2 (a-2)).
	checkMoments(t, "Pareto(5)", func() float64 { return Pareto(r, 5) }, 5.0/4, 5.0/(16*3))
	checkMoments(t, "Bernoulli(0.3)", func() float64 {
		if Bernoulli(r, 0.3) {
			return 1
		}
		return 0
	}, 0.3, 0.21)
	checkMoments(t, "IntRange(-2,3)", func() float64 { return float64(IntRange(r, -2, 3)) }, 0.5, (36.0-1)/12)
}

func TestDirichletMoments(t *testing.T) {
	r := tensor.NewRNG(1, 2)
	alpha := []float64{0.5, 1, 3}
	a0 := 4.5
	for k, a := range alpha {
		checkMoments(t, "Dirichlet", func() float64 {
			d := Dirichlet(r, alpha)
			sum := d[0] + d[1] + d[2]
			if math.Abs(sum-1) > 1e-12 {
				t.Fatalf("Dirichlet sums to %v", sum)
			}
			return d[k]
		}, a/a0, a*(a0-a)/(a0*a0*(a0+1)))
	}
}

// checkFrequencies compares empirical category frequencies with p.
func checkFrequencies(t *testing.T, name string, n int, draw func() int, p []float64) {
	t.Helper()
	counts := make([]int, len(p))
	for i := 0; i < n; i++ {
		k := draw()
		if k < 0 || k >= len(p) {
			t.Fatalf("%s: draw %d out of [0, %d)", name, k, len(p))
		}
		counts[k]++
	}
	for k, pk := range p {
		f := float64(counts[k]) / float64(n)
		se := math.Sqrt(pk * (1 - pk) / float64(n))
		if math.Abs(f-pk) > 5*se+1e-9 {
			t.Errorf("%s: category %d frequency %.5f, want %.5f", name, k, f, pk)
		}
	}
}

func TestCategoricalAndZipf(t *testing.T) {
	r := tensor.NewRNG(3, 0)
	w := []float64{1, 0, 3, 6}
	checkFrequencies(t, "Categorical", 100000, func() int { return Categorical(r, w) }, []float64{0.1, 0, 0.3, 0.6})

	n, s := 7, 1.3
	p := make([]float64, n)
	z := 0.0
	for k := range p {
		p[k] = math.Pow(float64(k+1), -s)
		z += p[k]
	}
	for k := range p {
		p[k] /= z
	}
	checkFrequencies(t, "Zipf", 100000, func() int { return Zipf(r, n, s) }, p)
	checkFrequencies(t, "Choice", 60000, func() int { return Choice(r, []int{0, 1, 2}) }, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
	checkFrequencies(t, "WeightedChoice", 60000, func() int {
		return WeightedChoice(r, []int{2, 1, 0}, []float64{1, 1, 2})
	}, []float64{0.5, 0.25, 0.25})
}

func TestSampleWithoutReplacementAndLogUniformInt(t *testing.T) {
	r := tensor.NewRNG(5, 0)
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.Intn(30)
		k := r.Intn(n + 1)
		s := SampleWithoutReplacement(r, n, k)
		seen := map[int]bool{}
		for _, v := range s {
			if v < 0 || v >= n || seen[v] {
				t.Fatalf("SampleWithoutReplacement(%d,%d) = %v", n, k, s)
			}
			seen[v] = true
		}
		if len(s) != k {
			t.Fatalf("got %d indices, want %d", len(s), k)
		}
		v := LogUniformInt(r, 2, n+2)
		if v < 2 || v > n+2 {
			t.Fatalf("LogUniformInt(2,%d) = %d", n+2, v)
		}
	}
}

func TestDistDeterminism(t *testing.T) {
	draw := func() []float64 {
		r := tensor.NewRNG(99, 3)
		var out []float64
		for i := 0; i < 50; i++ {
			out = append(out, Gamma(r, 0.7), Beta(r, 2, 3), StudentT(r, 3), Pareto(r, 2),
				float64(Zipf(r, 10, 1.1)), float64(Categorical(r, []float64{1, 2})))
			out = append(out, Dirichlet(r, []float64{0.2, 0.2, 0.2})...)
		}
		return out
	}
	a, b := draw(), draw()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("draw %d differs: %v vs %v", i, a[i], b[i])
		}
		if math.IsNaN(a[i]) || math.IsInf(a[i], 0) {
			t.Fatalf("draw %d not finite: %v", i, a[i])
		}
	}
}

func TestDistTinyShapesFinite(t *testing.T) {
	r := tensor.NewRNG(8, 8)
	for i := 0; i < 10000; i++ {
		b := Beta(r, 0.01, 0.01)
		if !(b >= 0 && b <= 1) {
			t.Fatalf("Beta(0.01, 0.01) = %v", b)
		}
		d := Dirichlet(r, []float64{0.005, 0.005})
		if math.Abs(d[0]+d[1]-1) > 1e-12 {
			t.Fatalf("Dirichlet tiny alpha = %v", d)
		}
	}
}

func TestFastRNG(t *testing.T) {
	f := NewFastRNG(tensor.NewRNG(11, 0))
	checkMoments(t, "FastRNG.Float64", f.Float64, 0.5, 1.0/12)
	checkMoments(t, "FastRNG.NormFloat64", f.NormFloat64, 0, 1)
	buf := make([]float64, 200001)
	f.FillNormal(buf, 2, 3)
	i := 0
	checkMoments(t, "FastRNG.FillNormal", func() float64 { i++; return buf[i-1] }, 2, 9)
	checkFrequencies(t, "FastRNG.Intn", 70000, func() int { return f.Intn(7) }, []float64{1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7})
	// Samplers accept a FastRNG as their Source.
	checkMoments(t, "Gamma(FastRNG)", func() float64 { return Gamma(f, 2) }, 2, 2)

	// Same seed, same sequence; different seeds, different sequences.
	a, b, c := NewFastRNG(tensor.NewRNG(4, 1)), NewFastRNG(tensor.NewRNG(4, 1)), NewFastRNG(tensor.NewRNG(4, 2))
	same := 0
	for k := 0; k < 100; k++ {
		x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
		if x != y {
			t.Fatalf("FastRNG not deterministic at draw %d", k)
		}
		if x == z {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("streams 1 and 2 share %d of 100 draws", same)
	}
}

// TestFastRNGNormalShape checks the ziggurat normal against the normal CDF
// at points in the body, the layer edges and the tail (beyond zigR = 3.44,
// where the exact tail method takes over), and its fourth moment.
func TestFastRNGNormalShape(t *testing.T) {
	f := NewFastRNG(tensor.NewRNG(12, 0))
	const n = 2000000
	cuts := []float64{-4, -3.5, -2, -1, -0.3, 0, 0.5, 1.7, 3, 3.6}
	below := make([]int, len(cuts))
	var m4 float64
	for i := 0; i < n; i++ {
		z := f.NormFloat64()
		m4 += z * z * z * z
		for k, c := range cuts {
			if z < c {
				below[k]++
			}
		}
	}
	for k, c := range cuts {
		p := 0.5 * math.Erfc(-c/math.Sqrt2)
		got := float64(below[k]) / n
		se := math.Sqrt(p * (1 - p) / n)
		if math.Abs(got-p) > 5*se {
			t.Errorf("P(Z < %v) = %.6f, want %.6f (+-%.6f)", c, got, p, 5*se)
		}
	}
	if k := m4 / n; math.Abs(k-3) > 0.05 {
		t.Errorf("E[Z^4] = %.4f, want 3", k)
	}
}
