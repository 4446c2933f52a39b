package prior

import (
	"fmt"
	"math"
)

// Root (exogenous) node distributions of the SCM. Real tabular inputs are
// rarely Gaussian: amounts are log-normal or Pareto, rates live in [0, 1]
// (beta), measurement errors are heavy-tailed (Student-t), and populations
// are mixtures of subgroups. Every root is robustly standardised afterwards,
// so only the shape of each law matters, not its location or scale.

// scmRootKinds are the root laws, in the order of scmRootWeights.
var scmRootKinds = []string{"normal", "uniform", "beta", "lognormal", "student_t", "pareto", "gauss_mixture"}

// scmRootWeights favour the common shapes while keeping every law frequent.
var scmRootWeights = []float64{0.22, 0.16, 0.12, 0.14, 0.12, 0.08, 0.16}

// scmRoot is one sampled root law with its parameters.
type scmRoot struct {
	kind string
	// a, b are the law's parameters (beta: a, b; lognormal: sigma; Student-t:
	// df; Pareto: alpha).
	a, b float64
	// Gaussian mixture components.
	weights, means, sds []float64
}

// newSCMRoot draws a root law.
func newSCMRoot(r Source) scmRoot {
	kind := WeightedChoice(r, scmRootKinds, scmRootWeights)
	rt := scmRoot{kind: kind}
	switch kind {
	case "beta":
		rt.a, rt.b = LogUniform(r, 0.3, 5), LogUniform(r, 0.3, 5)
	case "lognormal":
		rt.a = Uniform(r, 0.3, 1.5)
	case "student_t":
		rt.a = LogUniform(r, 1.5, 15)
	case "pareto":
		rt.a = Uniform(r, 1.2, 4)
	case "gauss_mixture":
		k := IntRange(r, 2, 4)
		rt.weights = DirichletSym(r, k, 2)
		rt.means = make([]float64, k)
		rt.sds = make([]float64, k)
		for i := range rt.means {
			rt.means[i] = Normal(r, 0, 3)
			rt.sds[i] = LogUniform(r, 0.2, 1.5)
		}
	}
	return rt
}

// String describes the law for Info.Params.
func (rt scmRoot) String() string {
	switch rt.kind {
	case "beta":
		return fmt.Sprintf("beta(%.3g,%.3g)", rt.a, rt.b)
	case "lognormal":
		return fmt.Sprintf("lognormal(sigma=%.3g)", rt.a)
	case "student_t":
		return fmt.Sprintf("student_t(df=%.3g)", rt.a)
	case "pareto":
		return fmt.Sprintf("pareto(alpha=%.3g)", rt.a)
	case "gauss_mixture":
		return fmt.Sprintf("gauss_mixture(k=%d)", len(rt.weights))
	}
	return rt.kind
}

// sample fills dst with independent draws of the law.
func (rt scmRoot) sample(f *FastRNG, dst []float64) {
	switch rt.kind {
	case "normal":
		f.FillNormal(dst, 0, 1)
	case "uniform":
		f.FillUniform(dst, -1, 1)
	case "beta":
		for i := range dst {
			dst[i] = Beta(f, rt.a, rt.b)
		}
	case "lognormal":
		f.FillNormal(dst, 0, rt.a)
		for i, v := range dst {
			dst[i] = math.Exp(v)
		}
	case "student_t":
		for i := range dst {
			dst[i] = StudentT(f, rt.a)
		}
	case "pareto":
		for i := range dst {
			dst[i] = Pareto(f, rt.a)
		}
	case "gauss_mixture":
		cdf := make([]float64, len(rt.weights))
		acc := 0.0
		for i, w := range rt.weights {
			acc += w
			cdf[i] = acc
		}
		cdf[len(cdf)-1] = 1
		for i := range dst {
			k := SampleCDF(f, cdf)
			dst[i] = rt.means[k] + rt.sds[k]*f.NormFloat64()
		}
	default:
		panic("prior: unknown SCM root kind " + rt.kind)
	}
}
