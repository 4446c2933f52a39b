package avx

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLayerNormRowsLevels checks the multi-row LayerNorm against LayerNorm's
// Generic row-by-row path bit for bit (outputs, mean, rstd) at every level,
// with and without gamma/beta, at awkward widths and row counts, outputs
// NaN-poisoned. (TestNormVsRef checks LayerNorm itself against ref.)
func TestLayerNormRowsLevels(t *testing.T) {
	const eps = 1e-5
	for _, n := range []int{1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 128, 1000} {
		for _, rows := range []int{1, 3, 5, 12} {
			for _, params := range []bool{false, true} {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(rows)))
				x := vecRand(rng, rows*n, 0.3, 2)
				for r := 1; r < rows; r += 3 {
					for j := 0; j < n; j++ {
						x[r*n+j] = x[r*n+j]*1e-3 + 100 // large mean, small spread
					}
				}
				var gamma, beta []float32
				if params {
					gamma, beta = vecRand(rng, n, 1, 0.5), vecRand(rng, n, 0, 1)
				}
				// Generic reference bits (rows [1, rows) to test lo > 0).
				wd, wm, wr := vecNaNs(rows*n), vecNaNs(rows), vecNaNs(rows)
				func() {
					defer SetLevel(SetLevel(Generic))
					LayerNorm(wd, wm, wr, x, gamma, beta, n, 1, rows, eps)
				}()
				vecEachLevel(t, func(t *testing.T, l Level) {
					what := fmt.Sprintf("%v n=%d rows=%d params=%v", l, n, rows, params)
					d, m, r := vecNaNs(rows*n), vecNaNs(rows), vecNaNs(rows)
					LayerNormRows(d, m, r, x, gamma, beta, n, 1, rows, eps)
					vecSameBitsNaN(t, "LayerNormRows out "+what, d, wd)
					vecSameBitsNaN(t, "LayerNormRows mean "+what, m, wm)
					vecSameBitsNaN(t, "LayerNormRows rstd "+what, r, wr)
				})
			}
		}
	}
}
