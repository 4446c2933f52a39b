package tensor

// Helpers for CPU kernels over strided tensors. A tensor is walked as "rows":
// every index of the leading axes (all but the last) is a row, and within a
// row the last axis is walked with its own stride.

// rowCount returns the number of rows of shape (product of all axes but the
// last; 1 for rank <= 1).
func rowCount(shape Shape) int {
	if len(shape) <= 1 {
		return 1
	}
	return Shape(shape[:len(shape)-1]).Numel()
}

// lastDim returns the size of the last axis (1 for a scalar).
func lastDim(shape Shape) int {
	if len(shape) == 0 {
		return 1
	}
	return shape[len(shape)-1]
}

// lastStride returns the stride of the last axis (1 for a scalar).
func (t *Tensor) lastStride() int {
	if len(t.strides) == 0 {
		return 1
	}
	return t.strides[len(t.strides)-1]
}

// rowOffset returns the storage offset (relative to t's offset) of row r of
// t, where rows are counted over shape's leading axes (shape and t.shape
// agree in rank).
func (t *Tensor) rowOffset(r int) int {
	off := 0
	for i := len(t.shape) - 2; i >= 0; i-- {
		d := t.shape[i]
		off += (r % d) * t.strides[i]
		r /= d
	}
	return off
}

// rowIter walks consecutive rows of t cheaply: Next returns the offset of the
// current row and advances with an odometer instead of divisions.
type rowIter struct {
	t   *Tensor
	idx []int
	off int
}

func newRowIter(t *Tensor, startRow int) *rowIter {
	it := &rowIter{t: t}
	if n := len(t.shape) - 1; n > 0 {
		it.idx = make([]int, n)
		r := startRow
		for i := n - 1; i >= 0; i-- {
			d := t.shape[i]
			it.idx[i] = r % d
			it.off += it.idx[i] * t.strides[i]
			r /= d
		}
	}
	return it
}

func (it *rowIter) Next() int {
	off := it.off
	for i := len(it.idx) - 1; i >= 0; i-- {
		it.idx[i]++
		it.off += it.t.strides[i]
		if it.idx[i] < it.t.shape[i] {
			break
		}
		it.off -= it.idx[i] * it.t.strides[i]
		it.idx[i] = 0
	}
	return off
}

// rowGrain is the number of elements a Parallel task should at least cover
// for cheap elementwise work.
const elemGrain = 1 << 14

// grainRows converts an element grain into a row grain for rows of n elements.
func grainRows(n int) int { return max(1, elemGrain/max(n, 1)) }
