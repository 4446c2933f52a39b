package autograd

import "github.com/nori-ml/nori/tensor"

// Concat joins vs along axis; all other axes must agree. Each input's
// gradient is its slice of the output's gradient.
func (tp *Tape) Concat(axis int, vs ...*Var) *Var {
	vals := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		vals[i] = v.Value
	}
	out := tensor.Concat(axis, vals...)
	ax := normAxis(axis, out.Rank())
	vs = append([]*Var(nil), vs...)
	return tp.result(out, true, func(g *tensor.Tensor) {
		off := 0
		for _, v := range vs {
			n := v.Value.Dim(ax)
			if needs(v) {
				tp.accum(v, g.Slice(ax, off, off+n), false)
			}
			off += n
		}
	}, vs...)
}

// Split cuts a along axis into consecutive views of the given sizes, which
// must add up to the axis length.
//
// The pieces are recorded as consecutive ops sharing one backward rule:
// whichever piece the backward sweep reaches first (all their consumers come
// later on the tape, so every piece's gradient is complete by then) gathers
// the gradients of all pieces into one gradient for a; the other pieces then
// have none left and are skipped.
func (tp *Tape) Split(a *Var, axis int, sizes ...int) []*Var {
	parts := tensor.Split(a.Value, axis, sizes...)
	ax := normAxis(axis, a.Value.Rank())
	outs := make([]*Var, len(parts))
	back := func(g *tensor.Tensor) {
		full := zerosLike(a.Value, a.Value.Shape())
		off := 0
		for _, o := range outs {
			n := o.Value.Dim(ax)
			if o.Grad != nil {
				full.Slice(ax, off, off+n).CopyFrom(o.Grad)
				if o.Grad != g { // the tape frees g itself
					o.Grad.Release()
				}
				o.Grad = nil
			}
			off += n
		}
		tp.give(a, full)
	}
	for i, p := range parts {
		outs[i] = tp.result(p, false, back, a)
	}
	return outs
}

// IndexSelect gathers the slices idx[0], idx[1], ... of a along axis (indices
// may repeat); its gradient scatters back with tensor.IndexAdd, adding the
// contributions of repeated indices.
func (tp *Tape) IndexSelect(a *Var, axis int, idx []int) *Var {
	out := tensor.IndexSelect(a.Value, axis, idx)
	if !tp.wants(a) {
		return tp.result(out, true, nil, a)
	}
	idx = append([]int(nil), idx...) // the caller may reuse its slice
	return tp.result(out, true, func(g *tensor.Tensor) {
		full := zerosLike(g, a.Value.Shape())
		tensor.IndexAdd(full, axis, idx, g)
		tp.give(a, full)
	}, a)
}
