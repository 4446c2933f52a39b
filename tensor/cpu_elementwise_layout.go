package tensor

// Layout helpers for the elementwise CPU kernels: merge axes so rows are as
// long as the strides allow, then hand the kernels runs of elements that lie
// in one row of every operand.

// coalesce returns views of ts (which all have one shape) with the size-1
// axes dropped and adjacent axes i, i+1 merged wherever every tensor has
// stride[i] == stride[i+1]*shape[i+1], so that contiguous operands become a
// single row and broadcast ones keep their stride-0 axes apart. The views
// have rank >= 1 (shape [1] for a one-element tensor) and the same offsets,
// and their row-major element order is that of the originals.
func coalesce(ts ...*Tensor) []*Tensor {
	shape := ts[0].shape
	var s Shape
	st := make([][]int, len(ts))
	for i, d := range shape {
		if d == 1 {
			continue
		}
		last := len(s) - 1
		merge := last >= 0
		for k := 0; merge && k < len(ts); k++ {
			merge = st[k][last] == ts[k].strides[i]*d
		}
		if merge {
			s[last] *= d
			for k, t := range ts {
				st[k][last] = t.strides[i]
			}
			continue
		}
		s = append(s, d)
		for k, t := range ts {
			st[k] = append(st[k], t.strides[i])
		}
	}
	if len(s) == 0 {
		s = Shape{1}
		for k := range st {
			st[k] = []int{1}
		}
	}
	out := make([]*Tensor, len(ts))
	for k, t := range ts {
		out[k] = t.view(s, st[k], t.offset)
	}
	return out
}

// runFunc processes cnt consecutive elements starting at flat (row-major)
// index d0; offs[k] is the storage offset, relative to the k-th view's
// offset, of element d0 in view k. Consecutive elements of view k are
// lastStride() apart.
type runFunc func(d0 int, offs []int, cnt int)

// eachRun splits the numel elements of the views vs (coalesced, all of one
// shape) into ranges of at least elemGrain elements over the workers. Each
// task calls newTask once (so it can own scratch space) and then feeds the
// returned function the runs of its range, one per row piece. Every element
// is visited by exactly one task, so results do not depend on the split.
func eachRun(vs []*Tensor, newTask func() runFunc) {
	shape := vs[0].shape
	n, total := lastDim(shape), shape.Numel()
	Parallel(total, elemGrain, func(lo, hi int) {
		fn := newTask()
		its := make([]*rowIter, len(vs))
		incs := make([]int, len(vs))
		offs := make([]int, len(vs))
		for k, v := range vs {
			its[k] = newRowIter(v, lo/n)
			incs[k] = v.lastStride()
		}
		j := lo % n
		for pos := lo; pos < hi; {
			cnt := min(n-j, hi-pos)
			for k, it := range its {
				offs[k] = it.Next() + j*incs[k]
			}
			fn(pos, offs, cnt)
			pos += cnt
			j = 0
		}
	})
}
