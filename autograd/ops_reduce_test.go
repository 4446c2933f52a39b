package autograd

import (
	"fmt"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradReduce(t *testing.T) {
	type red func(tp *Tape, a *Var, keep bool, axes ...int) *Var
	ops := []struct {
		name string
		op   red
	}{{"Sum", (*Tape).Sum}, {"Mean", (*Tape).Mean}, {"Max", (*Tape).Max}}
	axesCases := []struct {
		keep bool
		axes []int
	}{
		{false, []int{1}},
		{true, []int{0, 2}},
		{false, nil},
		{true, nil},
		{false, []int{-1}},
		{true, []int{2, 0}},
	}
	var cases []gradCase
	for i, o := range ops {
		for j, ac := range axesCases {
			op, ac := o.op, ac
			// Random normals have unique maxima (almost surely), so Max is
			// differentiable at the test point.
			cases = append(cases, gradCase{
				name:   fmt.Sprintf("%s/keep=%v/axes=%v", o.name, ac.keep, ac.axes),
				f:      func(tp *Tape, in []*Var) *Var { return op(tp, in[0], ac.keep, ac.axes...) },
				inputs: []*tensor.Tensor{randn(uint64(10*i+j), 2, 3, 5)},
			})
		}
		op := o.op
		cases = append(cases,
			gradCase{name: o.name + "/view", f: func(tp *Tape, in []*Var) *Var {
				return op(tp, tp.Permute(in[0], 2, 0, 1), false, 1)
			}, inputs: []*tensor.Tensor{randn(uint64(50+i), 3, 4, 2)}},
			gradCase{name: o.name + "/chain", f: func(tp *Tape, in []*Var) *Var {
				return tp.Mul(op(tp, tp.Tanh(in[0]), true, -1), in[0])
			}, inputs: []*tensor.Tensor{randn(uint64(60+i), 4, 6)}},
		)
	}
	runGradCases(t, cases)
}

// Max splits the gradient evenly between tied maxima.
func TestGradMaxTies(t *testing.T) {
	x := Param(tensor.FromFloat64s([]float64{
		1, 3, 3, 0,
		2, 2, 2, -1,
		5, 1, 2, 3,
	}, 3, 4))
	tp := NewTape()
	y := tp.Max(x, false, 1)
	tp.BackwardWith(y, tensor.FromFloat64s([]float64{2, 3, 4}, 3))
	approxEqual(t, "dx", x.Grad.Float64s(), []float64{
		0, 1, 1, 0,
		1, 1, 1, 0,
		4, 0, 0, 0,
	}, 1e-15)
	tp.Release()
}
