//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"strings"
)

// Shapes shared by the row kernels of rmsnorm.cu, layernorm.cu and softmax.cu
// (see src/norm_common.cuh for the register layout of a row).
const (
	normWarps       = 8       // rows (warps) per block of the warp-per-row kernels
	normMaxWarpCols = 1024    // longest row held in one warp's registers
	normMaxParts    = 1024    // most blocks (partial dgamma rows) of a backward launch
	normMaxGrid     = 1 << 20 // forward grids stride over rows beyond this
)

// normVariant is the kernel chosen for rows of a given length.
type normVariant struct {
	warp    bool // one warp per row (cols <= normMaxWarpCols), else one block per row
	w       int  // floats per load: 4 (float4) or 1
	n       int  // chunks of w floats per lane (warp variant)
	threads int  // block size
}

// pickNorm chooses the variant for rows of cols floats. vec says whether every
// row pointer involved is 16-byte aligned; float4 loads also need cols%4 == 0.
func pickNorm(cols int, vec bool) normVariant {
	w := 1
	if vec && cols%4 == 0 {
		w = 4
	}
	if cols <= normMaxWarpCols {
		per := CeilDiv(cols, 32*w)
		n := 1
		for n < per {
			n *= 2
		}
		return normVariant{warp: true, w: w, n: n, threads: 32 * normWarps}
	}
	// Enough threads for about 8 loads each, a power of two in [128, 1024].
	t := 128
	for t < 1024 && t*8*w < cols {
		t *= 2
	}
	return normVariant{w: w, threads: t}
}

// entry is the kernel name of this variant in module (e.g. "rmsnorm", "fwd").
func (v normVariant) entry(module, what string) string {
	if v.warp {
		return fmt.Sprintf("nori_%s_%s_warp_w%dn%d", module, what, v.w, v.n)
	}
	return fmt.Sprintf("nori_%s_%s_block_w%d", module, what, v.w)
}

// fwdGrid is the grid of a forward (or softmax) launch over rows.
func (v normVariant) fwdGrid(rows int) Dim3 {
	if v.warp {
		return D1(min(CeilDiv(rows, normWarps), normMaxGrid))
	}
	return D1(min(rows, normMaxGrid))
}

// bwdSplit returns the rows per block and the number of blocks of a backward
// launch that writes per-block partial column sums: at most normMaxParts
// blocks, each a contiguous range of rows (a multiple of normWarps rows in
// the warp variant, so that its warps get equal shares). It depends on rows
// and the variant only, never on the device, so the dgamma bits do not either.
func (v normVariant) bwdSplit(rows int) (rpb, blocks int) {
	if v.warp {
		nb := min(CeilDiv(rows, normWarps), normMaxParts)
		rpb = normWarps * CeilDiv(CeilDiv(rows, nb), normWarps)
	} else {
		rpb = CeilDiv(rows, min(rows, normMaxParts))
	}
	return rpb, CeilDiv(rows, rpb)
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
