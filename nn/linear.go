package nn

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
)

// Linear is an affine map over the last axis: y = x W^T + b with W of shape
// [out, in] (PyTorch's layout) and an optional bias b of shape [out].
type Linear struct {
	Weight *autograd.Var // [out, in]
	Bias   *autograd.Var // [out], or nil
	In     int
	Out    int
}

// NewLinear returns a Linear layer with PyTorch's default initialisation
// (weight and bias U(-1/sqrt(in), 1/sqrt(in))); without bias when bias is
// false.
func NewLinear(b *Builder, in, out int, bias bool) *Linear {
	var bi Initializer
	if bias {
		bi = LinearBias(in)
	}
	return NewLinearInit(b, in, out, LinearDefault(), bi)
}

// NewLinearInit returns a Linear layer with the given weight initialiser and
// bias initialiser (nil for no bias).
func NewLinearInit(b *Builder, in, out int, weight, bias Initializer) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn.NewLinear: sizes in=%d out=%d must be positive", in, out))
	}
	l := &Linear{Weight: b.Param(weight, out, in), In: in, Out: out}
	if bias != nil {
		l.Bias = b.Param(bias, out)
	}
	return l
}

// VisitParams implements Module: "weight" and, when present, "bias".
func (l *Linear) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	fn(Join(prefix, "weight"), l.Weight)
	if l.Bias != nil {
		fn(Join(prefix, "bias"), l.Bias)
	}
}

// Forward maps x [..., in] to [..., out]. The leading axes are flattened into
// rows so that the product is one matrix multiplication whatever x's rank.
func (l *Linear) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	return linear(tp, x, l.Weight, l.Bias, "Linear")
}

// linear computes x w^T (+ b) over the last axis of x for a weight w [out, in].
func linear(tp *autograd.Tape, x, w, b *autograd.Var, op string) *autograd.Var {
	s := x.Shape()
	in, out := w.Shape()[1], w.Shape()[0]
	if len(s) == 0 || s[len(s)-1] != in {
		panic(fmt.Sprintf("nn.%s: input shape %v, weight %v: last axis must be %d", op, s, w.Shape(), in))
	}
	rows := s[:len(s)-1].Numel()
	x2 := x
	if len(s) != 2 {
		x2 = tp.Reshape(x, rows, in)
	}
	y := tp.MatMulT(x2, w, false, true)
	if b != nil {
		y = tp.Add(y, b)
	}
	if len(s) == 2 {
		return y
	}
	outShape := append(s[:len(s)-1:len(s)-1].Clone(), out)
	return tp.Reshape(y, outShape...)
}
