package avx

import (
	"sync"

	"github.com/nori-ml/nori/kernels/par"
	"gonum.org/v1/gonum/blas"
)

// Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// with op(X) = X or Xᵀ, A m×k (or k×m), B k×n (or n×k), C m×n, all row-major
// with the given leading dimensions. Arguments are checked as gonum does (same
// panic messages). Large products are split over the kernels/par pool; the
// result is bit-identical for any worker count (see sgemmRun). As in BLAS,
// when beta == 0 C is not read, and when alpha == 0 A and B are not read.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, par.Workers())
}

// SgemmSerial is Sgemm computed on the calling goroutine only, for callers
// that already split work over the pool (a batch of products, one per task).
// It gives the same bits as Sgemm.
func (Implementation) SgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, workers int) {
	aT, bT := checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	lv := gemmLevelNow()
	sgemmRun(lv, blockingFor(lv.mr, lv.nr), aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers)
}

// checkSgemm applies gonum's argument checks and returns whether A and B are
// transposed.
func checkSgemm(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (bool, bool) {
	aT, okA := isTrans(tA)
	bT, okB := isTrans(tB)
	switch {
	case !okA || !okB:
		panic(badTranspose)
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case k < 0:
		panic(kLT0)
	case aT && lda < max(1, m), !aT && lda < max(1, k):
		panic(badLdA)
	case bT && ldb < max(1, k), !bT && ldb < max(1, n):
		panic(badLdB)
	case ldc < max(1, n):
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return aT, bT
	}
	switch {
	case aT && len(a) < (k-1)*lda+m, !aT && len(a) < (m-1)*lda+k:
		panic(shortA)
	case bT && len(b) < (n-1)*ldb+k, !bT && len(b) < (k-1)*ldb+n:
		panic(shortB)
	case len(c) < (m-1)*ldc+n:
		panic(shortC)
	}
	return aT, bT
}

func isTrans(t blas.Transpose) (trans, ok bool) {
	switch t {
	case blas.NoTrans:
		return false, true
	case blas.Trans, blas.ConjTrans:
		return true, true
	}
	return false, false
}

// scaleC sets C = beta*C, or C = 0 when beta == 0 (NaN in C does not leak).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

const (
	// sgemmParFlops: below this many flops a product runs on one goroutine
	// (handing tasks to the pool costs microseconds).
	sgemmParFlops = 1 << 21
	// smallMPanels: when op(B) is not transposed and C has at most this
	// many row panels, full B micro-panels are read in place instead of
	// packed (each would be reused too few times to repay the copy).
	smallMPanels = 4
	// rowAMaxPanels: when op(A) is not transposed and a task multiplies each
	// A micro-panel with at most this many B panels, full A micro-panels
	// are read in place (RowA kernel) instead of packed: the tall-skinny
	// products of the model (N = 128: 4 panels) would otherwise spend a
	// large share of their time in the transposing copy of A.
	rowAMaxPanels = 16
)

// Packing buffers are recycled through a small free list rather than a
// sync.Pool: a pool is emptied by every GC, and re-allocating hundreds of
// KiB per product would show up as fresh heap in every training step.
var (
	bufMu   sync.Mutex
	bufFree []*[]float32
)

// maxFreeBufs bounds the free list (a few per worker: A blocks, B blocks).
const maxFreeBufs = 16

// getBuf returns a buffer of n floats (contents undefined).
func getBuf(n int) *[]float32 {
	bufMu.Lock()
	var p *[]float32
	for i := len(bufFree) - 1; i >= 0; i-- {
		if cap(*bufFree[i]) >= n {
			p = bufFree[i]
			bufFree = append(bufFree[:i], bufFree[i+1:]...)
			break
		}
	}
	if p == nil && len(bufFree) > 0 { // reuse the slot, grow the buffer
		bufFree = bufFree[:len(bufFree)-1]
	}
	bufMu.Unlock()
	if p == nil {
		s := make([]float32, n)
		return &s
	}
	*p = (*p)[:n]
	return p
}

// putBuf returns a buffer to the free list.
func putBuf(p *[]float32) {
	bufMu.Lock()
	if len(bufFree) < maxFreeBufs {
		bufFree = append(bufFree, p)
	}
	bufMu.Unlock()
}

// sgemmRun computes C = alpha*op(A)*op(B) + beta*C for m, n, k >= 1 and
// alpha != 0, BLIS style: for each nc block of columns and kc block of the
// inner dimension, B is packed (in parallel) and the (mc block x panel
// range) tasks pack their A block and run the micro-kernel over it.
//
// Determinism: the tile grid (mr x nr tiles from C's origin) and the kc
// blocks depend only on the shapes and the level, never on the worker count;
// every element is computed by one kernel call per kc block, accumulating its
// k products in order, and C carries the sum from one kc block to the next.
// Splitting C differently over workers (mc, panel chunks) therefore changes
// nothing in the arithmetic, and K is never split across workers.
func sgemmRun(lv *gemmLevel, bl blocking, aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, workers int) {
	mr, nr := lv.mr, lv.nr
	if 2*float64(m)*float64(n)*float64(k) < sgemmParFlops {
		workers = 1
	}
	if workers > 1 && splitColumns(m, n, nr, workers) {
		sgemmColumns(lv, bl, aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers)
		return
	}
	// Even kc blocks: ceil(k/kcMax) blocks of (nearly) equal size.
	nkb := (k + bl.kc - 1) / bl.kc
	kcMax := (k + nkb - 1) / nkb
	inPlaceB := !bT && (m+mr-1)/mr <= smallMPanels
	// In-place A: not transposed, few B panels per A panel, and a row stride
	// that is not a multiple of 4 KiB (rows would collide in the same L1
	// sets).
	inPlaceA := !aT && lv.kernRowA != nil && (min(n, bl.nc)+nr-1)/nr <= rowAMaxPanels && (4*lda)%4096 != 0

	// With several workers the row blocks are made even and their count a
	// multiple of the worker count (at least two per worker), so that the
	// workers finish each kc block together: mc = 336 on m = 1024 gave
	// blocks of 336, 336, 336 and 16 rows, 672 rows on one worker.
	mc := bl.mc
	if workers > 1 {
		blocks := max((m+mc-1)/mc, 2*workers)
		blocks = (blocks + workers - 1) / workers * workers
		mc = max(mr, ((m+mr-1)/mr+blocks-1)/blocks*mr)
	}
	mBlocks := (m + mc - 1) / mc

	var bBuf *[]float32
	if !inPlaceB {
		bBuf = getBuf(kcMax * min(bl.nc, (n+nr-1)/nr*nr))
		defer putBuf(bBuf)
	}
	for jc := 0; jc < n; jc += bl.nc {
		nb := min(bl.nc, n-jc)
		panels := (nb + nr - 1) / nr
		jChunks := 1
		if workers > 1 && mBlocks < 2*workers {
			jChunks = min(panels, (2*workers+mBlocks-1)/mBlocks)
		}
		for pc := 0; pc < k; pc += kcMax {
			kb := min(kcMax, k-pc)
			betaBlk, loadC := beta, beta != 0
			if pc > 0 {
				betaBlk, loadC = 1, true
			}
			var bp []float32
			if !inPlaceB {
				bp = (*bBuf)[:panels*nr*kb]
				if workers > 1 {
					par.Parallel(panels, max(1, 8192/(nr*kb)), func(q0, q1 int) {
						packB(bp, b, ldb, bT, jc, nb, pc, kb, nr, q0, q1)
					})
				} else {
					packB(bp, b, ldb, bT, jc, nb, pc, kb, nr, 0, panels)
				}
			}
			blk := gemmBlock{lv: lv, aT: aT, inPlaceA: inPlaceA, a: a, lda: lda, b: b, ldb: ldb, bp: bp, c: c, ldc: ldc,
				alpha: alpha, beta: betaBlk, loadC: loadC, m: m, mc: mc, jc: jc, nb: nb, pc: pc, kb: kb}
			tasks := mBlocks * jChunks
			run := func(t0, t1 int) {
				aBuf := getBuf(mc * kb)
				defer putBuf(aBuf)
				for t := t0; t < t1; t++ {
					ib, ch := t/jChunks, t%jChunks
					blk.run(*aBuf, ib, ch*panels/jChunks, (ch+1)*panels/jChunks)
				}
			}
			if workers > 1 && tasks > 1 {
				par.Parallel(tasks, 1, run)
			} else {
				run(0, tasks)
			}
		}
	}
}

// gemmBlock is one (nc block, kc block) step of sgemmRun.
type gemmBlock struct {
	lv           *gemmLevel
	aT, inPlaceA bool
	a, b, bp, c  []float32
	lda, ldb     int
	ldc          int
	alpha, beta  float32
	loadC        bool
	m, mc        int
	jc, nb       int
	pc, kb       int
}

// run packs A block ib (or reads it in place when inPlaceA) and multiplies
// it with B panels [q0, q1) of the block (packed in bp, or read in place
// from b when bp is nil).
func (g *gemmBlock) run(aBuf []float32, ib, q0, q1 int) {
	mr, nr, kb := g.lv.mr, g.lv.nr, g.kb
	i0 := ib * g.mc
	mb := min(g.mc, g.m-i0)
	ap := aBuf[:(mb+mr-1)/mr*mr*kb]
	if g.inPlaceA {
		// Only the last, partial micro-panel is packed (zero-padded rows).
		if full := mb / mr * mr; full < mb {
			packA(ap[full*kb:], g.a, g.lda, false, i0+full, mb-full, g.pc, kb, mr)
		}
	} else {
		packA(ap, g.a, g.lda, g.aT, i0, mb, g.pc, kb, mr)
	}
	var edge [16 * 32]float32 // scratch tile for partial tiles (mr*nr <= 512)
	var edgeBuf *[]float32
	defer func() {
		if edgeBuf != nil {
			putBuf(edgeBuf)
		}
	}()
	for q := q0; q < q1; q++ {
		jp := q * nr
		cols := min(nr, g.nb-jp)
		var bq []float32
		bs := nr
		switch {
		case g.bp != nil:
			bq = g.bp[jp*kb : (jp+nr)*kb]
		case cols == nr:
			bq, bs = g.b[g.pc*g.ldb+g.jc+jp:], g.ldb
		default:
			// The last, partial panel of an in-place B is packed (padded).
			if edgeBuf == nil {
				edgeBuf = getBuf(nr * kb)
			}
			packB(*edgeBuf, g.b, g.ldb, false, g.jc+jp, cols, g.pc, kb, nr, 0, 1)
			bq = *edgeBuf
		}
		for ip := 0; ip < mb; ip += mr {
			rows := min(mr, mb-ip)
			kern, aq, as := g.lv.kern, ap[ip*kb:(ip+mr)*kb], mr
			if g.inPlaceA && rows == mr {
				kern, aq, as = g.lv.kernRowA, g.a[(i0+ip)*g.lda+g.pc:], g.lda
			}
			cq := g.c[(i0+ip)*g.ldc+g.jc+jp:]
			if rows == mr && cols == nr {
				kern(kb, aq, as, bq, bs, cq, g.ldc, g.alpha, g.beta, g.loadC)
				continue
			}
			kern(kb, aq, as, bq, bs, edge[:], nr, 1, 0, false)
			for r := 0; r < rows; r++ {
				crow := cq[r*g.ldc : r*g.ldc+cols]
				for j := range crow {
					v := g.alpha * edge[r*nr+j]
					if g.loadC {
						v += g.beta * crow[j]
					}
					crow[j] = v
				}
			}
		}
	}
}
