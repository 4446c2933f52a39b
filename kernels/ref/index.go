package ref

// AxisLayout describes a possibly strided tensor as a grid [outer, axis,
// inner] around one axis: element (o, i, k) sits at
// OuterOff[o] + i*AxisStride + InnerOff[k] of its slice, or at
// OuterOff[o] + i*AxisStride + k when InnerOff is nil (a unit-stride run of
// Inner elements). Precomputed offsets let one kernel serve any strides.
type AxisLayout struct {
	OuterOff   []int
	AxisStride int
	InnerOff   []int
	Inner      int
}

func (l *AxisLayout) at(o, i int) int { return l.OuterOff[o] + i*l.AxisStride }

// IndexSelect gathers along the axis of la: dst is contiguous
// [len(la.OuterOff), len(idx), la.Inner], and for the rows r in [lo, hi) of
// its [outer, len(idx)] grid (o = r / len(idx), j = r % len(idx)) it sets
// dst[r*Inner + k] = a(o, idx[j], k). Indices are trusted (the caller checks
// them).
func IndexSelect[T Float](dst, a []T, la AxisLayout, idx []int, lo, hi int) {
	nj, in := len(idx), la.Inner
	for r := lo; r < hi; r++ {
		d := dst[r*in : (r+1)*in]
		base := la.at(r/nj, idx[r%nj])
		if la.InnerOff == nil {
			copy(d, a[base:base+in])
			continue
		}
		for k, off := range la.InnerOff[:in] {
			d[k] = a[base+off]
		}
	}
}

// IndexAdd scatters along an axis: dst is contiguous [outer, axisLen, inner]
// with inner = ls.Inner, and for outer index o and the inner columns
// [k0, k1) it adds, for j = 0, 1, ..., len(idx)-1 in that order,
// src(o, j, k) into dst[o, idx[j], k], in T. Repeated indices therefore
// accumulate in j order; the caller parallelises over (o, column range)
// pairs, which touch disjoint parts of dst.
func IndexAdd[T Float](dst []T, axisLen int, src []T, ls AxisLayout, idx []int, o, k0, k1 int) {
	in := ls.Inner
	for j, i := range idx {
		d := dst[(o*axisLen+i)*in+k0 : (o*axisLen+i)*in+k1]
		base := ls.at(o, j)
		if ls.InnerOff == nil {
			s := src[base+k0 : base+k1]
			for k := range d {
				d[k] += s[k]
			}
			continue
		}
		for k, off := range ls.InnerOff[k0:k1] {
			d[k] += src[base+off]
		}
	}
}
