package autograd

import "github.com/nori-ml/nori/tensor"

// View ops. Their outputs share storage with the input (so the tape does not
// own them), except Reshape and Contiguous when they had to copy. Their
// gradients are the inverse view of the output's gradient, copied into the
// input's gradient by accum.

// Reshape returns a with the given shape (one dimension may be -1): a view
// when the layout allows it, else a copy.
func (tp *Tape) Reshape(a *Var, shape ...int) *Var {
	out := a.Value.Reshape(shape...)
	return tp.result(out, !sameStorage(out, a.Value), func(g *tensor.Tensor) {
		tp.accum(a, g.Reshape(a.Value.Shape()...), false)
	}, a)
}

// Permute returns a view with the axes reordered: axis i of the result is
// axis perm[i] of a.
func (tp *Tape) Permute(a *Var, perm ...int) *Var {
	out := a.Value.Permute(perm...)
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[normAxis(p, len(perm))] = i
	}
	return tp.result(out, false, func(g *tensor.Tensor) {
		tp.accum(a, g.Permute(inv...), false)
	}, a)
}

// Transpose returns a view with axes i and j swapped.
func (tp *Tape) Transpose(a *Var, i, j int) *Var {
	out := a.Value.Transpose(i, j)
	return tp.result(out, false, func(g *tensor.Tensor) {
		tp.accum(a, g.Transpose(i, j), false)
	}, a)
}

// Slice returns the view of a restricted to [start, end) along axis.
func (tp *Tape) Slice(a *Var, axis, start, end int) *Var {
	out := a.Value.Slice(axis, start, end)
	return tp.result(out, false, func(g *tensor.Tensor) {
		full := zerosLike(g, a.Value.Shape())
		full.Slice(axis, start, end).CopyFrom(g)
		tp.give(a, full)
	}, a)
}

// Expand returns a broadcast view of a with the given shape (size-1 and new
// leading axes stretched); its gradient sums over the stretched axes.
func (tp *Tape) Expand(a *Var, shape ...int) *Var {
	out := a.Value.Expand(shape...)
	return tp.result(out, false, func(g *tensor.Tensor) {
		tp.giveSum(a, g, false)
	}, a)
}

// Unsqueeze returns a view with a new axis of size 1 at position axis.
func (tp *Tape) Unsqueeze(a *Var, axis int) *Var {
	out := a.Value.Unsqueeze(axis)
	return tp.result(out, false, func(g *tensor.Tensor) {
		tp.accum(a, g.Reshape(a.Value.Shape()...), false)
	}, a)
}

// Squeeze removes the given axes, which must have size 1 (every size-1 axis
// when none are given).
func (tp *Tape) Squeeze(a *Var, axes ...int) *Var {
	out := a.Value.Squeeze(axes...)
	return tp.result(out, false, func(g *tensor.Tensor) {
		tp.accum(a, g.Reshape(a.Value.Shape()...), false)
	}, a)
}

// Contiguous returns a itself when its value is contiguous, else a Var
// holding a contiguous copy.
func (tp *Tape) Contiguous(a *Var) *Var {
	out := a.Value.Contiguous()
	if out == a.Value {
		return a
	}
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.accum(a, g, false)
	}, a)
}
