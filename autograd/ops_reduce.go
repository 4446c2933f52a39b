package autograd

import "github.com/nori-ml/nori/tensor"

// Reductions over axes (all axes when none are given). The gradient is the
// output's gradient broadcast back over the reduced axes.

// keptShape returns shape with the reduced axes (all when axes is empty) set
// to 1: the keepDims shape of a reduction, to which the output's gradient is
// reshaped before it is broadcast back.
func keptShape(shape tensor.Shape, axes []int) tensor.Shape {
	kept := shape.Clone()
	if len(axes) == 0 {
		for i := range kept {
			kept[i] = 1
		}
	}
	for _, ax := range axes {
		kept[normAxis(ax, len(shape))] = 1
	}
	return kept
}

// Sum sums a over the given axes (all when none are given); with keepDims the
// reduced axes stay as size 1.
func (tp *Tape) Sum(a *Var, keepDims bool, axes ...int) *Var {
	out := tensor.Sum(a.Value, keepDims, axes...)
	axes = append([]int(nil), axes...)
	return tp.result(out, true, func(g *tensor.Tensor) {
		shape := a.Value.Shape()
		tp.accum(a, g.Reshape(keptShape(shape, axes)...).Expand(shape...), false)
	}, a)
}

// Mean averages a over the given axes (all when none are given).
func (tp *Tape) Mean(a *Var, keepDims bool, axes ...int) *Var {
	out := tensor.Mean(a.Value, keepDims, axes...)
	axes = append([]int(nil), axes...)
	return tp.result(out, true, func(g *tensor.Tensor) {
		shape := a.Value.Shape()
		count := 1
		if n := out.Numel(); n > 0 {
			count = a.Value.Numel() / n
		}
		s := tensor.Scale(g.Reshape(keptShape(shape, axes)...), 1/float64(count))
		tp.accum(a, s.Expand(shape...), false)
		s.Release()
	}, a)
}

// Max takes the maximum of a over the given axes (all when none are given).
// The gradient of each output element goes to the input elements equal to
// it, split evenly between ties.
func (tp *Tape) Max(a *Var, keepDims bool, axes ...int) *Var {
	out := tensor.Max(a.Value, keepDims, axes...)
	axes = append([]int(nil), axes...)
	return tp.result(out, true, func(g *tensor.Tensor) {
		kept := keptShape(a.Value.Shape(), axes)
		mask := tensor.Eq(a.Value, out.Reshape(kept...))
		cnt := tensor.Sum(mask, true, axes...)
		w := tensor.Div(mask, cnt)
		mask.Release()
		cnt.Release()
		ga := tensor.Mul(w, g.Reshape(kept...))
		w.Release()
		tp.give(a, ga)
	}, a)
}
