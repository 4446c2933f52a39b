package autograd

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradPinball(t *testing.T) {
	taus := tensor.FromFloat64s([]float64{0.1, 0.5, 0.9}, 3)
	runGradCases(t, []gradCase{
		{name: "pred-and-target", f: func(tp *Tape, in []*Var) *Var {
			return tp.Pinball(in[0], in[1], in[2])
		}, inputs: []*tensor.Tensor{randn(1, 6, 3), randn(2, 6), taus}, opt: GradCheckOptions{Const: []int{2}}},
		{name: "pred-only", f: func(tp *Tape, in []*Var) *Var {
			return tp.Pinball(in[0], in[1], in[2])
		}, inputs: []*tensor.Tensor{randn(3, 7, 3), randn(4, 7), taus}, opt: GradCheckOptions{Const: []int{1, 2}}},
		{name: "pred-view", f: func(tp *Tape, in []*Var) *Var {
			return tp.Pinball(tp.Transpose(in[0], 0, 1), in[1], in[2])
		}, inputs: []*tensor.Tensor{randn(5, 3, 4), randn(6, 4), taus}, opt: GradCheckOptions{Const: []int{2}}},
		{name: "chain", f: func(tp *Tape, in []*Var) *Var {
			return tp.Pinball(tp.MatMul(in[0], in[1]), in[2], in[3])
		}, inputs: []*tensor.Tensor{randn(7, 5, 4), randn(8, 4, 3), randn(9, 5), taus}, opt: GradCheckOptions{Const: []int{2, 3}}},
	})
}

// taus get no gradient even when they require one, and alone they do not
// make the loss require one.
func TestPinballTausNoGradient(t *testing.T) {
	taus := Param(tensor.FromFloat64s([]float64{0.25, 0.75}, 2))
	pred, target := Const(randn(1, 4, 2)), Const(randn(2, 4))
	tp := NewTape()
	if l := tp.Pinball(pred, target, taus); l.RequiresGrad() || tp.Len() != 0 {
		t.Fatalf("a loss whose only trainable input is taus requires grad (%v, %d ops)", l.RequiresGrad(), tp.Len())
	}
	pred = Param(randn(3, 4, 2))
	tp.Backward(tp.Pinball(pred, target, taus))
	if taus.Grad != nil {
		t.Fatal("taus received a gradient")
	}
	if pred.Grad == nil {
		t.Fatal("pred received no gradient")
	}
	tp.Release()
}
