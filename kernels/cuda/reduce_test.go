//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of Reduce and SumSquares against float64 loops in the CPU's order
// (each output adds its elements in increasing index order; Max in float32
// with NaN propagation). The GPU adds in a different fixed order, so Sum and
// Mean may differ from the CPU by 1 float32 ulp near a rounding tie (the
// float64 sums themselves agree to ~1e-13); Max is exact. Each case also
// runs twice and must give the same bits (determinism).

// rdReference reduces l over data as the CPU does.
func rdReference(op int, data []float32, l Layout, axes [MaxRank]bool) []float32 {
	var kAx, rAx []int
	for k := 0; k < l.Rank; k++ {
		if axes[k] {
			rAx = append(rAx, k)
		} else {
			kAx = append(kAx, k)
		}
	}
	count := func(ax []int) int64 {
		n := int64(1)
		for _, k := range ax {
			n *= l.Shape[k]
		}
		return n
	}
	K, R := count(kAx), count(rAx)
	out := make([]float32, K)
	var idx [MaxRank]int64
	next := func(ax []int) {
		for i := len(ax) - 1; i >= 0; i-- {
			if idx[ax[i]]++; idx[ax[i]] < l.Shape[ax[i]] {
				return
			}
			idx[ax[i]] = 0
		}
	}
	for k := int64(0); k < K; k++ {
		acc, m := 0.0, float32(0)
		for r := int64(0); r < R; r++ {
			off := l.Offset
			for a := 0; a < l.Rank; a++ {
				off += idx[a] * l.Strides[a]
			}
			x := data[off]
			acc += float64(x)
			if r == 0 {
				m = x
			} else {
				m = max(m, x)
			}
			next(rAx)
		}
		switch op {
		case ReduceSum:
			out[k] = float32(acc)
		case ReduceMean:
			out[k] = float32(acc / float64(R))
		default:
			out[k] = m
		}
		next(kAx)
	}
	return out
}

func TestReduce(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(31, 32))
	type rcase struct {
		shape []int
		axes  []int
		kinds []string
	}
	var cases []rcase
	for _, n := range []int{1, 7, 63, 1000, 1000003} {
		cases = append(cases, rcase{[]int{n}, []int{0}, []string{"contig", "offset", "strided"}})
	}
	// Every subset of the axes of [7, 63, 5] (the empty one is a copy).
	for mask := 0; mask < 8; mask++ {
		var ax []int
		for k := 0; k < 3; k++ {
			if mask&(1<<k) != 0 {
				ax = append(ax, k)
			}
		}
		cases = append(cases, rcase{[]int{7, 63, 5}, ax, []string{"contig", "perm", "strided"}})
	}
	cases = append(cases,
		rcase{[]int{3, 100003}, []int{1}, []string{"contig", "perm"}}, // rows, several chunks per output
		rcase{[]int{100003, 3}, []int{0}, []string{"contig", "perm"}}, // columns, several chunks
		rcase{[]int{2, 3, 4, 5, 6}, []int{0, 2, 4}, []string{"perm", "strided"}},
		rcase{[]int{2, 3, 4, 5, 6}, []int{1, 3}, []string{"contig", "perm"}},
		rcase{[]int{1, 7, 1, 9}, []int{0, 3}, []string{"contig"}},
	)
	for _, op := range []int{ReduceSum, ReduceMean, ReduceMax} {
		tol := int64(1)
		if op == ReduceMax {
			tol = 0
		}
		for ci, c := range cases {
			var axes [MaxRank]bool
			for _, k := range c.axes {
				axes[k] = true
			}
			for _, kind := range c.kinds {
				a := ewMake(c.shape, kind, ewNormal(rng))
				if ci%3 == 1 && len(a.data) > 10 {
					a.data[len(a.data)/2] = float32(math.NaN()) // NaN propagates through all three ops
				}
				want := rdReference(op, a.data, a.l, axes)
				da := upload(t, r, a.data)
				var bits []uint32
				for rep := 0; rep < 2; rep++ {
					dst := poisoned(t, r, len(want))
					if err := r.Reduce(op, dst, da, a.l, axes); err != nil {
						t.Fatal(err)
					}
					got := download(t, r, dst, len(want))
					what := fmt.Sprintf("Reduce %s %v over %v (%s)", reduceNames[op], c.shape, c.axes, kind)
					ewCheck(t, what, got, want, tol)
					for i, v := range got {
						if rep == 0 {
							bits = append(bits, math.Float32bits(v))
						} else if bits[i] != math.Float32bits(v) {
							t.Fatalf("%s: element %d differs between two runs", what, i)
						}
					}
					freeAll(t, r, dst)
				}
				freeAll(t, r, da)
			}
		}
	}
}

func TestReduceEmpty(t *testing.T) {
	r := testRuntime(t)
	l := Contiguous(3, 0)
	for _, op := range []int{ReduceSum, ReduceMean, ReduceMax} {
		dst := poisoned(t, r, 3)
		if err := r.Reduce(op, dst, 0, l, [MaxRank]bool{false, true}); err != nil {
			t.Fatal(err)
		}
		for _, v := range download(t, r, dst, 3) {
			if op == ReduceSum && v != 0 || op != ReduceSum && v == v {
				t.Fatalf("Reduce %s over an empty axis gave %v", reduceNames[op], v)
			}
		}
		freeAll(t, r, dst)
	}
}

func TestReduceSumSquares(t *testing.T) {
	r := testRuntime(t)
	for _, n := range []int{1, 7, 1000, 65536, 65537, 1000003} {
		for _, off := range []int{0, 1} {
			x := randn(uint64(n), n+off)
			want := 0.0
			for _, v := range x[off:] {
				want += float64(v) * float64(v)
			}
			p := upload(t, r, x)
			s1, err := r.SumSquares(p.Add(int64(4*off)), n)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := r.SumSquares(p.Add(int64(4*off)), n)
			if err != nil {
				t.Fatal(err)
			}
			if math.Float64bits(s1) != math.Float64bits(s2) {
				t.Fatalf("SumSquares n=%d: two runs differ: %v vs %v", n, s1, s2)
			}
			// Different fixed orders of float64 additions: 1e-12 relative.
			if math.Abs(s1-want) > 1e-12*want {
				t.Fatalf("SumSquares n=%d offset %d = %.17g, want %.17g", n, off, s1, want)
			}
			freeAll(t, r, p)
		}
	}
}

// BenchmarkReduceSumLastAxis: [16384, 1024] summed over the last axis (one
// warp per row).
func BenchmarkReduceSumLastAxis(b *testing.B) {
	r := testRuntime(b)
	m, k := 16384, 1024
	a, d := ewRandBuf(b, r, m*k, 1), ewRandBuf(b, r, m, 2)
	defer freeAll(b, r, a, d)
	l := Contiguous(m, k)
	ewBench(b, r, int64(4*m*k+4*m), func() error { return r.Reduce(ReduceSum, d, a, l, [MaxRank]bool{false, true}) })
}
