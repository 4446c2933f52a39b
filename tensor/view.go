package tensor

import "fmt"

// view returns a tensor sharing t's storage with a new layout.
func (t *Tensor) view(shape Shape, strides []int, offset int) *Tensor {
	return &Tensor{shape: shape, strides: strides, offset: offset, st: t.st}
}

// Reshape returns a view with the given shape when the layout allows it
// (always for contiguous tensors), else a reshaped contiguous copy. One
// dimension may be -1 and is inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	s := Shape(shape).Clone()
	infer := -1
	known := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("tensor.Reshape: bad shape %v for tensor of shape %v", Shape(shape), t.shape))
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || t.Numel()%known != 0 {
			panic(fmt.Sprintf("tensor.Reshape: cannot infer -1 in %v from %v", Shape(shape), t.shape))
		}
		s[infer] = t.Numel() / known
	}
	if s.Numel() != t.Numel() {
		panic(fmt.Sprintf("tensor.Reshape: shape %v (%d elements) does not match %v (%d elements)", s, s.Numel(), t.shape, t.Numel()))
	}
	if st, ok := reshapeStrides(t.shape, t.strides, s); ok {
		return t.view(s, st, t.offset)
	}
	return t.Clone().view(s, contiguousStrides(s), 0)
}

// reshapeStrides finds strides that express shape ns over the layout
// (shape, strides) without copying (numpy's no-copy reshape): dimensions are
// matched in groups with equal products, and every source group must be one
// evenly strided run.
func reshapeStrides(shape Shape, strides []int, ns Shape) ([]int, bool) {
	out := make([]int, len(ns))
	if ns.Numel() == 0 {
		return contiguousStrides(ns), true
	}
	var od, os []int // source without its size-1 dimensions
	for i, d := range shape {
		if d != 1 {
			od, os = append(od, d), append(os, strides[i])
		}
	}
	oi, oj, ni, nj := 0, 1, 0, 1
	for ni < len(ns) && oi < len(od) {
		np, op := ns[ni], od[oi]
		for np != op {
			if np < op {
				np *= ns[nj]
				nj++
			} else {
				op *= od[oj]
				oj++
			}
		}
		for k := oi; k < oj-1; k++ {
			if os[k] != od[k+1]*os[k+1] {
				return nil, false
			}
		}
		out[nj-1] = os[oj-1]
		for k := nj - 1; k > ni; k-- {
			out[k-1] = out[k] * ns[k]
		}
		ni, nj = nj, nj+1
		oi, oj = oj, oj+1
	}
	// Trailing size-1 dimensions of the target.
	last := 1
	if ni > 0 {
		last = out[ni-1]
	}
	for k := ni; k < len(ns); k++ {
		out[k] = last
	}
	return out, true
}

// Permute returns a view with the axes reordered: axis i of the result is
// axis perm[i] of t.
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != len(t.shape) {
		panic(fmt.Sprintf("tensor.Permute: permutation %v for shape %v", perm, t.shape))
	}
	seen := make([]bool, len(perm))
	s := make(Shape, len(perm))
	st := make([]int, len(perm))
	for i, p := range perm {
		p = normAxis("Permute", p, len(perm))
		if seen[p] {
			panic(fmt.Sprintf("tensor.Permute: %v is not a permutation", perm))
		}
		seen[p] = true
		s[i], st[i] = t.shape[p], t.strides[p]
	}
	return t.view(s, st, t.offset)
}

// Transpose returns a view with axes i and j swapped.
func (t *Tensor) Transpose(i, j int) *Tensor {
	perm := make([]int, len(t.shape))
	for k := range perm {
		perm[k] = k
	}
	i, j = normAxis("Transpose", i, len(perm)), normAxis("Transpose", j, len(perm))
	perm[i], perm[j] = j, i
	return t.Permute(perm...)
}

// Slice returns a view of t restricted to [start, end) along axis.
func (t *Tensor) Slice(axis, start, end int) *Tensor {
	a := normAxis("Slice", axis, len(t.shape))
	if start < 0 || end < start || end > t.shape[a] {
		panic(fmt.Sprintf("tensor.Slice: range [%d,%d) out of bounds for axis %d of shape %v", start, end, axis, t.shape))
	}
	s := t.shape.Clone()
	s[a] = end - start
	return t.view(s, append([]int(nil), t.strides...), t.offset+start*t.strides[a])
}

// Select returns the view at index i of axis, with that axis removed.
func (t *Tensor) Select(axis, i int) *Tensor {
	a := normAxis("Select", axis, len(t.shape))
	return t.Slice(a, i, i+1).Squeeze(a)
}

// Expand returns a broadcast view of t with the given shape: dimensions of
// size 1 (and new leading dimensions) are stretched with stride 0.
func (t *Tensor) Expand(shape ...int) *Tensor {
	if len(shape) < len(t.shape) {
		panic(fmt.Sprintf("tensor.Expand: cannot expand %v to %v", t.shape, Shape(shape)))
	}
	lead := len(shape) - len(t.shape)
	st := make([]int, len(shape))
	for i := range shape {
		if i < lead {
			st[i] = 0
			continue
		}
		d := t.shape[i-lead]
		switch {
		case d == shape[i]:
			st[i] = t.strides[i-lead]
		case d == 1:
			st[i] = 0
		default:
			panic(fmt.Sprintf("tensor.Expand: cannot expand %v to %v", t.shape, Shape(shape)))
		}
	}
	return t.view(Shape(shape).Clone(), st, t.offset)
}

// Unsqueeze returns a view with a new axis of size 1 at position axis
// (in [0, rank], negative counts from the end of the result).
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	a := normAxis("Unsqueeze", axis, len(t.shape)+1)
	s := append(append(t.shape[:a:a].Clone(), 1), t.shape[a:]...)
	stride := 1
	if a < len(t.shape) {
		stride = t.strides[a] * t.shape[a]
	}
	st := append(append(append([]int(nil), t.strides[:a]...), stride), t.strides[a:]...)
	return t.view(s, st, t.offset)
}

// Squeeze removes the given axes, which must have size 1; with no axes it
// removes every axis of size 1.
func (t *Tensor) Squeeze(axes ...int) *Tensor {
	drop := make([]bool, len(t.shape))
	if len(axes) == 0 {
		for i, d := range t.shape {
			drop[i] = d == 1
		}
	}
	for _, ax := range axes {
		a := normAxis("Squeeze", ax, len(t.shape))
		if t.shape[a] != 1 {
			panic(fmt.Sprintf("tensor.Squeeze: axis %d of shape %v is not 1", ax, t.shape))
		}
		drop[a] = true
	}
	var s Shape
	var st []int
	for i := range t.shape {
		if !drop[i] {
			s, st = append(s, t.shape[i]), append(st, t.strides[i])
		}
	}
	if s == nil {
		s, st = Shape{}, []int{}
	}
	return t.view(s, st, t.offset)
}

// Flatten returns t reshaped to 2-D: all axes before axis merged into rows,
// the rest into columns.
func (t *Tensor) Flatten(axis int) *Tensor {
	a := axis
	if a < 0 {
		a += len(t.shape)
	}
	r := Shape(t.shape[:a]).Numel()
	return t.Reshape(r, t.Numel()/max(r, 1))
}
