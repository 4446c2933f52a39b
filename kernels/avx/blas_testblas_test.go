package avx

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/testblas"
)

// gonum's conformance suite blas/testblas has float64 entry points only
// (DdotTest, TestDgemm, ...). f64 adapts avx.Implementation to them: inputs
// are rounded to float32, our routine runs, and every output element whose
// float32 value changed is written back widened (elements the routine must
// not touch keep their exact float64 value, so "unchanged" checks stay
// exact). testblas compares with a 1e-14 relative tolerance, which float32
// results meet exactly when the case's data are float32-representable and
// the exact result is too (small integers, halves, ...). TestDgemm,
// DdotTest, DaxpyTest and DscalTest pass unmodified this way. DgemvTest and
// Dnrm2Test fail only by float32 rounding of decimal data (e.g. 40.8 vs
// 40.80000305): Dnrm2's case table is run with a float32 tolerance in
// level1_test.go (TestBlasConformanceSnrm2Cases), and Dgemv, whose case
// fields are unexported, has an equivalent random test there
// (TestLevel1Sgemv). The Dgemv adapter is kept for the record of that.
type f64 struct{ impl Implementation }

func to32(x []float64) []float32 {
	if x == nil {
		return nil
	}
	r := make([]float32, len(x))
	for i, v := range x {
		r[i] = float32(v)
	}
	return r
}

// back writes the elements of r that differ from before into x.
func back(x []float64, before, r []float32) {
	for i := range r {
		if math.Float32bits(r[i]) != math.Float32bits(before[i]) {
			x[i] = float64(r[i])
		}
	}
}

func (w f64) Ddot(n int, x []float64, incX int, y []float64, incY int) float64 {
	return float64(w.impl.Sdot(n, to32(x), incX, to32(y), incY))
}

func (w f64) Daxpy(n int, alpha float64, x []float64, incX int, y []float64, incY int) {
	y32 := to32(y)
	before := append([]float32(nil), y32...)
	w.impl.Saxpy(n, float32(alpha), to32(x), incX, y32, incY)
	back(y, before, y32)
}

func (w f64) Dscal(n int, alpha float64, x []float64, incX int) {
	x32 := to32(x)
	before := append([]float32(nil), x32...)
	w.impl.Sscal(n, float32(alpha), x32, incX)
	back(x, before, x32)
}

func (w f64) Dnrm2(n int, x []float64, incX int) float64 {
	return float64(w.impl.Snrm2(n, to32(x), incX))
}

func (w f64) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	y32 := to32(y)
	before := append([]float32(nil), y32...)
	w.impl.Sgemv(tA, m, n, float32(alpha), to32(a), lda, to32(x), incX, float32(beta), y32, incY)
	back(y, before, y32)
}

func (w f64) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	c32 := to32(c)
	before := append([]float32(nil), c32...)
	w.impl.Sgemm(tA, tB, m, n, k, float32(alpha), to32(a), lda, to32(b), ldb, float32(beta), c32, ldc)
	back(c, before, c32)
}

func TestBlasConformanceDgemm(t *testing.T) {
	forLevels(t, func(t *testing.T) { testblas.TestDgemm(t, f64{}) })
}
func TestBlasConformanceDdot(t *testing.T) {
	forLevels(t, func(t *testing.T) { testblas.DdotTest(t, f64{}) })
}
func TestBlasConformanceDaxpy(t *testing.T) {
	forLevels(t, func(t *testing.T) { testblas.DaxpyTest(t, f64{}) })
}
func TestBlasConformanceDscal(t *testing.T) {
	forLevels(t, func(t *testing.T) { testblas.DscalTest(t, f64{}) })
}
