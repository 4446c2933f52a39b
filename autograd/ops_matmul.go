package autograd

import "github.com/nori-ml/nori/tensor"

// MatMul returns a @ b over the last two axes, broadcasting the leading
// (batch) axes: a [..., M, K], b [..., K, N] -> [..., M, N].
func (tp *Tape) MatMul(a, b *Var) *Var { return tp.MatMulT(a, b, false, false) }

// MatMulT returns op(a) @ op(b), where op transposes the last two axes when
// its flag is set, broadcasting batch axes.
//
// With A = op(a), B = op(b) and G the output's gradient, dA = G B^T and
// dB = A^T G; each is computed with one MatMulT whose flags absorb the
// transposes (dA^T = B G^T when a is stored transposed, likewise for b), then
// summed over the batch axes the operand was broadcast along.
func (tp *Tape) MatMulT(a, b *Var, transA, transB bool) *Var {
	av, bv := a.Value, b.Value
	out := tensor.MatMulT(av, bv, transA, transB)
	return tp.result(out, true, func(g *tensor.Tensor) {
		if needs(a) {
			var ga *tensor.Tensor
			if transA {
				ga = tensor.MatMulT(bv, g, transB, true)
			} else {
				ga = tensor.MatMulT(g, bv, false, !transB)
			}
			tp.giveSum(a, ga, true)
		}
		if needs(b) {
			tp.giveSum(b, matMulGradB(av, bv, g, transA, transB), true)
		}
	}, a, b)
}

// matMulGradB returns the gradient of op(a) @ op(b) with respect to b, in the
// output's batch shape, or directly in b's shape when b is a plain matrix
// shared by a batched, untransposed a (a linear layer's weight): then the
// batch axes are folded into the rows of one product instead of being
// computed per batch and summed afterwards.
func matMulGradB(av, bv, g *tensor.Tensor, transA, transB bool) *tensor.Tensor {
	if !transA && av.Rank() > 2 && bv.Rank() == 2 && av.Numel() > 0 && g.Numel() > 0 {
		// The output's batch axes are a's, so a and g fold alike.
		a2 := av.Reshape(-1, av.Dim(-1))
		g2 := g.Reshape(-1, g.Dim(-1))
		var gb *tensor.Tensor
		if transB {
			gb = tensor.MatMulT(g2, a2, true, false)
		} else {
			gb = tensor.MatMulT(a2, g2, true, false)
		}
		if !sameStorage(a2, av) {
			a2.Release() // Reshape had to copy a
		}
		return gb
	}
	if transB {
		return tensor.MatMulT(g, av, true, transA)
	}
	return tensor.MatMulT(av, g, !transA, false)
}
