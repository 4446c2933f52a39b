//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"strings"
)

// fwdGrid is the grid of a forward (or softmax) launch over rows.
func (v normVariant) fwdGrid(rows int) Dim3 {
	if v.warp {
		return D1(min(CeilDiv(rows, normWarps), normMaxGrid))
	}
	return D1(min(rows, normMaxGrid))
}

// normAligned16 reports whether every non-zero pointer is 16-byte aligned (the
// float4 path; with cols%4 == 0 every row then starts aligned too).
func normAligned16(ps ...Ptr) bool {
	for _, p := range ps {
		if p%16 != 0 {
			return false
		}
	}
	return true
}

// normCheck validates a [rows, cols] launch and its required pointers; names
// lists them, space-separated, for the error message.
func normCheck(op string, rows, cols int, names string, ptrs ...Ptr) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("cuda: %s: negative shape [%d, %d]", op, rows, cols)
	}
	if cols > 1<<30 {
		return fmt.Errorf("cuda: %s: rows of %d elements (at most 2^30)", op, cols)
	}
	for i, n := range strings.Fields(names) {
		if i < len(ptrs) && ptrs[i] == 0 {
			return fmt.Errorf("cuda: %s: %s is a null pointer", op, n)
		}
	}
	return nil
}

// normReducePartials launches module's nori_<module>_reduce_partials: out[c] =
// the sum over the nparts rows of part [nparts, cols], in a fixed order.
func (r *Runtime) normReducePartials(module string, out, part Ptr, nparts, cols int) error {
	return r.Launch(module, "nori_"+module+"_reduce_partials", D1(CeilDiv(cols, 32)), D2(32, 32), 0, out, part, nparts, cols)
}

// normScratch allocates n float32 of device scratch for f and frees it after
// (the free is ordered after f's launches on the one stream).
func (r *Runtime) normScratch(n int, f func(p Ptr) error) error {
	p, err := r.Alloc(int64(4 * max(n, 1)))
	if err != nil {
		return err
	}
	return errors.Join(f(p), r.Free(p))
}
