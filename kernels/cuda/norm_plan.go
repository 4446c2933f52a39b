package cuda

import "fmt"

// The launch planning of the row kernels (rmsnorm, layernorm, softmax) is
// untagged so that norm_plan_test.go checks it, and the kernel names it
// produces against the embedded PTX, on machines without a GPU.

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
		per := normCeil(cols, 32*w)
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

// bwdSplit returns the rows per block and the number of blocks of a backward
// launch that writes per-block partial column sums: at most normMaxParts
// blocks, each a contiguous range of rows (a multiple of normWarps rows in
// the warp variant, so that its warps get equal shares). It depends on rows
// and the variant only, never on the device, so the dgamma bits do not either.
func (v normVariant) bwdSplit(rows int) (rpb, blocks int) {
	if v.warp {
		nb := min(normCeil(rows, normWarps), normMaxParts)
		rpb = normWarps * normCeil(normCeil(rows, nb), normWarps)
	} else {
		rpb = normCeil(rows, min(rows, normMaxParts))
	}
	return rpb, normCeil(rows, rpb)
}

// normCeil returns ceil(a/b) for positive b.
func normCeil(a, b int) int { return (a + b - 1) / b }
