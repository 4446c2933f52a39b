package tensor

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/ref"
	"gonum.org/v1/gonum/blas"
)

// Tiling of the float32 GEMM for BLAS implementations that are not
// pool-aware (see blas.go). Part of the numeric contract: with gonum, the k
// chunking fixes the order in which A @ B^T dot products
// are summed, so changing gemmTileK changes the low bits of results.
const (
	gemmTileM = 64
	gemmTileN = 128
	gemmTileK = 128
	// gemmGrainFlops is the least work a Parallel task should get.
	gemmGrainFlops = 1 << 19
)

// MatMul computes dst = alpha*op(a)@op(b) + beta*dst for every batch index.
// Batch axes of a and b may have any strides (0 where broadcast); their last
// two axes must form a BLAS matrix (unit stride in the last axis, leading
// dimension at least the row length), else the distinct matrices are copied
// first. Float32 goes through BLAS32 (whole products, or tiles for
// implementations that are not pool-aware: see blas.go), float64 through
// ref.Gemm row range by row range; both over the worker pool, so every
// element of dst is computed with an arithmetic that does not depend on the
// worker count.
func (cpuBackend) MatMul(dst, a, b *Tensor, transA, transB bool, alpha, beta float64) {
	r := len(dst.shape)
	if r < 2 || len(a.shape) != r || len(b.shape) != r {
		panic(fmt.Sprintf("tensor: MatMul kernel needs operands of dst's rank: dst %v, a %v, b %v", dst.shape, a.shape, b.shape))
	}
	m, n := dst.shape[r-2], dst.shape[r-1]
	k := a.shape[r-1]
	if transA {
		k = a.shape[r-2]
	}
	nb := Shape(dst.shape[:r-2]).Numel()
	if m == 0 || n == 0 || nb == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		// Nothing to multiply: dst = beta*dst, and with beta == 0 dst must
		// be overwritten (not scaled: NaN*0 is NaN).
		gemmScale(dst, beta)
		return
	}
	lda, ok := gemmLD(a)
	if !ok {
		a = gemmCompact(a)
		lda, _ = gemmLD(a)
	}
	ldb, ok := gemmLD(b)
	if !ok {
		b = gemmCompact(b)
		ldb, _ = gemmLD(b)
	}
	g := gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, nb: nb,
		lda: lda, ldb: ldb, aOff: batchOffsets(a, nb), bOff: batchOffsets(b, nb)}
	switch dst.DType() {
	case Float32:
		gemm32(g, float32(alpha), cpuData[float32](a), cpuData[float32](b), float32(beta), cpuData[float32](dst))
	case Float64:
		gemm64(g, alpha, cpuData[float64](a), cpuData[float64](b), beta, cpuData[float64](dst))
	default:
		panic(fmt.Sprintf("tensor: MatMul kernel on dtype %v", dst.DType()))
	}
}

// gemmArgs describes a batch of products: the matrices of batch index i
// start at aOff[i] and bOff[i] in their slices, and C at i*m*n (contiguous).
type gemmArgs struct {
	transA, transB bool
	m, n, k, nb    int
	lda, ldb       int
	aOff, bOff     []int
}

// serialSgemmer is a pool-aware float32 BLAS (avx.Implementation): its
// Sgemm splits one product over the worker pool, SgemmSerial computes it on
// the calling goroutine, and both give the same bits.
type serialSgemmer interface {
	SgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// gemm32 computes the batch of float32 products with BLAS32.
func gemm32(g gemmArgs, alpha float32, a, b []float32, beta float32, c []float32) {
	impl := BLAS32()
	tA, tB := blas.NoTrans, blas.NoTrans
	if g.transA {
		tA = blas.Trans
	}
	if g.transB {
		tB = blas.Trans
	}
	ser, ok := impl.(serialSgemmer)
	if !ok {
		gemm32Tiled(g, impl, tA, tB, alpha, a, b, beta, c)
		return
	}
	one := func(bi int, sgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
		sgemm(tA, tB, g.m, g.n, g.k, alpha, a[g.aOff[bi]:], g.lda, b[g.bOff[bi]:], g.ldb, beta, c[bi*g.m*g.n:], g.n)
	}
	// A batch with at least two products per worker, or of products too
	// small to split, is split over the pool one product per task (no
	// packing or hand-off inside a product); otherwise each product in turn
	// is split over the pool by Sgemm. Both give the same bits (SgemmSerial
	// and Sgemm agree), so the choice, which depends on the worker count,
	// does not change results.
	flops := 2 * g.m * g.n * g.k
	if g.nb > 1 && (g.nb >= 2*Workers() || flops < gemmGrainFlops*4) {
		Parallel(g.nb, max(1, gemmGrainFlops/flops), func(lo, hi int) {
			for bi := lo; bi < hi; bi++ {
				one(bi, ser.SgemmSerial)
			}
		})
		return
	}
	for bi := 0; bi < g.nb; bi++ {
		one(bi, impl.Sgemm)
	}
}

// gemm32Tiled runs impl's Sgemm on the tiles of every C in the batch. The
// task index enumerates (batch, tile row, tile column); small matrices
// therefore parallelise over the batch, large ones over their tiles.
func gemm32Tiled(g gemmArgs, impl blas.Float32, tA, tB blas.Transpose, alpha float32, a, b []float32, beta float32, c []float32) {
	tm, tn := (g.m+gemmTileM-1)/gemmTileM, (g.n+gemmTileN-1)/gemmTileN
	tileFlops := 2 * min(g.m, gemmTileM) * min(g.n, gemmTileN) * g.k
	Parallel(g.nb*tm*tn, max(1, gemmGrainFlops/tileFlops), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			bi, rest := t/(tm*tn), t%(tm*tn)
			i0, j0 := rest/tn*gemmTileM, rest%tn*gemmTileN
			mi, nj := min(gemmTileM, g.m-i0), min(gemmTileN, g.n-j0)
			cs := c[bi*g.m*g.n+i0*g.n+j0:]
			for l0 := 0; l0 < g.k; l0 += gemmTileK {
				kl := min(gemmTileK, g.k-l0)
				ai := g.aOff[bi] + i0*g.lda + l0
				if g.transA {
					ai = g.aOff[bi] + l0*g.lda + i0
				}
				bj := g.bOff[bi] + l0*g.ldb + j0
				if g.transB {
					bj = g.bOff[bi] + j0*g.ldb + l0
				}
				bt := beta
				if l0 > 0 {
					bt = 1
				}
				impl.Sgemm(tA, tB, mi, nj, kl, alpha, a[ai:], g.lda, b[bj:], g.ldb, bt, cs, g.n)
			}
		}
	})
}

// gemm64 runs ref.Gemm over ranges of the batch's rows of C (batch-major),
// each row computed whole by one task.
func gemm64(g gemmArgs, alpha float64, a, b []float64, beta float64, c []float64) {
	rowFlops := 2 * g.n * g.k
	Parallel(g.nb*g.m, max(1, gemmGrainFlops/rowFlops), func(lo, hi int) {
		for lo < hi {
			bi, i0 := lo/g.m, lo%g.m
			i1 := min(g.m, i0+hi-lo)
			ref.Gemm(g.transA, g.transB, g.m, g.n, g.k, alpha, a[g.aOff[bi]:], g.lda, b[g.bOff[bi]:], g.ldb,
				beta, c[bi*g.m*g.n:], g.n, i0, i1)
			lo += i1 - i0
		}
	})
}

// gemmLD returns the leading dimension of x's last two axes seen as a
// row-major BLAS matrix, or false when they cannot be: the last axis needs
// unit stride and the row stride must be at least the row length (a row
// stride of 0 from broadcasting, or overlapping rows, are not allowed).
func gemmLD(x *Tensor) (int, bool) {
	r := len(x.shape)
	rows, cols := x.shape[r-2], x.shape[r-1]
	rs, cs := x.strides[r-2], x.strides[r-1]
	switch {
	case cols > 1 && cs != 1:
		return 0, false
	case rows <= 1:
		return max(1, cols), true // the row stride is never used
	case rs >= max(1, cols):
		return rs, true
	}
	return 0, false
}

// gemmCompact returns a copy of x whose matrices are contiguous, copying each
// distinct matrix once: broadcast batch axes (stride 0) are copied at size 1
// and expanded again.
func gemmCompact(x *Tensor) *Tensor {
	full := x.shape
	v := x
	for i := 0; i < len(full)-2; i++ {
		if v.strides[i] == 0 && v.shape[i] > 1 {
			v = v.Slice(i, 0, 1)
		}
	}
	return v.Clone().Expand(full...)
}

// batchOffsets returns the storage offset (relative to x's offset) of the
// matrix at each of the nb batch indices of x, in row-major batch order.
func batchOffsets(x *Tensor, nb int) []int {
	nAxes := len(x.shape) - 2
	offs := make([]int, nb)
	idx := make([]int, nAxes)
	off := 0
	for i := range offs {
		offs[i] = off
		for d := nAxes - 1; d >= 0; d-- {
			idx[d]++
			off += x.strides[d]
			if idx[d] < x.shape[d] {
				break
			}
			off -= idx[d] * x.strides[d]
			idx[d] = 0
		}
	}
	return offs
}

// gemmScale sets dst = beta*dst, or 0 when beta == 0 (dst contiguous).
func gemmScale(dst *Tensor, beta float64) {
	if beta == 1 {
		return
	}
	switch dst.DType() {
	case Float32:
		d, f := cpuData[float32](dst)[:dst.Numel()], float32(beta)
		for i := range d {
			if beta == 0 {
				d[i] = 0
			} else {
				d[i] *= f
			}
		}
	case Float64:
		d := cpuData[float64](dst)[:dst.Numel()]
		for i := range d {
			if beta == 0 {
				d[i] = 0
			} else {
				d[i] *= beta
			}
		}
	}
}
