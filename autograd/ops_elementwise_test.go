package autograd

import (
	"fmt"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

type binaryVarOp func(tp *Tape, a, b *Var) *Var

func TestGradBinary(t *testing.T) {
	ops := []struct {
		name string
		op   binaryVarOp
		// b's values: Div needs a divisor away from 0.
		bgen func(seed uint64, shape ...int) *tensor.Tensor
	}{
		{"Add", (*Tape).Add, randn},
		{"Sub", (*Tape).Sub, randn},
		{"Mul", (*Tape).Mul, randn},
		{"Div", (*Tape).Div, func(s uint64, sh ...int) *tensor.Tensor { return awayFrom0(s, 0.5, sh...) }},
		{"Maximum", (*Tape).Maximum, randn},
		{"Minimum", (*Tape).Minimum, randn},
	}
	shapes := [][2][]int{
		{{3, 5}, {3, 5}},
		{{2, 3, 5}, {5}},
		{{3, 1}, {1, 4}},
		{{}, {2, 3}},
		{{4, 1, 3}, {2, 1}},
		{{1, 7}, {3, 1, 1}},
	}
	var cases []gradCase
	for _, o := range ops {
		for i, s := range shapes {
			op := o.op
			cases = append(cases, gradCase{
				name:   fmt.Sprintf("%s/%v%v", o.name, s[0], s[1]),
				f:      func(tp *Tape, in []*Var) *Var { return op(tp, in[0], in[1]) },
				inputs: []*tensor.Tensor{randn(uint64(10+i), s[0]...), o.bgen(uint64(20+i), s[1]...)},
			})
		}
		op := o.op
		// A transposed (strided) operand, and the same Var on both sides.
		cases = append(cases,
			gradCase{
				name:   o.name + "/transposed",
				f:      func(tp *Tape, in []*Var) *Var { return op(tp, tp.Transpose(in[0], 0, 1), in[1]) },
				inputs: []*tensor.Tensor{randn(30, 4, 3), o.bgen(31, 3, 4)},
			},
			gradCase{
				name:   o.name + "/const-b",
				f:      func(tp *Tape, in []*Var) *Var { return op(tp, in[0], in[1]) },
				inputs: []*tensor.Tensor{randn(32, 2, 3), o.bgen(33, 3)},
				opt:    GradCheckOptions{Const: []int{1}},
			},
		)
	}
	cases = append(cases,
		gradCase{name: "Mul/same-var", f: func(tp *Tape, in []*Var) *Var { return tp.Mul(in[0], in[0]) }, inputs: []*tensor.Tensor{randn(40, 3, 4)}},
		gradCase{name: "Div/same-var-chain", f: func(tp *Tape, in []*Var) *Var {
			return tp.Div(tp.Exp(in[0]), tp.AddScalar(tp.Square(in[0]), 1))
		}, inputs: []*tensor.Tensor{randn(41, 3, 4)}},
	)
	runGradCases(t, cases)
}

func TestGradUnary(t *testing.T) {
	shape := []int{2, 3, 7}
	anyx := func(seed uint64) *tensor.Tensor { return randn(seed, shape...) }
	pos := func(seed uint64) *tensor.Tensor { return randu(seed, 0.2, 3, shape...) }
	away := func(seed uint64) *tensor.Tensor { return awayFrom0(seed, 0.1, shape...) }
	ops := []struct {
		name string
		op   func(tp *Tape, a *Var) *Var
		gen  func(seed uint64) *tensor.Tensor
	}{
		{"Neg", (*Tape).Neg, anyx},
		{"Scale", func(tp *Tape, a *Var) *Var { return tp.Scale(a, -2.5) }, anyx},
		{"AddScalar", func(tp *Tape, a *Var) *Var { return tp.AddScalar(a, 0.7) }, anyx},
		{"Exp", (*Tape).Exp, anyx},
		{"Log", (*Tape).Log, pos},
		{"Tanh", (*Tape).Tanh, anyx},
		{"Sigmoid", (*Tape).Sigmoid, anyx},
		{"SiLU", (*Tape).SiLU, anyx},
		{"ReLU", (*Tape).ReLU, away},
		{"GELUTanh", (*Tape).GELUTanh, anyx},
		{"GELUErf", (*Tape).GELUErf, anyx},
		{"Sqrt", (*Tape).Sqrt, pos},
		{"Square", (*Tape).Square, anyx},
		{"Abs", (*Tape).Abs, away},
		{"PowScalar1.7", func(tp *Tape, a *Var) *Var { return tp.PowScalar(a, 1.7) }, pos},
		{"PowScalar-0.5", func(tp *Tape, a *Var) *Var { return tp.PowScalar(a, -0.5) }, pos},
		{"PowScalar3", func(tp *Tape, a *Var) *Var { return tp.PowScalar(a, 3) }, anyx},
	}
	var cases []gradCase
	for i, o := range ops {
		op := o.op
		cases = append(cases,
			gradCase{name: o.name, f: func(tp *Tape, in []*Var) *Var { return op(tp, in[0]) }, inputs: []*tensor.Tensor{o.gen(uint64(100 + i))}},
			// The same op on a strided view, scaled first so the incoming
			// gradient is not W itself.
			gradCase{name: o.name + "/view", f: func(tp *Tape, in []*Var) *Var {
				return tp.Scale(op(tp, tp.Transpose(in[0], 0, 2)), 1.5)
			}, inputs: []*tensor.Tensor{o.gen(uint64(200 + i))}},
		)
	}
	runGradCases(t, cases)
}

func TestGradWhereMaskedFill(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Where/broadcast", f: func(tp *Tape, in []*Var) *Var {
			return tp.Where(mask01(1, 3, 1), in[0], in[1])
		}, inputs: []*tensor.Tensor{randn(2, 3, 4), randn(3, 4)}},
		{name: "Where/scalar-a", f: func(tp *Tape, in []*Var) *Var {
			return tp.Where(mask01(4, 2, 3, 4), in[0], in[1])
		}, inputs: []*tensor.Tensor{randn(5), randn(6, 3, 1)}},
		{name: "MaskedFill", f: func(tp *Tape, in []*Var) *Var {
			return tp.MaskedFill(in[0], mask01(7, 3, 1), 0.5)
		}, inputs: []*tensor.Tensor{randn(8, 2, 3, 4)}},
		{name: "MaskedFill/view", f: func(tp *Tape, in []*Var) *Var {
			return tp.MaskedFill(tp.Permute(in[0], 2, 0, 1), mask01(9, 4, 2, 3), -1)
		}, inputs: []*tensor.Tensor{randn(10, 2, 3, 4)}},
	})
}

// Ties in Maximum/Minimum split the gradient evenly.
func TestGradMaximumTies(t *testing.T) {
	a := Param(tensor.FromFloat64s([]float64{1, 2, 3, 4}, 4))
	b := Param(tensor.FromFloat64s([]float64{1, 5, 3, 0}, 4))
	for _, name := range []string{"Maximum", "Minimum"} {
		a.Grad, b.Grad = nil, nil
		tp := NewTape()
		var y *Var
		if name == "Maximum" {
			y = tp.Maximum(a, b)
		} else {
			y = tp.Minimum(a, b)
		}
		tp.BackwardWith(y, tensor.FromFloat64s([]float64{2, 2, 4, 2}, 4))
		wantA, wantB := []float64{1, 0, 2, 2}, []float64{1, 2, 2, 0}
		if name == "Minimum" {
			wantA, wantB = []float64{1, 2, 2, 0}, []float64{1, 0, 2, 2}
		}
		approxEqual(t, name+" da", a.Grad.Float64s(), wantA, 0)
		approxEqual(t, name+" db", b.Grad.Float64s(), wantB, 0)
		tp.Release()
	}
}
