package autograd

import (
	"fmt"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestGradMatMul(t *testing.T) {
	type mm struct {
		a, b           []int
		transA, transB bool
	}
	shapes := []mm{
		{[]int{3, 4}, []int{4, 5}, false, false},
		{[]int{1, 1}, []int{1, 6}, false, false},
		{[]int{2, 3, 4}, []int{2, 4, 5}, false, false},
		{[]int{2, 1, 3, 4}, []int{3, 4, 5}, false, false}, // broadcast batch on both sides
		{[]int{2, 3, 4}, []int{4, 5}, false, false},       // shared weight (folded gradient)
		{[]int{2, 3, 4}, []int{5, 4}, false, true},        // shared weight, transposed
		{[]int{3, 4}, []int{2, 4, 5}, false, false},       // shared left operand
		{[]int{2, 4, 3}, []int{4, 5}, true, false},
		{[]int{4, 3}, []int{5, 4}, true, true},
		{[]int{2, 1, 4, 3}, []int{3, 5, 4}, true, true},
		{[]int{1, 3, 4}, []int{2, 5, 4}, false, true},
		{[]int{2, 4, 3}, []int{1, 5, 4}, true, true},
	}
	var cases []gradCase
	for i, s := range shapes {
		s := s
		cases = append(cases, gradCase{
			name: fmt.Sprintf("%v(t=%v)@%v(t=%v)", s.a, s.transA, s.b, s.transB),
			f: func(tp *Tape, in []*Var) *Var {
				if !s.transA && !s.transB {
					return tp.MatMul(in[0], in[1])
				}
				return tp.MatMulT(in[0], in[1], s.transA, s.transB)
			},
			inputs: []*tensor.Tensor{randn(uint64(10+i), s.a...), randn(uint64(40+i), s.b...)},
		})
	}
	cases = append(cases,
		// Operands that are transposed views: the op sees strides, not copies.
		gradCase{name: "views", f: func(tp *Tape, in []*Var) *Var {
			return tp.MatMul(tp.Transpose(in[0], -1, -2), tp.Permute(in[1], 1, 0, 2))
		}, inputs: []*tensor.Tensor{randn(70, 2, 4, 3), randn(71, 4, 2, 5)}},
		// A sliced (non-contiguous, non-transposed) weight under a batched input.
		gradCase{name: "sliced-weight", f: func(tp *Tape, in []*Var) *Var {
			return tp.MatMul(tp.Transpose(in[0], 0, 1), tp.Slice(in[1], 1, 1, 4))
		}, inputs: []*tensor.Tensor{randn(72, 3, 2, 4), randn(73, 4, 6)}},
		gradCase{name: "same-var", f: func(tp *Tape, in []*Var) *Var {
			return tp.MatMulT(in[0], in[0], false, true)
		}, inputs: []*tensor.Tensor{randn(74, 2, 3, 4)}},
		gradCase{name: "const-b", f: func(tp *Tape, in []*Var) *Var {
			return tp.MatMul(in[0], in[1])
		}, inputs: []*tensor.Tensor{randn(75, 2, 3, 4), randn(76, 4, 5)}, opt: GradCheckOptions{Const: []int{1}}},
		gradCase{name: "const-a", f: func(tp *Tape, in []*Var) *Var {
			return tp.MatMul(in[0], in[1])
		}, inputs: []*tensor.Tensor{randn(77, 2, 3, 4), randn(78, 4, 5)}, opt: GradCheckOptions{Const: []int{0}}},
	)
	runGradCases(t, cases)
}
