package nn

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/autograd"
)

// MultiHeadAttention is multi-head scaled dot-product attention with a packed
// QKV projection and an output projection, both without bias (the reference
// model's row and feature attention).
//
// Queries and keys/values are separate sets: Forward(tp, xq, xkv, qscale)
// lets the rows of xq attend to the rows of xkv. Passing the same Var for both
// is self-attention and costs one projection; otherwise Q is projected from
// xq with the first E rows of the QKV weight and K, V from xkv with the other
// 2E rows, so one weight serves both uses (context rows attending to the
// context, query rows attending to the context).
type MultiHeadAttention struct {
	QKV     *Linear // [3E, E]: rows [0,E) make Q, [E,2E) K, [2E,3E) V
	Out     *Linear // [E, E]
	Dim     int     // E
	Heads   int     // H
	HeadDim int     // E/H
}

// NewMultiHeadAttention returns attention over dim features split into heads
// heads (dim must be a multiple of heads), PyTorch-default initialised.
func NewMultiHeadAttention(b *Builder, dim, heads int) *MultiHeadAttention {
	if heads <= 0 || dim <= 0 || dim%heads != 0 {
		panic(fmt.Sprintf("nn.NewMultiHeadAttention: dim %d is not a positive multiple of heads %d", dim, heads))
	}
	return &MultiHeadAttention{
		QKV:     NewLinear(b, dim, 3*dim, false),
		Out:     NewLinear(b, dim, dim, false),
		Dim:     dim,
		Heads:   heads,
		HeadDim: dim / heads,
	}
}

// VisitParams implements Module: "qkv.weight", "out.weight".
func (a *MultiHeadAttention) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	a.QKV.VisitParams(Join(prefix, "qkv"), fn)
	a.Out.VisitParams(Join(prefix, "out"), fn)
}

// Forward attends from xq [X, Nq, E] to xkv [X, Nk, E] and returns
// [X, Nq, E]. X is a batch of independent sets (tables times feature groups,
// or rows). qscale, when non-nil, is a per-query, per-head factor [X, H, Nq]
// multiplying the scores on top of 1/sqrt(E/H) (QASSMax).
func (a *MultiHeadAttention) Forward(tp *autograd.Tape, xq, xkv, qscale *autograd.Var) *autograd.Var {
	sq, skv := xq.Shape(), xkv.Shape()
	if len(sq) != 3 || len(skv) != 3 || sq[0] != skv[0] || sq[2] != a.Dim || skv[2] != a.Dim {
		panic(fmt.Sprintf("nn.MultiHeadAttention: xq %v and xkv %v, want [X, Nq, %d] and [X, Nk, %d]", sq, skv, a.Dim, a.Dim))
	}
	X, Nq, Nk, E, H, D := sq[0], sq[1], skv[1], a.Dim, a.Heads, a.HeadDim
	if qscale != nil {
		if s := qscale.Shape(); len(s) != 3 || s[0] != X || s[1] != H || s[2] != Nq {
			panic(fmt.Sprintf("nn.MultiHeadAttention: qscale %v, want [%d %d %d]", s, X, H, Nq))
		}
	}
	// heads turns a projection [X*N, n*E] into n views [X, H, N, D] without
	// copying: [X, N, n, H, D] permuted to [n, X, H, N, D] and split.
	heads := func(p *autograd.Var, n, N int) []*autograd.Var {
		p = tp.Permute(tp.Reshape(p, X, N, n, H, D), 2, 0, 3, 1, 4)
		parts := make([]*autograd.Var, n)
		for i := range parts {
			parts[i] = tp.Squeeze(tp.Slice(p, 0, i, i+1), 0)
		}
		return parts
	}
	var q, k, v *autograd.Var
	if xq == xkv {
		qkv := heads(linear(tp, tp.Reshape(xq, X*Nq, E), a.QKV.Weight, nil, "MultiHeadAttention"), 3, Nq)
		q, k, v = qkv[0], qkv[1], qkv[2]
	} else {
		wq := tp.Slice(a.QKV.Weight, 0, 0, E)
		wkv := tp.Slice(a.QKV.Weight, 0, E, 3*E)
		q = heads(linear(tp, tp.Reshape(xq, X*Nq, E), wq, nil, "MultiHeadAttention"), 1, Nq)[0]
		kv := heads(linear(tp, tp.Reshape(xkv, X*Nk, E), wkv, nil, "MultiHeadAttention"), 2, Nk)
		k, v = kv[0], kv[1]
	}
	o := tp.Attention(q, k, v, qscale, 1/math.Sqrt(float64(D))) // [X, H, Nq, D]
	o = tp.Reshape(tp.Permute(o, 0, 2, 1, 3), X*Nq, E)
	return tp.Reshape(a.Out.Forward(tp, o), X, Nq, E)
}
