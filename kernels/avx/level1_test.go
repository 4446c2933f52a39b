package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/testblas"
)

// Level-1 and Sgemv tests against float64 loops on random N(0,1) inputs at
// awkward lengths and increments, at every dispatch level. Tolerances, u =
// 2^-24: Sdot n*u*sum|x_i y_i| (any summation order); Saxpy 2u*(|alpha x|+|y|)
// (an FMA rounds once, mul+add twice); Sscal exact (one correctly rounded
// multiply either way); Snrm2 one float32 rounding of the float64 result,
// 2u relative (plus the subnormal spacing 2^-149); Sgemv as Sgemm, (n+4)*u*(|alpha| sum|a x| + |beta y|).

var l1Lens = []int{0, 1, 7, 8, 9, 31, 32, 33, 63, 65, 1000, 1003}
var l1Incs = [][2]int{{1, 1}, {2, 3}, {-1, 1}, {1, -2}, {-3, -1}}

// stridedLen is the slice length holding n elements with increment inc.
func stridedLen(n, inc int) int {
	if n == 0 {
		return 0
	}
	return (n-1)*abs(inc) + 1
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// at returns the index of logical element i of a strided vector (BLAS
// convention: negative increments start from the far end).
func at(n, inc, i int) int {
	if inc < 0 {
		return (n - 1 - i) * (-inc)
	}
	return i * inc
}

func TestLevel1Sdot(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range l1Lens {
			for _, inc := range l1Incs {
				x, y := randSlice(rng, stridedLen(n, inc[0])), randSlice(rng, stridedLen(n, inc[1]))
				got := Implementation{}.Sdot(n, x, inc[0], y, inc[1])
				want, bound := 0.0, 0.0
				for i := 0; i < n; i++ {
					p := float64(x[at(n, inc[0], i)]) * float64(y[at(n, inc[1], i)])
					want, bound = want+p, bound+math.Abs(p)
				}
				if d := math.Abs(float64(got) - want); !(d <= float64(n)*0x1p-24*bound+1e-30) {
					t.Fatalf("n=%d inc=%v: Sdot %v, want %v", n, inc, got, want)
				}
			}
		}
	})
}

func TestLevel1Saxpy(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, n := range l1Lens {
			for _, inc := range l1Incs {
				for _, alpha := range []float32{0, 1, -0.7} {
					x, y := randSlice(rng, stridedLen(n, inc[0])), randSlice(rng, stridedLen(n, inc[1]))
					y0 := append([]float32(nil), y...)
					Implementation{}.Saxpy(n, alpha, x, inc[0], y, inc[1])
					for i := 0; i < n; i++ {
						xi, yi := float64(x[at(n, inc[0], i)]), float64(y0[at(n, inc[1], i)])
						want := float64(alpha)*xi + yi
						tol := 2 * 0x1p-24 * (math.Abs(float64(alpha)*xi) + math.Abs(yi))
						if got := float64(y[at(n, inc[1], i)]); !(math.Abs(got-want) <= tol) {
							t.Fatalf("n=%d inc=%v alpha=%v: y[%d] = %v, want %v", n, inc, alpha, i, got, want)
						}
					}
					if inc[1] != 1 && inc[1] != -1 { // elements between the strided ones are untouched
						for j := range y {
							if j%abs(inc[1]) != 0 && y[j] != y0[j] {
								t.Fatalf("n=%d inc=%v: y[%d] touched", n, inc, j)
							}
						}
					}
				}
			}
		}
	})
}

func TestLevel1Sscal(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, n := range l1Lens {
			for _, inc := range []int{1, 2, 5} {
				for _, alpha := range []float32{0, 1, -1.3, 1e-3} {
					x := randSlice(rng, stridedLen(n, inc))
					if alpha == 0 && len(x) > 0 {
						x[0] = float32(math.NaN()) // alpha = 0 sets zeros
					}
					x0 := append([]float32(nil), x...)
					Implementation{}.Sscal(n, alpha, x, inc)
					for j := range x {
						want := x0[j]
						if j%inc == 0 {
							want = alpha * x0[j]
							if alpha == 0 {
								want = 0
							}
						}
						if math.Float32bits(x[j]) != math.Float32bits(want) {
							t.Fatalf("n=%d inc=%d alpha=%v: x[%d] = %v, want %v", n, inc, alpha, j, x[j], want)
						}
					}
				}
			}
		}
	})
}

func TestLevel1Snrm2(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		for _, n := range l1Lens {
			for _, inc := range []int{1, 3} {
				// Scales whose squares overflow or underflow float32.
				for _, scale := range []float64{1, 1e30, 1e-30, 1e-42} {
					x := randSlice(rng, stridedLen(n, inc))
					for i := range x {
						x[i] = float32(float64(x[i]) * scale)
					}
					got := Implementation{}.Snrm2(n, x, inc)
					s := 0.0
					for i := 0; i < n; i++ {
						v := float64(x[i*inc])
						s += v * v
					}
					want := math.Sqrt(s)
					// 0x1p-149: the spacing of float32 subnormals (the 1e-42 scale).
					if d := math.Abs(float64(got) - want); !(d <= 0x1p-23*want+0x1p-149) || math.IsInf(float64(got), 0) {
						t.Fatalf("n=%d inc=%d scale=%g: Snrm2 %v, want %v", n, inc, scale, got, want)
					}
				}
			}
		}
		inf, nan := float32(math.Inf(-1)), float32(math.NaN())
		if got := (Implementation{}).Snrm2(3, []float32{1, inf, 2}, 1); !math.IsInf(float64(got), 1) {
			t.Errorf("Snrm2 with -Inf = %v, want +Inf", got)
		}
		if got := (Implementation{}).Snrm2(9, []float32{1, 2, 3, 4, nan, 6, 7, 8, 9}, 1); !math.IsNaN(float64(got)) {
			t.Errorf("Snrm2 with NaN = %v, want NaN", got)
		}
		if got := (Implementation{}).Snrm2(2, []float32{3e38, 3e38}, 1); !math.IsInf(float64(got), 1) {
			t.Errorf("Snrm2 past MaxFloat32 = %v, want +Inf", got)
		}
	})
}

// TestBlasConformanceSnrm2Cases runs gonum testblas's Dnrm2 case table
// (DoubleOneVectorCases) with a float32 tolerance: testblas.Dnrm2Test itself
// demands 1e-14, which no float32 result of its decimal data can meet.
func TestBlasConformanceSnrm2Cases(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		for _, c := range testblas.DoubleOneVectorCases {
			x := to32(c.X)
			if c.Panic {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s: no panic", c.Name)
						}
					}()
					Implementation{}.Snrm2(c.N, x, c.Incx)
				}()
				continue
			}
			got := float64(Implementation{}.Snrm2(c.N, x, c.Incx))
			if got == c.Dnrm2 || math.IsNaN(c.Dnrm2) && math.IsNaN(got) {
				continue
			}
			if d := math.Abs(got - c.Dnrm2); !(d <= 0x1p-22*math.Abs(c.Dnrm2)) {
				t.Errorf("%s: Snrm2 %v, want %v", c.Name, got, c.Dnrm2)
			}
		}
	})
}

// TestLevel1Sgemv: gonum's DgemvTest cannot be reused (its case fields are
// unexported and its 1e-14 tolerance fails on float32 rounding of decimal
// data), so this is the equivalent on random data: both transposes, m < n,
// m > n, lda > n, positive and negative increments, alpha/beta including
// beta = 0 over NaN.
func TestLevel1Sgemv(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		for _, mn := range [][2]int{{1, 1}, {7, 63}, {65, 7}, {33, 1000}, {1000, 9}} {
			m, n := mn[0], mn[1]
			for _, trans := range []bool{false, true} {
				for _, inc := range l1Incs {
					for _, ab := range [][2]float32{{1, 0}, {0.5, -1.5}, {0, 2}} {
						lda := n + 3
						a := randSlice(rng, (m-1)*lda+n)
						lenX, lenY := n, m
						if trans {
							lenX, lenY = m, n
						}
						x, y := randSlice(rng, stridedLen(lenX, inc[0])), randSlice(rng, stridedLen(lenY, inc[1]))
						if ab[1] == 0 {
							for i := range y {
								y[i] = float32(math.NaN())
							}
						}
						y0 := append([]float32(nil), y...)
						Implementation{}.Sgemv(tr(trans), m, n, ab[0], a, lda, x, inc[0], ab[1], y, inc[1])
						what := fmt.Sprintf("m=%d n=%d trans=%v inc=%v alpha,beta=%v", m, n, trans, inc, ab)
						for i := 0; i < lenY; i++ {
							s, bound := 0.0, 0.0
							for j := 0; j < lenX; j++ {
								var aij float64
								if trans {
									aij = float64(a[j*lda+i])
								} else {
									aij = float64(a[i*lda+j])
								}
								p := aij * float64(x[at(lenX, inc[0], j)])
								s, bound = s+p, bound+math.Abs(p)
							}
							want, b := float64(ab[0])*s, math.Abs(float64(ab[0]))*bound
							if ab[1] != 0 {
								yi := float64(y0[at(lenY, inc[1], i)])
								want, b = want+float64(ab[1])*yi, b+math.Abs(float64(ab[1])*yi)
							}
							got := float64(y[at(lenY, inc[1], i)])
							if !(math.Abs(got-want) <= float64(lenX+4)*0x1p-24*b+1e-30) {
								t.Fatalf("%s: y[%d] = %v, want %v", what, i, got, want)
							}
						}
					}
				}
			}
		}
	})
}

func TestLevel1Panics(t *testing.T) {
	impl := Implementation{}
	x := make([]float32, 10)
	cases := map[string]func(){
		"Sdot incX=0":   func() { impl.Sdot(2, x, 0, x, 1) },
		"Sdot short":    func() { impl.Sdot(11, x, 1, x, 1) },
		"Saxpy incY=0":  func() { impl.Saxpy(2, 1, x, 1, x, 0) },
		"Saxpy n<0":     func() { impl.Saxpy(-1, 1, x, 1, x, 1) },
		"Sscal short":   func() { impl.Sscal(6, 1, x, 2) },
		"Snrm2 incX=0":  func() { impl.Snrm2(2, x, 0) },
		"Sgemv trans":   func() { impl.Sgemv('X', 2, 2, 1, x, 2, x, 1, 0, x, 1) },
		"Sgemv lda":     func() { impl.Sgemv(blas.NoTrans, 2, 3, 1, x, 2, x, 1, 0, x, 1) },
		"Sgemv short a": func() { impl.Sgemv(blas.NoTrans, 4, 3, 1, x, 3, x, 1, 0, x, 1) },
		"Sgemv short x": func() { impl.Sgemv(blas.NoTrans, 2, 3, 1, x, 3, x, 5, 0, x, 1) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
