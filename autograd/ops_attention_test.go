package autograd

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradAttention(t *testing.T) {
	const b, n, h, d = 2, 5, 2, 3
	scale := 1 / math.Sqrt(d)
	// heads takes part i (0 q, 1 k, 2 v) of a packed projection
	// [B, N, 3, H, D] as a strided [B, H, N, D] view.
	heads := func(tp *Tape, packed *Var, i int) *Var {
		return tp.Permute(tp.Squeeze(tp.Slice(packed, 2, i, i+1), 2), 0, 2, 1, 3)
	}
	runGradCases(t, []gradCase{
		{name: "packed-qkv", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(heads(tp, in[0], 0), heads(tp, in[0], 1), heads(tp, in[0], 2), nil, scale)
		}, inputs: []*tensor.Tensor{randn(1, b, n, 3, h, d)}},
		{name: "cross/qscale-full", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(in[0], in[1], in[2], in[3], scale)
		}, inputs: []*tensor.Tensor{randn(2, b, h, 3, d), randn(3, b, h, 4, d), randn(4, b, h, 4, d), randu(5, 0.5, 2, b, h, 3)}},
		{name: "cross/qscale-broadcast", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(in[0], in[1], in[2], in[3], scale)
		}, inputs: []*tensor.Tensor{randn(6, 1, h, 4, d), randn(7, 1, h, 2, d), randn(8, 1, h, 2, d), randu(9, 0.5, 2, 1, h, 1)}},
		{name: "one-key", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(in[0], in[1], in[2], nil, 0.7)
		}, inputs: []*tensor.Tensor{randn(10, 1, 1, 3, 2), randn(11, 1, 1, 1, 2), randn(12, 1, 1, 1, 2)}},
		{name: "shared-kv", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(in[0], in[1], in[1], nil, scale)
		}, inputs: []*tensor.Tensor{randn(13, 2, 1, 3, d), randn(14, 2, 1, 4, d)}},
		{name: "const-k", f: func(tp *Tape, in []*Var) *Var {
			return tp.Attention(in[0], in[1], in[2], nil, scale)
		}, inputs: []*tensor.Tensor{randn(15, 1, 2, 3, d), randn(16, 1, 2, 4, d), randn(17, 1, 2, 4, d)}, opt: GradCheckOptions{Const: []int{1}}},
	})
}
