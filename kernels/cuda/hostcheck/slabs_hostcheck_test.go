//go:build hostcheck

package cuda

import "testing"

// TestHostSlabs checks, in stress mode only, that a strided copy and a
// strided unary op larger than a slab are split into several launches (both
// branches of layout.go's slabs: slabs of the outermost axis, and slices
// split further when one is too large) and still give the right values.
func TestHostSlabs(t *testing.T) {
	if !hostStress {
		t.Skip("stress mode only (NORI_STRESS=1)")
	}
	r := testRuntime(t)
	// src [2, 80, 70] read through a permutation (strides 1, 140, 2 of a
	// [70, 80, 2]-ish storage): no axes merge, inner slices of 5600 > 5000.
	const a, b, c = 2, 80, 70
	n := a * b * c
	x := randn(77, n)
	src := upload(t, r, x)
	sl := Layout{Rank: 3, Shape: [MaxRank]int64{a, b, c}, Strides: [MaxRank]int64{1, 2 * c, 2}}
	dst := poisoned(t, r, n)
	before := r.Launches
	if err := r.CopyStrided(dst, Contiguous(a, b, c), DTF32, src, sl, DTF32); err != nil {
		t.Fatal(err)
	}
	if r.Launches-before < 3 {
		t.Fatalf("a %d-element strided copy took %d launches with slabs of %d elements", n, r.Launches-before, hostSlabElems)
	}
	got := download(t, r, dst, n)
	for i := 0; i < a; i++ {
		for j := 0; j < b; j++ {
			for k := 0; k < c; k++ {
				if w := x[i+j*2*c+k*2]; got[(i*b+j)*c+k] != w {
					t.Fatalf("copy [%d,%d,%d] = %g, want %g", i, j, k, got[(i*b+j)*c+k], w)
				}
			}
		}
	}
	// Unary Neg through the same strided layout.
	before = r.Launches
	if err := r.Unary(0, dst, src, sl, n, 0); err != nil {
		t.Fatal(err)
	}
	if r.Launches-before < 3 {
		t.Fatalf("strided Neg of %d elements took %d launches", n, r.Launches-before)
	}
	got = download(t, r, dst, n)
	for i := 0; i < a; i++ {
		for j := 0; j < b; j++ {
			for k := 0; k < c; k++ {
				if w := -x[i+j*2*c+k*2]; got[(i*b+j)*c+k] != w {
					t.Fatalf("neg [%d,%d,%d] = %g, want %g", i, j, k, got[(i*b+j)*c+k], w)
				}
			}
		}
	}
	freeAll(t, r, src, dst)
}
