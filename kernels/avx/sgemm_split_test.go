package avx

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
)

// TestSgemmColumnsSmallBlocks runs the column split with tiny cache blocks
// (every nc, kc and mc boundary crossed, partial tiles at both edges) on 1,
// 2 and 3 workers, with panel counts that do not divide evenly among them,
// against the reference and against the unsplit product bit for bit.
func TestSgemmColumnsSmallBlocks(t *testing.T) {
	old := par.SetWorkers(3)
	defer par.SetWorkers(old)
	forLevels(t, func(t *testing.T) {
		lv := gemmLevelNow()
		bl := blocking{kc: 16, mc: 2 * lv.mr, nc: 2 * lv.nr}
		rng := rand.New(rand.NewPCG(11, 12))
		for _, sz := range [][3]int{{3*lv.mr + 5, 13*lv.nr + 7, 41}, {lv.mr - 1, 12 * lv.nr, 33}, {1, 7*lv.nr + 1, 16}} {
			for _, tp := range trPairs {
				g := newGemmCase(rng, tp[0], tp[1], sz[0], sz[1], sz[2], 1, 0.75, -1.25)
				whole := append([]float32(nil), g.c0...)
				sgemmRun(lv, bl, g.aT, g.bT, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, whole, g.ldc, 1)
				g.check(t, g.String()+" unsplit", whole)
				for _, w := range []int{1, 2, 3} {
					c := append([]float32(nil), g.c0...)
					sgemmColumns(lv, bl, g.aT, g.bT, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc, w)
					what := fmt.Sprintf("%v columns on %d workers", g, w)
					g.check(t, what, c)
					sameBits(t, what, whole, c)
				}
			}
		}
	})
}

// TestSplitColumns pins the choice between the row and column splits.
func TestSplitColumns(t *testing.T) {
	for _, c := range []struct {
		m, n, workers int
		want          bool
	}{
		{1024, 1024, 2, true},
		{512, 256, 2, true},
		{512, 224, 2, false},   // 7 panels of 32: too few per worker
		{16384, 384, 2, false}, // tall: row split reads A once
		{40, 900, 2, true},
	} {
		if got := splitColumns(c.m, c.n, 32, c.workers); got != c.want {
			t.Errorf("splitColumns(m=%d, n=%d, nr=32, workers=%d) = %v, want %v", c.m, c.n, c.workers, got, c.want)
		}
	}
}
