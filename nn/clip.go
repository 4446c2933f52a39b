package nn

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// GradNorm returns the global L2 norm of the gradients of params: the sum of
// tensor.SumSquares of each gradient (a fixed-order float64 sum) added in
// parameter order in float64, then the square root. Parameters without a
// gradient count as zero.
func GradNorm(params []NamedParam) float64 {
	s := 0.0
	for _, p := range params {
		if p.Var.Grad != nil {
			s += tensor.SumSquares(p.Var.Grad)
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales the gradients of params so that their global norm is at
// most maxNorm and returns the norm before clipping. The scale is
// maxNorm/(norm+1e-6) (PyTorch's), applied only when norm > maxNorm. A
// non-finite norm (an overflowed or NaN gradient) is returned without
// touching the gradients: the caller should skip that step.
func ClipGradNorm(params []NamedParam, maxNorm float64) float64 {
	norm := GradNorm(params)
	if math.IsNaN(norm) || math.IsInf(norm, 0) || norm <= maxNorm {
		return norm
	}
	scale := maxNorm / (norm + 1e-6)
	for _, p := range params {
		if g := p.Var.Grad; g != nil {
			s := tensor.Scale(g, scale)
			g.CopyFrom(s)
			s.Release()
		}
	}
	return norm
}
