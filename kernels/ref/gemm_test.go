package ref_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
	"github.com/nori-ml/nori/tensor"
)

// Kernel-level tests of ref.Gemm: padded leading dimensions, row ranges,
// beta == 0 over NaN, alpha == 0 not reading A and B, all transposes,
// against a float64 triple loop.
//
// Tolerance: ref.Gemm sums in float64 and rounds once, so float32 results
// must be within 2^-24 relative of the float64 loop (one rounding) plus
// k*2^-52 times sum |alpha*a*b| + |beta*c| (float64 summation error); float64
// results within (k+3)*2^-52 of that same sum.

// mnlVals returns n N(0,1) values from seed, rounded to float32 (so float32
// and float64 slices built from them hold identical numbers).
func mnlVals(seed uint64, n int) []float64 {
	r := tensor.NewRNG(seed, 0)
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(r.NormFloat64()))
	}
	return v
}

func mnlConv[T ref.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// mnlGemmCase runs ref.Gemm on padded matrices (ld = cols + 3) split into
// three row ranges and checks every element of C, including the padding,
// which must be untouched.
func mnlGemmCase[T ref.Float](t *testing.T, transA, transB bool, m, n, k int, alpha, beta float64) {
	what := fmt.Sprintf("%T m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v", T(0), m, n, k, transA, transB, alpha, beta)
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+3, bc+3, n+3
	a, b, c0 := mnlVals(uint64(m+7*n+13*k), ar*lda), mnlVals(uint64(m+7*n+13*k+1), br*ldb), mnlVals(uint64(m+2), m*ldc)
	opA := func(i, l int) float64 {
		if transA {
			return a[l*lda+i]
		}
		return a[i*lda+l]
	}
	opB := func(l, j int) float64 {
		if transB {
			return b[j*ldb+l]
		}
		return b[l*ldb+j]
	}
	c := mnlConv[T](c0)
	if beta == 0 {
		for i := range c {
			if i%ldc < n {
				c[i] = T(math.NaN()) // must be overwritten, not scaled
			}
		}
	}
	at, bt := mnlConv[T](a), mnlConv[T](b)
	// Three uneven row ranges, the middle one possibly empty.
	cuts := []int{0, m / 3, m / 3, m}
	for r := 0; r+1 < len(cuts); r++ {
		ref.Gemm(transA, transB, m, n, k, alpha, at, lda, bt, ldb, beta, c, ldc, cuts[r], cuts[r+1])
	}
	u := 0x1p-24
	if _, ok := any(T(0)).(float64); ok {
		u = 0
	}
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := float64(c[i*ldc+j])
			if j >= n {
				if got != c0[i*ldc+j] {
					t.Fatalf("%s: padding C[%d,%d] changed to %v", what, i, j, got)
				}
				continue
			}
			s, abs := 0.0, 0.0
			for l := 0; l < k; l++ {
				s += opA(i, l) * opB(l, j)
				abs += math.Abs(opA(i, l) * opB(l, j))
			}
			want, bound := alpha*s, math.Abs(alpha)*abs
			if beta != 0 {
				want += beta * c0[i*ldc+j]
				bound += math.Abs(beta * c0[i*ldc+j])
			}
			tol := u*math.Abs(want) + float64(k+3)*0x1p-52*bound
			if !(math.Abs(got-want) <= tol) {
				t.Fatalf("%s: C[%d,%d] = %v, want %v (tol %.3g)", what, i, j, got, want, tol)
			}
		}
	}
}

func TestGemmRef(t *testing.T) {
	sizes := [][3]int{{1, 1, 1}, {7, 7, 7}, {63, 65, 1}, {65, 7, 63}, {130, 63, 130}, {3, 5, 0}}
	for _, sz := range sizes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {-0.7, 1.3}, {2, 1}} {
				mnlGemmCase[float32](t, tr[0], tr[1], sz[0], sz[1], sz[2], ab[0], ab[1])
				mnlGemmCase[float64](t, tr[0], tr[1], sz[0], sz[1], sz[2], ab[0], ab[1])
			}
		}
	}
}

// TestGemmRefAlphaZero checks the BLAS rule: with alpha == 0, A and B are not
// read (NaN there does not reach C) and C = beta*C.
func TestGemmRefAlphaZero(t *testing.T) {
	nan := math.NaN()
	a, b := []float64{nan, nan, nan, nan}, []float64{nan, nan, nan, nan}
	c := []float64{1, 2, 3, 4}
	ref.Gemm(false, false, 2, 2, 2, 0, a, 2, b, 2, 0.5, c, 2, 0, 2)
	for i, v := range c {
		if v != 0.5*float64(i+1) {
			t.Fatalf("alpha=0: C[%d] = %v, want %v", i, v, 0.5*float64(i+1))
		}
	}
	c = []float64{nan, nan, nan, nan}
	ref.Gemm(false, false, 2, 2, 2, 0, a, 2, b, 2, 0, c, 2, 0, 2)
	for i, v := range c {
		if v != 0 {
			t.Fatalf("alpha=0 beta=0: C[%d] = %v, want 0", i, v)
		}
	}
}

func TestGemmRefPanics(t *testing.T) {
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"leading dimension", func() { // lda < k
			ref.Gemm(false, false, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2, 0, 2)
		}},
		{"only", func() { // B too short
			ref.Gemm(false, false, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 5), 2, 0, make([]float32, 4), 2, 0, 2)
		}},
		{"row range", func() {
			ref.Gemm(false, false, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 2, 0, make([]float32, 4), 2, 1, 3)
		}},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, "ref.Gemm") || !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %v, want a ref.Gemm panic mentioning %q", r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}
