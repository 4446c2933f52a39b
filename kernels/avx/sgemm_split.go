package avx

import "github.com/nori-ml/nori/kernels/par"

// Splitting a product over workers by columns of C.
//
// The row split of sgemmRun shares one packed B block between the workers,
// which needs two pool rounds per kc block (pack B, then multiply) with a
// barrier after each, and its mc blocks rarely divide evenly between two
// workers (m = 1024 gave blocks of 336, 336, 336 and 16 rows: 672 rows on
// one worker, 352 on the other). When C has enough nr-wide panels, giving
// each worker its own contiguous range of panels instead removes both: a
// worker packs its own part of B (nothing is shared, no barrier), the
// ranges differ by at most one panel, and the whole product is one pool
// round. The price is that every worker packs (or reads) all of A, which is
// small next to the multiply when each worker has many panels.

// splitColumnsMinPanels is the least number of nr-wide panels of C per
// worker for the column split: each worker then multiplies every A
// micro-panel it packs with at least this many B panels, so its own copy of
// A costs at most 1/(2*nr*splitColumnsMinPanels) of its flops in copies.
const splitColumnsMinPanels = 4

// splitColumns reports whether a product of m x n on workers workers is
// split by columns (sgemmColumns) rather than by rows (sgemmRun). Tall
// products (m much larger than n, the model's M = 16384 x N = 128 or 384)
// keep the row split: there every worker reading all of A would double the
// memory traffic of a product that is already bound by reading A.
func splitColumns(m, n, nr, workers int) bool {
	panels := (n + nr - 1) / nr
	return panels >= splitColumnsMinPanels*workers && m <= 4*n
}

// sgemmColumns runs sgemmRun on one worker for each of workers contiguous
// ranges of C's nr-wide panels. Bits are unchanged: the ranges start at
// multiples of nr, so every tile of C is the same tile as in the unsplit
// product (the partial last panel stays last), the kc blocks depend on k
// only, and each element is still computed by one kernel call per kc block.
func sgemmColumns(lv *gemmLevel, bl blocking, aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, workers int) {
	nr := lv.nr
	panels := (n + nr - 1) / nr
	par.Parallel(workers, 1, func(w0, w1 int) {
		for w := w0; w < w1; w++ {
			j0 := w * panels / workers * nr
			j1 := min(n, (w+1)*panels/workers*nr)
			if j0 >= j1 {
				continue
			}
			bw := b[j0:]
			if bT {
				bw = b[j0*ldb:]
			}
			sgemmRun(lv, bl, aT, bT, m, j1-j0, k, alpha, a, lda, bw, ldb, beta, c[j0:], ldc, 1)
		}
	})
}
