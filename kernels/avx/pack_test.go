package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// packRef is the definition of the packed layout: panel q holds, for every
// k step l, the w values of rows (columns) q*w.. of op(X) side by side,
// zero past the edge. get(i, l) reads op(X)[i][l].
func packRef(dst []float32, rowsTotal, kb, w int, get func(i, l int) float32) {
	for i0 := 0; i0 < rowsTotal; i0 += w {
		for l := 0; l < kb; l++ {
			for r := 0; r < w; r++ {
				v := float32(0)
				if i0+r < rowsTotal {
					v = get(i0+r, l)
				}
				dst[i0*kb+l*w+r] = v
			}
		}
	}
}

// TestPackTransposing checks packA and packB against packRef at every
// level, for both transposes, at awkward sizes and offsets (partial panels,
// k not a multiple of the 16-step blocks of the assembly copies), into
// NaN-poisoned buffers with a NaN guard past the end (the masked stores must
// not write beyond a panel). Values must be copied exactly.
func TestPackTransposing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	forLevels(t, func(t *testing.T) {
		lv := gemmLevelNow()
		for _, kb := range []int{1, 7, 15, 16, 17, 63, 64, 100, 385} {
			for _, mb := range []int{1, lv.mr - 1, lv.mr, lv.mr + 3, 3 * lv.mr, 2*lv.nr + 5} {
				for _, trans := range []bool{false, true} {
					const i0, p0, pad = 3, 5, 2
					// op(X) has i0+mb rows and p0+kb+1 inner indices.
					rowsX, inner := i0+mb, p0+kb+1
					var x []float32
					var ld int
					var get func(i, l int) float32
					if trans { // X stored inner x rowsX
						ld = rowsX + pad
						x = randSlice(rng, inner*ld)
						get = func(i, l int) float32 { return x[(p0+l)*ld+i0+i] }
					} else {
						ld = inner + pad
						x = randSlice(rng, rowsX*ld)
						get = func(i, l int) float32 { return x[(i0+i)*ld+p0+l] }
					}
					for _, w := range []int{lv.mr, lv.nr} {
						panels := (mb + w - 1) / w
						want := make([]float32, panels*w*kb)
						packRef(want, mb, kb, w, get)
						got := nanSlice(len(want) + 64)
						what := fmt.Sprintf("w=%d trans=%v mb=%d kb=%d", w, trans, mb, kb)
						if w == lv.mr {
							packA(got, x, ld, trans, i0, mb, p0, kb, w)
							what = "packA " + what
						} else {
							// packB's trans flag is the opposite storage: op(B)
							// column j is row j of a transposed B.
							packB(got, x, ld, !trans, i0, mb, p0, kb, w, 0, panels)
							what = "packB " + what
						}
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: dst[%d] = %v, want %v", what, i, got[i], want[i])
							}
						}
						for i := len(want); i < len(got); i++ {
							if !math.IsNaN(float64(got[i])) {
								t.Fatalf("%s: wrote past the panels at %d", what, i)
							}
						}
					}
				}
			}
		}
	})
}
