package tensor

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Tests of MatMul (cpu_matmul.go, blas.go) against a float64 triple loop
// written here.
//
// Tolerance: the classic dot-product bound. Every element of
// alpha*op(A)@op(B) + beta*C0 is compared with the float64 loop and must lie
// within (k+4)*u*(|alpha|*sum_l |a_il*b_lj| + |beta*c0_ij|) + 1e-30, with
// u = 2^-24 for float32 (gonum sums k float32 products sequentially, each
// step rounding once, plus alpha, beta and the final add) and u = 2^-52 for
// float64 (ref.Gemm sums in float64). An indexing or transpose mistake gives
// errors of the order of the terms themselves, far above the bound.

// mnlRand returns a tensor of N(0,1) values of dtype dt (drawn in float32, so
// the float32 and float64 versions of a seed hold the same numbers).
func mnlRand(seed uint64, dt DType, shape ...int) *Tensor {
	t := RandNormal(seed, 0, 1, shape...)
	if dt == Float64 {
		return t.To(CPU, Float64)
	}
	return t
}

// mnlPoison fills t with NaN: a kernel that must overwrite it may not leak it.
func mnlPoison(t *Tensor) *Tensor {
	t.Backend().Fill(t, math.NaN())
	return t
}

// mnlUnit is the unit roundoff of dt.
func mnlUnit(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-24
	}
	return 0x1p-52
}

// mnlMat is a logical row-major matrix in float64.
type mnlMat struct {
	r, c int
	v    []float64
}

func (m mnlMat) at(i, j int) float64 { return m.v[i*m.c+j] }

// mnlMatOf returns the logical matrix of a 2-D tensor view (any strides),
// transposed when trans is set.
func mnlMatOf(t *Tensor, trans bool) mnlMat {
	v := t.Float64s()
	r, c := t.Shape()[0], t.Shape()[1]
	if !trans {
		return mnlMat{r, c, v}
	}
	w := make([]float64, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			w[j*r+i] = v[i*c+j]
		}
	}
	return mnlMat{c, r, w}
}

// mnlCheckGemm compares got (an m x n matrix) with alpha*A@B + beta*c0
// (c0 may be nil) under the dot-product bound of the file comment.
func mnlCheckGemm(t *testing.T, what string, dt DType, got []float64, a, b mnlMat, alpha, beta float64, c0 []float64) {
	t.Helper()
	m, n, k := a.r, b.c, a.c
	u := mnlUnit(dt)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, abs := 0.0, 0.0
			for l := 0; l < k; l++ {
				s += a.at(i, l) * b.at(l, j)
				abs += math.Abs(a.at(i, l) * b.at(l, j))
			}
			want, bound := alpha*s, math.Abs(alpha)*abs
			if c0 != nil {
				want += beta * c0[i*n+j]
				bound += math.Abs(beta * c0[i*n+j])
			}
			tol := float64(k+4)*u*bound + 1e-30
			if g := got[i*n+j]; !(math.Abs(g-want) <= tol) {
				t.Fatalf("%s: C[%d,%d] = %v, want %v (|diff| %.3g > tol %.3g)", what, i, j, g, want, math.Abs(g-want), tol)
			}
		}
	}
}

// mnlStored returns a random stored operand for a logical rows x cols
// matrix: [cols, rows] when trans is set (MatMulT transposes it back).
func mnlStored(seed uint64, dt DType, rows, cols int, trans bool) *Tensor {
	if trans {
		return mnlRand(seed, dt, cols, rows)
	}
	return mnlRand(seed, dt, rows, cols)
}

var mnlDTypes = []DType{Float32, Float64}

func TestMatMulTransposesAndSizes(t *testing.T) {
	sizes := [][3]int{{1, 1, 1}, {7, 7, 7}, {63, 65, 7}, {65, 63, 130}, {130, 130, 130},
		{1, 130, 65}, {130, 1, 63}, {7, 130, 1}, {130, 7, 300}, {65, 200, 257}}
	for _, dt := range mnlDTypes {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				what := fmt.Sprintf("%v m=%d n=%d k=%d transA=%v transB=%v", dt, m, n, k, tr[0], tr[1])
				a := mnlStored(uint64(m*1000+k), dt, m, k, tr[0])
				b := mnlStored(uint64(k*1000+n+7), dt, k, n, tr[1])
				c := MatMulT(a, b, tr[0], tr[1])
				if !c.Shape().Equal(Shape{m, n}) {
					t.Fatalf("%s: shape %v", what, c.Shape())
				}
				mnlCheckGemm(t, what, dt, c.Float64s(), mnlMatOf(a, tr[0]), mnlMatOf(b, tr[1]), 1, 0, nil)
			}
		}
	}
}

func TestMatMulAlphaBetaPoisoned(t *testing.T) {
	for _, dt := range mnlDTypes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			m, n, k := 70, 131, 270 // several tiles in every direction, two k chunks
			a := mnlStored(1, dt, m, k, tr[0])
			b := mnlStored(2, dt, k, n, tr[1])
			am, bm := mnlMatOf(a, tr[0]), mnlMatOf(b, tr[1])
			what := fmt.Sprintf("%v transA=%v transB=%v", dt, tr[0], tr[1])

			dst := mnlRand(3, dt, m, n)
			c0 := dst.Float64s()
			MatMulInto(dst, a, b, tr[0], tr[1], 0.7, -1.3)
			mnlCheckGemm(t, what+" alpha=0.7 beta=-1.3", dt, dst.Float64s(), am, bm, 0.7, -1.3, c0)

			// beta = 0 must overwrite: NaN in dst may not leak.
			dst = mnlPoison(New(CPU, dt, m, n))
			MatMulInto(dst, a, b, tr[0], tr[1], -2, 0)
			mnlCheckGemm(t, what+" beta=0 over NaN", dt, dst.Float64s(), am, bm, -2, 0, nil)

			// alpha = 0: dst = beta*dst, A and B not read (as in BLAS).
			dst = mnlRand(4, dt, m, n)
			c0 = dst.Float64s()
			MatMulInto(dst, a, b, tr[0], tr[1], 0, 0.5)
			for i, v := range dst.Float64s() {
				if v != 0.5*c0[i] {
					t.Fatalf("%s alpha=0: dst[%d] = %v, want %v", what, i, v, 0.5*c0[i])
				}
			}
		}
		// k = 0 with beta = 0 over NaN gives zeros.
		dst := mnlPoison(New(CPU, dt, 5, 3))
		MatMulInto(dst, New(CPU, dt, 5, 0), New(CPU, dt, 0, 3), false, false, 1, 0)
		for i, v := range dst.Float64s() {
			if v != 0 {
				t.Fatalf("%v k=0: dst[%d] = %v, want 0", dt, i, v)
			}
		}
	}
}

func TestMatMulStridedViews(t *testing.T) {
	for _, dt := range mnlDTypes {
		m, n, k := 33, 65, 70
		// Transposed views passed without flags: matOperand turns them into
		// flags, the kernel sees leading dimensions of the stored layout.
		at := mnlRand(10, dt, k, m).Transpose(0, 1)
		bt := mnlRand(11, dt, n, k).Transpose(0, 1)
		c := MatMul(at, bt)
		mnlCheckGemm(t, fmt.Sprintf("%v transposed views", dt), dt, c.Float64s(), mnlMatOf(at, false), mnlMatOf(bt, false), 1, 0, nil)

		// Sliced views: leading dimension larger than the row (lda = 150).
		as := mnlRand(12, dt, 80, 150).Slice(0, 3, 3+m).Slice(1, 5, 5+k)
		bs := mnlRand(13, dt, 90, 150).Slice(0, 2, 2+k).Slice(1, 40, 40+n)
		for _, tr := range [][2]bool{{false, false}, {false, true}} {
			b := bs
			if tr[1] {
				b = mnlRand(14, dt, 90, 150).Slice(0, 1, 1+n).Slice(1, 7, 7+k)
			}
			c = MatMulT(as, b, tr[0], tr[1])
			mnlCheckGemm(t, fmt.Sprintf("%v sliced views transB=%v", dt, tr[1]), dt, c.Float64s(), mnlMatOf(as, false), mnlMatOf(b, tr[1]), 1, 0, nil)
		}

		// Broadcast rows (row stride 0, not a legal BLAS lda: copied) and a
		// broadcast last axis (stride 0 in the unit-stride position).
		ar := mnlRand(15, dt, 1, k).Expand(m, k)
		bc := mnlRand(16, dt, k, 1).Expand(k, n)
		c = MatMul(ar, bc)
		mnlCheckGemm(t, fmt.Sprintf("%v broadcast rows/cols", dt), dt, c.Float64s(), mnlMatOf(ar, false), mnlMatOf(bc, false), 1, 0, nil)

		// Batch axis with a non-contiguous stride: [k, B, m] permuted to
		// [B, m, k] has batch stride m, row stride 1, last stride B*m.
		const nb = 3
		ap := mnlRand(17, dt, k, nb, m).Permute(1, 2, 0)
		bp := mnlRand(18, dt, nb, k, n)
		c = MatMul(ap, bp)
		for i := 0; i < nb; i++ {
			mnlCheckGemm(t, fmt.Sprintf("%v permuted batch %d", dt, i), dt, c.Select(0, i).Float64s(),
				mnlMatOf(ap.Select(0, i), false), mnlMatOf(bp.Select(0, i), false), 1, 0, nil)
		}
	}
}

func TestMatMulBatchBroadcast(t *testing.T) {
	for _, dt := range mnlDTypes {
		m, k, n := 7, 65, 63
		a := mnlRand(20, dt, 2, 1, m, k)
		b := mnlRand(21, dt, 3, k, n)
		c := MatMul(a, b)
		if !c.Shape().Equal(Shape{2, 3, m, n}) {
			t.Fatalf("%v: shape %v, want [2 3 %d %d]", dt, c.Shape(), m, n)
		}
		for i := 0; i < 2; i++ {
			for j := 0; j < 3; j++ {
				mnlCheckGemm(t, fmt.Sprintf("%v batch [%d,%d]", dt, i, j), dt, c.Select(0, i).Select(0, j).Float64s(),
					mnlMatOf(a.Select(0, i).Select(0, 0), false), mnlMatOf(b.Select(0, j), false), 1, 0, nil)
			}
		}
		// Transposed batched operand, broadcast the other way: [4, k, m]^T @ [k, n].
		at := mnlRand(22, dt, 4, k, m)
		b2 := mnlRand(23, dt, k, n)
		c = MatMulT(at, b2, true, false)
		for i := 0; i < 4; i++ {
			mnlCheckGemm(t, fmt.Sprintf("%v transA batch %d", dt, i), dt, c.Select(0, i).Float64s(),
				mnlMatOf(at.Select(0, i), true), mnlMatOf(b2, false), 1, 0, nil)
		}
	}
}

// mnlWorkerRuns runs f with 1 and then 2 workers and GOMAXPROCS 1 and 2 and
// returns the results of every run.
func mnlWorkerRuns(f func() []*Tensor) [][]*Tensor {
	oldW, oldP := Workers(), runtime.GOMAXPROCS(0)
	defer func() { SetWorkers(oldW); runtime.GOMAXPROCS(oldP) }()
	var out [][]*Tensor
	for _, cfg := range [][2]int{{1, 1}, {2, 2}, {2, 1}, {1, 2}} {
		SetWorkers(cfg[0])
		runtime.GOMAXPROCS(cfg[1])
		out = append(out, f())
	}
	return out
}

// mnlSameBits fails unless every run gave bit-identical tensors.
func mnlSameBits(t *testing.T, what string, runs [][]*Tensor) {
	t.Helper()
	for r := 1; r < len(runs); r++ {
		for i, x := range runs[r] {
			if x == nil {
				continue
			}
			a, b := runs[0][i].Float64s(), x.Float64s()
			for j := range a {
				if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
					t.Fatalf("%s: output %d element %d differs between runs 0 and %d: %v vs %v", what, i, j, r, a[j], b[j])
				}
			}
		}
	}
}

func TestMatMulWorkersBitIdentical(t *testing.T) {
	for _, dt := range mnlDTypes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			a := mnlRand(30, dt, 2, 100, 600) // op(a) is a batch of 2 [100, 600]
			if tr[0] {
				a = mnlRand(30, dt, 2, 600, 100)
			}
			b := mnlStored(31, dt, 600, 300, tr[1])
			runs := mnlWorkerRuns(func() []*Tensor { return []*Tensor{MatMulT(a, b, tr[0], tr[1])} })
			mnlSameBits(t, fmt.Sprintf("%v MatMul transA=%v transB=%v", dt, tr[0], tr[1]), runs)
		}
		// Many small products: the batch is what gets split.
		a, b := mnlRand(32, dt, 64, 40, 64), mnlRand(33, dt, 64, 64, 40)
		mnlSameBits(t, fmt.Sprintf("%v batched", dt), mnlWorkerRuns(func() []*Tensor { return []*Tensor{MatMul(a, b)} }))
	}
}

// TestGonumSgemmGOMAXPROCS checks the claim blas.go relies on: gonum's
// Sgemm, even on a matrix big enough for its own goroutines (blocks of 64x64
// summed along k in order), gives the same bits for GOMAXPROCS 1 and 2.
func TestGonumSgemmGOMAXPROCS(t *testing.T) {
	const m, n, k = 300, 260, 330
	a := RandNormal(40, 0, 1, m*k).F32Data()
	b := RandNormal(41, 0, 1, k*n).F32Data()
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			lda, ldb := k, n
			if tA == blas.Trans {
				lda = m
			}
			if tB == blas.Trans {
				ldb = k
			}
			var res [2][]float32
			for p := 1; p <= 2; p++ {
				runtime.GOMAXPROCS(p)
				c := make([]float32, m*n)
				gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
				res[p-1] = c
			}
			for i := range res[0] {
				if math.Float32bits(res[0][i]) != math.Float32bits(res[1][i]) {
					t.Fatalf("Sgemm %c%c: element %d differs for GOMAXPROCS 1 and 2", tA, tB, i)
				}
			}
		}
	}
}

// mnlRefBLAS32 is a blas.Float32 whose Sgemm is the naive ref.Gemm (the rest
// is gonum's): the reference path of the benchmarks, and a pluggable
// implementation for TestMatMulSetBLAS32.
type mnlRefBLAS32 struct{ gonum.Implementation }

func (mnlRefBLAS32) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ref.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, float64(alpha), a, lda, b, ldb, float64(beta), c, ldc, 0, m)
}

func TestMatMulSetBLAS32(t *testing.T) {
	// The default is avx.Implementation on AVX2/AVX-512 CPUs, gonum's
	// otherwise (blas.go).
	if BLAS32() != DefaultBLAS32() {
		t.Fatalf("default BLAS32 is %T, want %T", BLAS32(), DefaultBLAS32())
	}
	defer SetBLAS32(nil)
	SetBLAS32(mnlRefBLAS32{})
	if _, ok := BLAS32().(mnlRefBLAS32); !ok {
		t.Fatalf("BLAS32 is %T after SetBLAS32", BLAS32())
	}
	m, n, k := 130, 70, 300
	a, b := mnlRand(50, Float32, m, k), mnlRand(51, Float32, n, k)
	dst := mnlPoison(New(CPU, Float32, m, n))
	MatMulInto(dst, a, b, false, true, 1.5, 0)
	mnlCheckGemm(t, "ref.Gemm as BLAS32", Float32, dst.Float64s(), mnlMatOf(a, false), mnlMatOf(b, true), 1.5, 0, nil)
	SetBLAS32(nil)
	if BLAS32() != DefaultBLAS32() {
		t.Fatalf("SetBLAS32(nil) left %T, want %T", BLAS32(), DefaultBLAS32())
	}
}

func TestMatMulShapePanics(t *testing.T) {
	expectPanic(t, []string{"MatMulT", "[2 3]", "[4 5]"}, func() { MatMul(Zeros(2, 3), Zeros(4, 5)) })
	expectPanic(t, []string{"MatMulT", "[2 2 3]", "[3 3 5]"}, func() { MatMul(Zeros(2, 2, 3), Zeros(3, 3, 5)) })
	expectPanic(t, []string{"MatMulInto", "[2 5]", "[2 4]"}, func() {
		MatMulInto(Zeros(2, 5), Zeros(2, 3), Zeros(3, 4), false, false, 1, 0)
	})
}
