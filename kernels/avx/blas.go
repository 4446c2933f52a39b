package avx

import "gonum.org/v1/gonum/blas/gonum"

// Implementation is a float32 BLAS (gonum.org/v1/gonum/blas.Float32) with
// SIMD fast paths for Sgemm, Sgemv, Sdot, Saxpy, Sscal and Snrm2, dispatched
// on Current() (AVX-512, AVX2+FMA, or pure Go at level Generic). The other
// routines are gonum's, through the embedded gonum.Implementation. The zero
// value is ready to use; it is safe for concurrent calls on disjoint outputs.
type Implementation struct {
	gonum.Implementation
}

// Panic messages, the same as gonum's (its blas/testblas checks that bad
// arguments panic).
const (
	zeroIncX     = "blas: zero x index increment"
	zeroIncY     = "blas: zero y index increment"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortX       = "blas: insufficient length of x"
	shortY       = "blas: insufficient length of y"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)
