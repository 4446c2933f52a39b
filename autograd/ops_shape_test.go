package autograd

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradViews(t *testing.T) {
	one := func(f func(tp *Tape, a *Var) *Var) GradFunc {
		return func(tp *Tape, in []*Var) *Var { return f(tp, in[0]) }
	}
	x := func(seed uint64) []*tensor.Tensor { return []*tensor.Tensor{randn(seed, 2, 3, 4)} }
	runGradCases(t, []gradCase{
		{name: "Reshape", f: one(func(tp *Tape, a *Var) *Var { return tp.Reshape(a, 4, -1) }), inputs: x(1)},
		{name: "Reshape/copy", f: one(func(tp *Tape, a *Var) *Var { return tp.Reshape(tp.Transpose(a, 0, 2), -1) }), inputs: x(2)},
		{name: "Reshape/chain", f: one(func(tp *Tape, a *Var) *Var {
			return tp.Mul(tp.Reshape(tp.Tanh(a), 6, 4), tp.Reshape(a, 6, 4))
		}), inputs: x(3)},
		{name: "Permute", f: one(func(tp *Tape, a *Var) *Var { return tp.Permute(a, 2, 0, 1) }), inputs: x(4)},
		{name: "Permute/negative", f: one(func(tp *Tape, a *Var) *Var { return tp.Tanh(tp.Permute(a, -1, 0, -2)) }), inputs: x(5)},
		{name: "Transpose", f: one(func(tp *Tape, a *Var) *Var { return tp.Transpose(a, 0, -1) }), inputs: x(6)},
		{name: "Transpose/plus-self", f: one(func(tp *Tape, a *Var) *Var { return tp.Add(a, tp.Transpose(a, 0, 1)) }), inputs: []*tensor.Tensor{randn(7, 3, 3)}},
		{name: "Slice", f: one(func(tp *Tape, a *Var) *Var { return tp.Slice(a, 1, 1, 3) }), inputs: x(8)},
		{name: "Slice/overlapping", f: one(func(tp *Tape, a *Var) *Var {
			return tp.Mul(tp.Slice(a, -1, 0, 3), tp.Slice(a, -1, 1, 4))
		}), inputs: x(9)},
		{name: "Slice/empty", f: one(func(tp *Tape, a *Var) *Var {
			return tp.Concat(0, tp.Slice(a, 0, 1, 1), tp.Slice(a, 0, 0, 1))
		}), inputs: x(10)},
		{name: "Expand", f: one(func(tp *Tape, a *Var) *Var { return tp.Expand(a, 2, 3, 4) }), inputs: []*tensor.Tensor{randn(11, 3, 1)}},
		{name: "Expand/same", f: one(func(tp *Tape, a *Var) *Var { return tp.Tanh(tp.Expand(a, 3, 4)) }), inputs: []*tensor.Tensor{randn(12, 3, 4)}},
		{name: "Unsqueeze", f: one(func(tp *Tape, a *Var) *Var { return tp.Unsqueeze(a, 1) }), inputs: x(13)},
		{name: "Unsqueeze/end", f: one(func(tp *Tape, a *Var) *Var { return tp.Mul(tp.Unsqueeze(a, -1), a) }), inputs: []*tensor.Tensor{randn(14, 4)}},
		{name: "Squeeze/all", f: one(func(tp *Tape, a *Var) *Var { return tp.Squeeze(a) }), inputs: []*tensor.Tensor{randn(15, 1, 3, 1, 4)}},
		{name: "Squeeze/axis", f: one(func(tp *Tape, a *Var) *Var { return tp.Squeeze(a, 2) }), inputs: []*tensor.Tensor{randn(16, 1, 3, 1, 4)}},
		{name: "Contiguous", f: one(func(tp *Tape, a *Var) *Var { return tp.Contiguous(tp.Transpose(a, 1, 2)) }), inputs: x(17)},
		{name: "Contiguous/noop", f: one(func(tp *Tape, a *Var) *Var { return tp.Contiguous(tp.Tanh(a)) }), inputs: x(18)},
	})
}

// View ops share the input's storage; Reshape copies (and then owns its
// output) only when the layout requires it.
func TestViewsShareStorage(t *testing.T) {
	tp := NewTape()
	a := Param(randn(1, 2, 3, 4))
	for name, v := range map[string]*Var{
		"Reshape":   tp.Reshape(a, 6, 4),
		"Permute":   tp.Permute(a, 1, 2, 0),
		"Transpose": tp.Transpose(a, 0, 1),
		"Slice":     tp.Slice(a, 2, 1, 3),
		"Expand":    tp.Expand(a, 5, 2, 3, 4),
		"Unsqueeze": tp.Unsqueeze(a, 0),
		"Squeeze":   tp.Squeeze(tp.Unsqueeze(a, 0)),
		"Split":     tp.Split(a, 1, 1, 2)[1],
	} {
		if v.Value.Storage() != a.Value.Storage() {
			t.Errorf("%s copied its input", name)
		}
	}
	if len(tp.temps) != 0 {
		t.Errorf("views handed %d tensors to the tape", len(tp.temps))
	}
	r := tp.Reshape(tp.Transpose(a, 0, 2), 24)
	if r.Value.Storage() == a.Value.Storage() || len(tp.temps) != 1 {
		t.Errorf("Reshape of a transposed view: shares storage %v, tape owns %d tensors (want a copy owned by the tape)",
			r.Value.Storage() == a.Value.Storage(), len(tp.temps))
	}
	want := a.Value.Transpose(0, 2).Contiguous().Float64s()
	approxEqual(t, "Reshape copy", r.Value.Float64s(), want, 0)
	tp.Release()
}
