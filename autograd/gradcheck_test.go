package autograd

import (
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// wrongTanh is tanh with a deliberately wrong derivative (1 - y instead of
// 1 - y^2), to show that CheckGrad catches a bad backward rule.
func wrongTanh(tp *Tape, a *Var) *Var {
	out := tensor.Tanh(a.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		d := tensor.Mul(g, tensor.AddScalar(tensor.Neg(out), 1))
		tp.give(a, d)
	}, a)
}

func TestGradCheckCatchesWrongGradient(t *testing.T) {
	x := randn(1, 3, 4)
	_, err := CheckGrad(func(tp *Tape, in []*Var) *Var { return wrongTanh(tp, in[0]) }, []*tensor.Tensor{x}, GradCheckOptions{Seed: 3})
	if err == nil || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("CheckGrad accepted a wrong derivative (err %v)", err)
	}
	// The correct rule on the same input passes.
	rep, err := CheckGrad(func(tp *Tape, in []*Var) *Var { return tp.Tanh(in[0]) }, []*tensor.Tensor{x}, GradCheckOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 12 {
		t.Fatalf("checked %d elements, want 12", rep.Checked)
	}
}

func TestGradCheckCatchesMissingGradient(t *testing.T) {
	// An op that forgets the gradient of its second operand.
	f := func(tp *Tape, in []*Var) *Var {
		out := tensor.Mul(in[0].Value, in[1].Value)
		return tp.result(out, true, func(g *tensor.Tensor) {
			tp.give(in[0], tensor.Mul(g, in[1].Value))
		}, in[0], in[1])
	}
	if _, err := CheckGrad(f, []*tensor.Tensor{randn(1, 5), randn(2, 5)}, GradCheckOptions{}); err == nil {
		t.Fatal("CheckGrad accepted a missing gradient")
	}
	// With the second operand constant, the same op is right.
	if _, err := CheckGrad(f, []*tensor.Tensor{randn(1, 5), randn(2, 5)}, GradCheckOptions{Const: []int{1}}); err != nil {
		t.Fatal(err)
	}
}

func TestGradCheckRejectsConstOutput(t *testing.T) {
	f := func(tp *Tape, in []*Var) *Var { return tp.Tanh(in[0]) }
	if _, err := CheckGrad(f, []*tensor.Tensor{randn(1, 5)}, GradCheckOptions{Const: []int{0}}); err == nil {
		t.Fatal("CheckGrad accepted an output that needs no gradient")
	}
}
