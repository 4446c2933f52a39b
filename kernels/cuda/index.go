//go:build cuda

package cuda

import (
	"fmt"
	"unsafe"
)

// Gather/scatter launchers (src/index.cu). Tensors are contiguous float32
// [outer, axisLen, inner] (tensor's IndexSelect/IndexAdd around one axis,
// made contiguous by the caller). Measured speed: not yet run on a GPU.

// packDiv packs a divisor for the kernels' nori_udiv.
func packDiv(d int64) int64 { return int64(uint64(d) | uint64(magicDiv(d))<<32) }

// uploadInt32 copies xs to a fresh device buffer (the caller frees it after
// queuing its last use: the stream runs in order).
func (r *Runtime) uploadInt32(xs []int32) (Ptr, error) {
	p, err := r.Alloc(int64(4 * max(len(xs), 1)))
	if err != nil {
		return 0, err
	}
	if len(xs) > 0 {
		if err := r.Upload(p, unsafe.Pointer(&xs[0]), int64(4*len(xs))); err != nil {
			r.Free(p)
			return 0, err
		}
	}
	return p, nil
}

// indexDims validates the shape and returns outer rows per launch so a
// launch has fewer than 2^31 elements.
func indexDims(op string, outer, axisLen, inner, rows int) (int, error) {
	if outer < 0 || axisLen < 0 || inner < 0 {
		return 0, fmt.Errorf("cuda: %s: negative size (outer %d, axis %d, inner %d)", op, outer, axisLen, inner)
	}
	if axisLen > maxKernelElems {
		return 0, fmt.Errorf("cuda: %s: axis of %d elements (at most 2^31-1)", op, axisLen)
	}
	per := int64(rows) * int64(inner)
	if per > maxKernelElems {
		return 0, fmt.Errorf("cuda: %s: %d x %d elements per outer index (at most 2^31-1)", op, rows, inner)
	}
	return int(maxKernelElems / max(per, 1)), nil
}

// IndexSelect sets dst[o, j, k] = a[o, idx[j], k]: a is [outer, axisLen,
// inner], dst [outer, len(idx), inner], both contiguous float32. Every
// index must lie in [0, axisLen).
func (r *Runtime) IndexSelect(dst, a Ptr, outer, axisLen, inner int, idx []int) error {
	step, err := indexDims("IndexSelect", outer, axisLen, inner, len(idx))
	if err != nil {
		return err
	}
	nj := len(idx)
	if outer == 0 || nj == 0 || inner == 0 {
		return nil
	}
	ix := make([]int32, nj)
	for j, i := range idx {
		if i < 0 || i >= axisLen {
			return fmt.Errorf("cuda: IndexSelect: index %d at position %d outside [0, %d)", i, j, axisLen)
		}
		ix[j] = int32(i)
	}
	dIdx, err := r.uploadInt32(ix)
	if err != nil {
		return err
	}
	defer r.Free(dIdx)
	for o := 0; o < outer; o += step {
		cnt := min(step, outer-o)
		n := cnt * nj * inner
		d := dst.Add(int64(o) * int64(nj) * int64(inner) * 4)
		s := a.Add(int64(o) * int64(axisLen) * int64(inner) * 4)
		if err := r.Launch("index", "nori_index_select", r.elementwiseGrid(n, 256), D1(256), 0,
			d, s, dIdx, n, packDiv(int64(nj)), packDiv(int64(inner)), axisLen); err != nil {
			return err
		}
	}
	return nil
}

// IndexAdd adds src[o, j, k] into dst[o, idx[j], k]: dst is [outer,
// axisLen, inner] and src [outer, len(idx), inner], contiguous float32.
// Repeated indices accumulate in j order, in float32, exactly as
// kernels/ref.IndexAdd (deterministic, no atomics).
func (r *Runtime) IndexAdd(dst Ptr, outer, axisLen, inner int, idx []int, src Ptr) error {
	step, err := indexDims("IndexAdd", outer, axisLen, inner, len(idx))
	if err != nil {
		return err
	}
	nj := len(idx)
	if outer == 0 || nj == 0 || inner == 0 {
		return nil
	}
	// Invert idx: count per destination, then the touched destinations in
	// increasing order with their j lists (counting sort keeps j increasing).
	count := make([]int32, axisLen)
	for j, i := range idx {
		if i < 0 || i >= axisLen {
			return fmt.Errorf("cuda: IndexAdd: index %d at position %d outside [0, %d)", i, j, axisLen)
		}
		count[i]++
	}
	var dest, start []int32
	pos := make([]int32, axisLen) // next slot of destination i in js
	total := int32(0)
	for i, c := range count {
		if c == 0 {
			continue
		}
		dest = append(dest, int32(i))
		start = append(start, total)
		pos[i] = total
		total += c
	}
	nu := len(dest)
	start = append(start, total)
	js := make([]int32, nj)
	for j, i := range idx {
		js[pos[i]] = int32(j)
		pos[i]++
	}
	// One buffer: dest[nu], start[nu+1], js[nj].
	buf := make([]int32, 0, 2*nu+1+nj)
	buf = append(append(append(buf, dest...), start...), js...)
	dBuf, err := r.uploadInt32(buf)
	if err != nil {
		return err
	}
	defer r.Free(dBuf)
	dDest, dStart, dJs := dBuf, dBuf.Add(int64(4*nu)), dBuf.Add(int64(4*(2*nu+1)))
	stepU := step * nj / nu // the kernel's rows per outer index are nu <= nj
	for o := 0; o < outer; o += stepU {
		cnt := min(stepU, outer-o)
		n := cnt * nu * inner
		d := dst.Add(int64(o) * int64(axisLen) * int64(inner) * 4)
		s := src.Add(int64(o) * int64(nj) * int64(inner) * 4)
		if err := r.Launch("index", "nori_index_add", r.elementwiseGrid(n, 256), D1(256), 0,
			d, s, dDest, dStart, dJs, n, packDiv(int64(nu)), packDiv(int64(inner)), axisLen, nj); err != nil {
			return err
		}
	}
	return nil
}
