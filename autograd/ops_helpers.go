package autograd

import "github.com/nori-ml/nori/tensor"

// Helpers shared by the backward rules of ops_*.go.
//
// Ownership conventions: a backward rule receives g, the output's gradient,
// which belongs to the tape and must not be freed or modified. Every tensor a
// rule allocates is either handed to an input with give/giveSum (which adopt
// it or free it) or freed with Release before the rule returns, so a backward
// pass returns its scratch memory to the pool as it goes.

// needs reports whether gradients flow into v.
func needs(v *Var) bool { return v != nil && v.requiresGrad }

// value returns v's value, or nil for a nil Var (optional operands).
func value(v *Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Value
}

// give hands g, a gradient allocated for v alone, to v; when v takes no
// gradient g is freed.
func (tp *Tape) give(v *Var, g *tensor.Tensor) {
	if g == nil {
		return
	}
	if !needs(v) {
		g.Release()
		return
	}
	tp.accum(v, g, true)
}

// giveSum reduces g, a gradient in the broadcast shape of an op's output, to
// v's shape (summing over broadcast axes) and adds it to v's gradient. fresh
// says g was allocated for this call alone and may be adopted or freed.
func (tp *Tape) giveSum(v *Var, g *tensor.Tensor, fresh bool) {
	if !needs(v) {
		if fresh {
			g.Release()
		}
		return
	}
	shape := v.Value.Shape()
	if g.Shape().Equal(shape) {
		tp.accum(v, g, fresh)
		return
	}
	r := tensor.SumTo(g, shape)
	if fresh {
		g.Release()
	}
	tp.accum(v, r, true)
}

// keep hands tensors saved for the backward pass (norm statistics, the
// attention log-sum-exp) to the tape when the op was recorded; otherwise
// nothing will read them and they go back to the pool at once.
func (tp *Tape) keep(recorded bool, ts ...*tensor.Tensor) {
	if recorded {
		tp.own(ts...)
		return
	}
	for _, t := range ts {
		if t != nil {
			t.Release()
		}
	}
}

// sameStorage reports whether a and b are views of one storage (so an op's
// output that shares its input's storage is not freed with the tape).
func sameStorage(a, b *tensor.Tensor) bool { return a.Storage() == b.Storage() }

// normAxis maps a possibly negative axis into [0, rank). The tensor op called
// first has already validated it.
func normAxis(axis, rank int) int {
	if axis < 0 {
		return axis + rank
	}
	return axis
}

// zerosLike returns a zero tensor with t's device and dtype and the given shape.
func zerosLike(t *tensor.Tensor, shape tensor.Shape) *tensor.Tensor {
	return tensor.New(t.Device(), t.DType(), shape...)
}
