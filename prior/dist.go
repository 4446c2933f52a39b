package prior

import (
	"fmt"
	"math"
	"sort"

	"github.com/nori-ml/nori/tensor"
)

// Samplers for the distributions the generators and augmentations draw from.
// Every sampler takes the caller's Source (a *tensor.RNG, or a *FastRNG
// seeded from one for row loops) and nothing else, so a table stays a pure
// function of its generator's stream. Samplers that receive invalid
// parameters (a programming error, never user input) panic with a message
// naming the sampler.

// Source is the randomness the samplers draw on. *tensor.RNG (Philox) and
// *FastRNG both provide it.
type Source interface {
	Uint64() uint64
	Float64() float64
	NormFloat64() float64
	Intn(n int) int
}

var (
	_ Source = (*tensor.RNG)(nil)
	_ Source = (*FastRNG)(nil)
)

// Uniform returns a value in [lo, hi).
func Uniform(r Source, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// LogUniform returns a value whose logarithm is uniform on [log lo, log hi);
// lo and hi must be positive.
func LogUniform(r Source, lo, hi float64) float64 {
	if !(lo > 0 && hi > 0) {
		panic(fmt.Sprintf("prior.LogUniform: bounds must be positive, got [%g, %g)", lo, hi))
	}
	return math.Exp(Uniform(r, math.Log(lo), math.Log(hi)))
}

// Normal returns a N(mu, sd^2) value.
func Normal(r Source, mu, sd float64) float64 { return mu + sd*r.NormFloat64() }

// FillNormal fills dst with N(mu, sd^2) values. It draws one seed from r and
// generates the values with a FastRNG, so it consumes a fixed amount of r
// whatever len(dst) is and costs a few ns per value.
func FillNormal(r Source, dst []float64, mu, sd float64) {
	NewFastRNG(r).FillNormal(dst, mu, sd)
}

// LogNormal returns exp(N(mu, sigma^2)).
func LogNormal(r Source, mu, sigma float64) float64 { return math.Exp(Normal(r, mu, sigma)) }

// Exponential returns an Exp(rate) value (mean 1/rate).
func Exponential(r Source, rate float64) float64 {
	if !(rate > 0) {
		panic(fmt.Sprintf("prior.Exponential: rate must be positive, got %g", rate))
	}
	// 1-U is in (0, 1], so the log is finite.
	return -math.Log(1-r.Float64()) / rate
}

// Gamma returns a Gamma(shape, 1) value (Marsaglia and Tsang, "A simple
// method for generating gamma variables", 2000). For shape < 1 it uses the
// boost Gamma(shape) = Gamma(shape+1) * U^(1/shape).
func Gamma(r Source, shape float64) float64 {
	if !(shape > 0) || math.IsInf(shape, 0) {
		panic(fmt.Sprintf("prior.Gamma: shape must be positive and finite, got %g", shape))
	}
	if shape < 1 {
		u := 1 - r.Float64() // (0, 1]
		return Gamma(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Beta returns a Beta(a, b) value in [0, 1] via two gamma draws.
func Beta(r Source, a, b float64) float64 {
	x := Gamma(r, a)
	y := Gamma(r, b)
	if x+y == 0 {
		// Both underflowed (tiny shapes): fall back to the Bernoulli limit.
		if r.Float64() < a/(a+b) {
			return 1
		}
		return 0
	}
	return x / (x + y)
}

// Dirichlet returns a point on the simplex drawn from Dirichlet(alpha).
func Dirichlet(r Source, alpha []float64) []float64 {
	if len(alpha) == 0 {
		panic("prior.Dirichlet: empty alpha")
	}
	out := make([]float64, len(alpha))
	sum := 0.0
	for i, a := range alpha {
		out[i] = Gamma(r, a)
		sum += out[i]
	}
	if sum == 0 {
		// All gammas underflowed (tiny alphas): the limit is a one-hot vector.
		out[r.Intn(len(out))] = 1
		return out
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// DirichletSym returns a draw from the symmetric Dirichlet(alpha, ..., alpha)
// over n categories.
func DirichletSym(r Source, n int, alpha float64) []float64 {
	a := make([]float64, n)
	for i := range a {
		a[i] = alpha
	}
	return Dirichlet(r, a)
}

// StudentT returns a Student-t value with df degrees of freedom.
func StudentT(r Source, df float64) float64 {
	if !(df > 0) {
		panic(fmt.Sprintf("prior.StudentT: df must be positive, got %g", df))
	}
	z := r.NormFloat64()
	chi2 := 2 * Gamma(r, df/2)
	if chi2 == 0 {
		chi2 = math.SmallestNonzeroFloat64
	}
	return z / math.Sqrt(chi2/df)
}

// Pareto returns a Pareto(alpha) value with scale 1: support [1, inf),
// P(X > x) = x^-alpha.
func Pareto(r Source, alpha float64) float64 {
	if !(alpha > 0) {
		panic(fmt.Sprintf("prior.Pareto: alpha must be positive, got %g", alpha))
	}
	u := 1 - r.Float64() // (0, 1]
	return math.Pow(u, -1/alpha)
}

// Bernoulli returns true with probability p.
func Bernoulli(r Source, p float64) bool { return r.Float64() < p }

// Categorical returns index i with probability weights[i]/sum(weights). The
// weights must be non-negative, finite and not all zero.
func Categorical(r Source, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			panic(fmt.Sprintf("prior.Categorical: weights must be finite and non-negative, got %v", weights))
		}
		sum += w
	}
	if !(sum > 0) {
		panic("prior.Categorical: weights sum to zero")
	}
	u := r.Float64() * sum
	acc := 0.0
	last := 0
	for i, w := range weights {
		if w == 0 {
			continue
		}
		acc += w
		last = i
		if u < acc {
			return i
		}
	}
	// Rounding left u at or above the final partial sum.
	return last
}

// ZipfCDF returns the cumulative distribution of the Zipf law over n
// categories, P(k) proportional to (k+1)^-s for k = 0..n-1, for repeated
// draws with SampleCDF.
func ZipfCDF(n int, s float64) []float64 {
	if n <= 0 {
		panic(fmt.Sprintf("prior.ZipfCDF: n must be positive, got %d", n))
	}
	cdf := make([]float64, n)
	acc := 0.0
	for k := range cdf {
		acc += math.Pow(float64(k+1), -s)
		cdf[k] = acc
	}
	for k := range cdf {
		cdf[k] /= acc
	}
	cdf[n-1] = 1
	return cdf
}

// SampleCDF draws an index from a cumulative distribution (non-decreasing,
// last entry 1) by exact inversion.
func SampleCDF(r Source, cdf []float64) int {
	u := r.Float64()
	k := sort.SearchFloat64s(cdf, u)
	// SearchFloat64s finds the first cdf[k] >= u; a category is chosen when
	// u < cdf[k], so step over ties equal to u.
	for k < len(cdf)-1 && cdf[k] <= u {
		k++
	}
	return k
}

// Zipf returns a category in [0, n) with P(k) proportional to (k+1)^-s, by
// exact inversion of the CDF. It costs O(n); use ZipfCDF and SampleCDF for
// many draws with the same law.
func Zipf(r Source, n int, s float64) int { return SampleCDF(r, ZipfCDF(n, s)) }

// IntRange returns a uniform integer in [lo, hi], both inclusive.
func IntRange(r Source, lo, hi int) int {
	if hi < lo {
		panic(fmt.Sprintf("prior.IntRange: empty range [%d, %d]", lo, hi))
	}
	return lo + r.Intn(hi-lo+1)
}

// LogUniformInt returns an integer in [lo, hi] whose logarithm is roughly
// uniform; lo must be at least 1.
func LogUniformInt(r Source, lo, hi int) int {
	if lo < 1 || hi < lo {
		panic(fmt.Sprintf("prior.LogUniformInt: bad range [%d, %d]", lo, hi))
	}
	v := int(math.Floor(LogUniform(r, float64(lo), float64(hi)+1)))
	return min(max(v, lo), hi)
}

// Choice returns a uniformly chosen element of xs, which must be non-empty.
func Choice[T any](r Source, xs []T) T {
	if len(xs) == 0 {
		panic("prior.Choice: empty slice")
	}
	return xs[r.Intn(len(xs))]
}

// WeightedChoice returns xs[i] with probability weights[i]/sum(weights).
func WeightedChoice[T any](r Source, xs []T, weights []float64) T {
	if len(xs) != len(weights) {
		panic(fmt.Sprintf("prior.WeightedChoice: %d items but %d weights", len(xs), len(weights)))
	}
	return xs[Categorical(r, weights)]
}

// SampleWithoutReplacement returns k distinct indices from [0, n) in random
// order (partial Fisher-Yates).
func SampleWithoutReplacement(r Source, n, k int) []int {
	if k < 0 || k > n {
		panic(fmt.Sprintf("prior.SampleWithoutReplacement: k=%d out of [0, %d]", k, n))
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + r.Intn(n-i)
		p[i], p[j] = p[j], p[i]
	}
	return p[:k]
}

// Shuffle permutes xs in place (Fisher-Yates).
func Shuffle[T any](r Source, xs []T) {
	for i := len(xs) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		xs[i], xs[j] = xs[j], xs[i]
	}
}
