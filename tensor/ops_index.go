package tensor

import "fmt"

// Concat joins tensors along axis; all other axes must agree.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Concat: no tensors")
	}
	checkCompute("Concat", ts...)
	a := normAxis("Concat", axis, len(ts[0].shape))
	shape := ts[0].shape.Clone()
	shape[a] = 0
	for _, t := range ts {
		ok := len(t.shape) == len(shape)
		for i := 0; ok && i < len(shape); i++ {
			ok = i == a || t.shape[i] == shape[i]
		}
		if !ok {
			panic(fmt.Sprintf("tensor.Concat: shape %v does not match %v along axis %d", t.shape, ts[0].shape, a))
		}
		shape[a] += t.shape[a]
	}
	out := emptyLike(ts[0], shape...) // the copies below tile it
	off := 0
	for _, t := range ts {
		if t.shape[a] > 0 {
			out.Backend().Copy(out.Slice(a, off, off+t.shape[a]), t)
		}
		off += t.shape[a]
	}
	return out
}

// Split cuts a along axis into consecutive views of the given sizes, which
// must add up to the axis length.
func Split(a *Tensor, axis int, sizes ...int) []*Tensor {
	ax := normAxis("Split", axis, len(a.shape))
	total := 0
	for _, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("tensor.Split: negative size in %v", sizes))
		}
		total += s
	}
	if total != a.shape[ax] {
		panic(fmt.Sprintf("tensor.Split: sizes %v add up to %d, axis %d of %v has %d", sizes, total, axis, a.shape, a.shape[ax]))
	}
	out := make([]*Tensor, len(sizes))
	off := 0
	for i, s := range sizes {
		out[i] = a.Slice(ax, off, off+s)
		off += s
	}
	return out
}

func checkIndex(op string, idx []int, n int) {
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("tensor.%s: index %d out of range [0,%d)", op, i, n))
		}
	}
}

// IndexSelect gathers the slices idx[0], idx[1], ... of a along axis: the
// result has a's shape with that axis of length len(idx).
func IndexSelect(a *Tensor, axis int, idx []int) *Tensor {
	checkCompute("IndexSelect", a)
	ax := normAxis("IndexSelect", axis, len(a.shape))
	checkIndex("IndexSelect", idx, a.shape[ax])
	shape := a.shape.Clone()
	shape[ax] = len(idx)
	out := emptyLike(a, shape...)
	a.Backend().IndexSelect(out, a, ax, idx)
	return out
}

// IndexAdd adds slice j of src into slice idx[j] of dst along axis, in place
// (the scatter that is IndexSelect's gradient). dst must be contiguous.
func IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	checkCompute("IndexAdd", dst, src)
	ax := normAxis("IndexAdd", axis, len(dst.shape))
	checkIndex("IndexAdd", idx, dst.shape[ax])
	want := dst.shape.Clone()
	want[ax] = len(idx)
	checkShape("IndexAdd", "src", src, want)
	if !dst.IsContiguous() {
		panic(fmt.Sprintf("tensor.IndexAdd: dst of shape %v is not contiguous", dst.shape))
	}
	dst.Backend().IndexAdd(dst, ax, idx, src)
}
