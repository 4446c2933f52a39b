package nn

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
)

// LayerNorm normalises the last axis to zero mean and unit variance, then
// applies an optional learned gain and shift:
// y = (x - mean)/sqrt(var + eps) * weight + bias.
type LayerNorm struct {
	Weight *autograd.Var // [dim] gain, or nil
	Bias   *autograd.Var // [dim] shift, or nil
	Dim    int
	Eps    float64
}

// NewLayerNorm returns a LayerNorm over dim features; with affine it has a
// gain initialised to 1 and a shift initialised to 0, without it has no
// parameters.
func NewLayerNorm(b *Builder, dim int, affine bool, eps float64) *LayerNorm {
	if dim <= 0 {
		panic(fmt.Sprintf("nn.NewLayerNorm: dim %d must be positive", dim))
	}
	l := &LayerNorm{Dim: dim, Eps: eps}
	if affine {
		l.Weight = b.Param(Ones(), dim)
		l.Bias = b.Param(Zeros(), dim)
	}
	return l
}

// VisitParams implements Module: "weight" and "bias" when affine.
func (l *LayerNorm) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	if l.Weight != nil {
		fn(Join(prefix, "weight"), l.Weight)
	}
	if l.Bias != nil {
		fn(Join(prefix, "bias"), l.Bias)
	}
}

// Forward normalises x [..., dim].
func (l *LayerNorm) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	checkLastDim("LayerNorm", x, l.Dim)
	return tp.LayerNorm(x, l.Weight, l.Bias, l.Eps)
}

// RMSNorm scales the last axis to unit root mean square, then applies an
// optional learned gain: y = x/sqrt(mean(x^2) + eps) * weight.
type RMSNorm struct {
	Weight *autograd.Var // [dim] gain, or nil
	Dim    int
	Eps    float64
}

// NewRMSNorm returns an RMSNorm over dim features, with a gain initialised to
// 1 when scale is set (the reference model's blocks use none).
func NewRMSNorm(b *Builder, dim int, scale bool, eps float64) *RMSNorm {
	if dim <= 0 {
		panic(fmt.Sprintf("nn.NewRMSNorm: dim %d must be positive", dim))
	}
	r := &RMSNorm{Dim: dim, Eps: eps}
	if scale {
		r.Weight = b.Param(Ones(), dim)
	}
	return r
}

// VisitParams implements Module: "weight" when scaled.
func (r *RMSNorm) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	if r.Weight != nil {
		fn(Join(prefix, "weight"), r.Weight)
	}
}

// Forward normalises x [..., dim].
func (r *RMSNorm) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	checkLastDim("RMSNorm", x, r.Dim)
	return tp.RMSNorm(x, r.Weight, r.Eps)
}

func checkLastDim(op string, x *autograd.Var, dim int) {
	s := x.Shape()
	if len(s) == 0 || s[len(s)-1] != dim {
		panic(fmt.Sprintf("nn.%s: input shape %v, want last axis %d", op, s, dim))
	}
}
