package tensor

import "fmt"

// MatMul returns a @ b over the last two axes, broadcasting leading (batch)
// axes: a [..., M, K], b [..., K, N] -> [..., M, N].
func MatMul(a, b *Tensor) *Tensor { return MatMulT(a, b, false, false) }

// MatMulT returns op(a) @ op(b), where op transposes the last two axes when
// its flag is set. Transposed views are passed to the kernel as transposes,
// not copied.
func MatMulT(a, b *Tensor, transA, transB bool) *Tensor {
	shape, _, _ := matmulShapes("MatMulT", a, b, transA, transB)
	out := emptyLike(a, shape...) // beta = 0: every element written, none read
	matmulInto("MatMulT", out, a, b, transA, transB, 1, 0)
	return out
}

// MatMulInto computes dst = alpha*op(a)@op(b) + beta*dst in place; dst must be
// contiguous with the result's shape.
func MatMulInto(dst, a, b *Tensor, transA, transB bool, alpha, beta float64) {
	checkCompute("MatMulInto", dst, a, b)
	if !dst.IsContiguous() {
		panic(fmt.Sprintf("tensor.MatMulInto: dst of shape %v is not contiguous", dst.shape))
	}
	shape, _, _ := matmulShapes("MatMulInto", a, b, transA, transB)
	checkShape("MatMulInto", "dst", dst, shape)
	matmulInto("MatMulInto", dst, a, b, transA, transB, alpha, beta)
}

func matmulShapes(op string, a, b *Tensor, transA, transB bool) (Shape, int, int) {
	checkCompute(op, a, b)
	checkMinRank(op, a, 2)
	checkMinRank(op, b, 2)
	ra, rb := len(a.shape), len(b.shape)
	m, ka := a.shape[ra-2], a.shape[ra-1]
	if transA {
		m, ka = ka, m
	}
	kb, n := b.shape[rb-2], b.shape[rb-1]
	if transB {
		kb, n = n, kb
	}
	if ka != kb {
		panic(fmt.Sprintf("tensor.%s: inner dimensions differ: %v (trans %v) @ %v (trans %v)", op, a.shape, transA, b.shape, transB))
	}
	batch, err := BroadcastShapes(a.shape[:ra-2], b.shape[:rb-2])
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: batch axes of %v and %v: %v", op, a.shape, b.shape, err))
	}
	return append(batch.Clone(), m, n), m, n
}

func matmulInto(op string, dst, a, b *Tensor, transA, transB bool, alpha, beta float64) {
	batch := dst.shape[:len(dst.shape)-2]
	a, transA = matOperand(a, transA, batch)
	b, transB = matOperand(b, transB, batch)
	dst.Backend().MatMul(dst, a, b, transA, transB, alpha, beta)
}

// matOperand expands x's batch axes and gives its last axis unit stride: a
// view transposed in its last two axes becomes the untransposed view with the
// trans flag flipped; any other layout is copied.
func matOperand(x *Tensor, trans bool, batch Shape) (*Tensor, bool) {
	r := len(x.shape)
	full := append(batch.Clone(), x.shape[r-2], x.shape[r-1])
	x = x.Expand(full...)
	r = len(full)
	switch {
	case x.strides[r-1] == 1 || x.shape[r-1] == 1:
	case x.strides[r-2] == 1 || x.shape[r-2] == 1:
		x, trans = x.Transpose(r-2, r-1), !trans
	default:
		// Copy each distinct matrix once, not the broadcast batch.
		x = gemmCompact(x)
	}
	return x, trans
}
