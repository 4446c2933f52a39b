package autograd

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradIndex(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Concat/axis1", f: func(tp *Tape, in []*Var) *Var {
			return tp.Concat(1, in[0], in[1], in[2])
		}, inputs: []*tensor.Tensor{randn(1, 2, 3, 4), randn(2, 2, 1, 4), randn(3, 2, 2, 4)}},
		{name: "Concat/last-negative", f: func(tp *Tape, in []*Var) *Var {
			return tp.Concat(-1, in[0], tp.Transpose(in[1], 0, 1))
		}, inputs: []*tensor.Tensor{randn(4, 3, 2), randn(5, 5, 3)}},
		{name: "Concat/const-and-repeat", f: func(tp *Tape, in []*Var) *Var {
			return tp.Concat(0, in[0], in[1], in[0])
		}, inputs: []*tensor.Tensor{randn(6, 2, 3), randn(7, 1, 3)}, opt: GradCheckOptions{Const: []int{1}}},
		{name: "Split/unused-piece", f: func(tp *Tape, in []*Var) *Var {
			p := tp.Split(in[0], 1, 2, 3, 1)
			return tp.Concat(1, tp.Tanh(p[2]), p[0])
		}, inputs: []*tensor.Tensor{randn(8, 2, 6, 3)}},
		{name: "Split/all-pieces", f: func(tp *Tape, in []*Var) *Var {
			p := tp.Split(in[0], -1, 3, 3)
			return tp.Add(tp.Mul(p[0], p[1]), p[1])
		}, inputs: []*tensor.Tensor{randn(9, 4, 6)}},
		{name: "Split/single-piece-used", f: func(tp *Tape, in []*Var) *Var {
			return tp.Split(in[0], 0, 1, 2, 1)[1]
		}, inputs: []*tensor.Tensor{randn(10, 4, 3)}},
		{name: "IndexSelect/rows-repeated", f: func(tp *Tape, in []*Var) *Var {
			return tp.IndexSelect(in[0], 0, []int{3, 1, 1, 0, 3})
		}, inputs: []*tensor.Tensor{randn(11, 4, 3)}},
		{name: "IndexSelect/middle-axis", f: func(tp *Tape, in []*Var) *Var {
			return tp.IndexSelect(in[0], 1, []int{4, 0, 4})
		}, inputs: []*tensor.Tensor{randn(12, 2, 5, 3)}},
		{name: "IndexSelect/view", f: func(tp *Tape, in []*Var) *Var {
			return tp.IndexSelect(tp.Transpose(in[0], 0, 1), -1, []int{1, 1})
		}, inputs: []*tensor.Tensor{randn(13, 3, 2, 4)}},
	})
}

// IndexSelect copies its index slice: reusing the caller's slice after the
// forward pass does not change the gradient.
func TestIndexSelectKeepsIndices(t *testing.T) {
	x := Param(tensor.FromFloat64s([]float64{1, 2, 3}, 3))
	idx := []int{2, 2, 0}
	tp := NewTape()
	y := tp.IndexSelect(x, 0, idx)
	idx[0], idx[1], idx[2] = 1, 1, 1
	tp.BackwardWith(y, tensor.FromFloat64s([]float64{1, 10, 100}, 3))
	approxEqual(t, "dx", x.Grad.Float64s(), []float64{100, 0, 11}, 0)
	tp.Release()
}
