//go:build cuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of IndexSelect and IndexAdd against kernels/ref, bit for bit (both
// copy or add in float32 in the same order), with repeated indices, rows
// no index touches, and a poisoned IndexSelect output.

var ixCases = []struct{ outer, axisLen, inner, nj int }{
	{1, 1, 1, 1},
	{1, 7, 1, 5},
	{3, 63, 5, 100},
	{2, 1000, 7, 1000},
	{4, 5, 63, 7},
	{7, 3, 1000, 2},
}

func ixLayout(outer, axisLen, inner int) ref.AxisLayout {
	l := ref.AxisLayout{OuterOff: make([]int, outer), AxisStride: inner, Inner: inner}
	for o := range l.OuterOff {
		l.OuterOff[o] = o * axisLen * inner
	}
	return l
}

func ixIndices(rng *rand.Rand, nj, axisLen int, allSame bool) []int {
	idx := make([]int, nj)
	for j := range idx {
		idx[j] = rng.IntN(axisLen)
		if allSame {
			idx[j] = axisLen / 2
		}
	}
	return idx
}

func TestIndexSelect(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range ixCases {
		a := randn(uint64(c.axisLen), c.outer*c.axisLen*c.inner)
		idx := ixIndices(rng, c.nj, c.axisLen, false)
		n := c.outer * c.nj * c.inner
		want := make([]float32, n)
		ref.IndexSelect(want, a, ixLayout(c.outer, c.axisLen, c.inner), idx, 0, c.outer*c.nj)
		da, dst := upload(t, r, a), poisoned(t, r, n)
		if err := r.IndexSelect(dst, da, c.outer, c.axisLen, c.inner, idx); err != nil {
			t.Fatal(err)
		}
		ewCheck(t, fmt.Sprintf("IndexSelect %+v", c), download(t, r, dst, n), want, 0)
		freeAll(t, r, da, dst)
	}
	if err := r.IndexSelect(0, 0, 1, 4, 1, []int{0, 4}); err == nil {
		t.Error("IndexSelect accepted an index out of range")
	}
}

func TestIndexAdd(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range ixCases {
		for _, same := range []bool{false, true} {
			dst := randn(uint64(c.nj)+1, c.outer*c.axisLen*c.inner)
			src := randn(uint64(c.nj)+2, c.outer*c.nj*c.inner)
			idx := ixIndices(rng, c.nj, c.axisLen, same)
			want := append([]float32(nil), dst...)
			ls := ixLayout(c.outer, c.nj, c.inner)
			for o := 0; o < c.outer; o++ {
				ref.IndexAdd(want, c.axisLen, src, ls, idx, o, 0, c.inner)
			}
			dd, ds := upload(t, r, dst), upload(t, r, src)
			if err := r.IndexAdd(dd, c.outer, c.axisLen, c.inner, idx, ds); err != nil {
				t.Fatal(err)
			}
			ewCheck(t, fmt.Sprintf("IndexAdd %+v all-same %v", c, same), download(t, r, dd, len(dst)), want, 0)
			freeAll(t, r, dd, ds)
		}
	}
	if err := r.IndexAdd(0, 1, 4, 1, []int{-1}, 0); err == nil {
		t.Error("IndexAdd accepted a negative index")
	}
}
