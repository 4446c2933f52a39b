package autograd

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradNorm(t *testing.T) {
	one := func(f func(tp *Tape, a *Var) *Var) GradFunc {
		return func(tp *Tape, in []*Var) *Var { return f(tp, in[0]) }
	}
	const eps = 1e-5
	runGradCases(t, []gradCase{
		{name: "Softmax", f: one((*Tape).Softmax), inputs: []*tensor.Tensor{randn(1, 3, 7)}},
		{name: "Softmax/3d", f: one((*Tape).Softmax), inputs: []*tensor.Tensor{randn(2, 2, 3, 5)}},
		{name: "Softmax/one-column", f: one((*Tape).Softmax), inputs: []*tensor.Tensor{randn(3, 4, 1)}},
		{name: "Softmax/view", f: one(func(tp *Tape, a *Var) *Var { return tp.Softmax(tp.Transpose(a, 0, 1)) }), inputs: []*tensor.Tensor{randn(4, 5, 3)}},
		{name: "LogSoftmax", f: one((*Tape).LogSoftmax), inputs: []*tensor.Tensor{randn(5, 3, 7)}},
		{name: "LogSoftmax/view", f: one(func(tp *Tape, a *Var) *Var { return tp.LogSoftmax(tp.Transpose(a, 0, 1)) }), inputs: []*tensor.Tensor{randn(6, 5, 3)}},
		{name: "LayerNorm", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], in[1], in[2], eps)
		}, inputs: []*tensor.Tensor{randn(7, 3, 2, 7), randn(8, 7), randn(9, 7)}},
		{name: "LayerNorm/no-params", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], nil, nil, eps)
		}, inputs: []*tensor.Tensor{randn(10, 4, 6)}},
		{name: "LayerNorm/gamma-only", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], in[1], nil, eps)
		}, inputs: []*tensor.Tensor{randn(11, 4, 5), randn(12, 5)}},
		{name: "LayerNorm/beta-only", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], nil, in[1], eps)
		}, inputs: []*tensor.Tensor{randn(13, 4, 5), randn(14, 5)}},
		{name: "LayerNorm/const-params", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], in[1], in[2], eps)
		}, inputs: []*tensor.Tensor{randn(15, 3, 5), randn(16, 5), randn(17, 5)}, opt: GradCheckOptions{Const: []int{1, 2}}},
		{name: "LayerNorm/params-only", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(in[0], in[1], in[2], eps)
		}, inputs: []*tensor.Tensor{randn(18, 3, 5), randn(19, 5), randn(20, 5)}, opt: GradCheckOptions{Const: []int{0}}},
		{name: "LayerNorm/view", f: func(tp *Tape, in []*Var) *Var {
			return tp.LayerNorm(tp.Transpose(in[0], 0, 1), in[1], in[2], eps)
		}, inputs: []*tensor.Tensor{randn(21, 6, 3), randn(22, 6), randn(23, 6)}},
		{name: "RMSNorm", f: func(tp *Tape, in []*Var) *Var {
			return tp.RMSNorm(in[0], in[1], eps)
		}, inputs: []*tensor.Tensor{randn(24, 2, 3, 7), randn(25, 7)}},
		{name: "RMSNorm/no-gamma", f: func(tp *Tape, in []*Var) *Var {
			return tp.RMSNorm(in[0], nil, eps)
		}, inputs: []*tensor.Tensor{randn(26, 5, 4)}},
		{name: "RMSNorm/const-gamma", f: func(tp *Tape, in []*Var) *Var {
			return tp.RMSNorm(in[0], in[1], eps)
		}, inputs: []*tensor.Tensor{randn(27, 5, 4), randn(28, 4)}, opt: GradCheckOptions{Const: []int{1}}},
		{name: "RMSNorm/view", f: func(tp *Tape, in []*Var) *Var {
			return tp.RMSNorm(tp.Permute(in[0], 1, 0), in[1], eps)
		}, inputs: []*tensor.Tensor{randn(29, 6, 3), randn(30, 6)}},
		{name: "SwiGLU", f: func(tp *Tape, in []*Var) *Var {
			return tp.SwiGLU(in[0], in[1])
		}, inputs: []*tensor.Tensor{randn(31, 3, 7), randn(32, 3, 7)}},
		{name: "SwiGLU/split", f: func(tp *Tape, in []*Var) *Var {
			p := tp.Split(in[0], -1, 4, 4)
			return tp.SwiGLU(p[0], p[1])
		}, inputs: []*tensor.Tensor{randn(33, 2, 3, 8)}},
		{name: "SwiGLU/same-var", f: func(tp *Tape, in []*Var) *Var {
			return tp.SwiGLU(in[0], in[0])
		}, inputs: []*tensor.Tensor{randn(34, 5, 3)}},
	})
}
