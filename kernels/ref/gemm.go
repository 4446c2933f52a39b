package ref

import "fmt"

// Gemm computes rows [lo, hi) of
//
//	C = alpha * op(A) @ op(B) + beta * C
//
// where C is m x n (row-major, leading dimension ldc), op(A) is m x k and
// op(B) is k x n. op(X) is X, or X transposed when the flag is set; A and B
// are row-major with leading dimensions lda and ldb (so A is m x k, or k x m
// when transA is set). Rows outside [lo, hi) are neither read nor written, so
// callers may split the rows of C across workers.
//
// Algorithm and accumulation order, per row i of C:
//   - row i of op(A) is gathered into a float64 buffer (unit stride either way);
//   - without transB the loop order is i, l, j: acc[j] += opA[i,l] * B[l,j]
//     for l = 0..k-1 in order, the inner j loop walking row l of B with unit
//     stride;
//   - with transB it is i, j, l: acc = sum over l = 0..k-1 in order of
//     opA[i,l] * B[j,l], the inner l loop walking row j of B with unit stride;
//   - then C[i,j] = T(alpha*acc[j] + beta*C[i,j]), rounded once.
//
// Products and sums are in float64 whatever T, so for float32 the result is
// the exactly rounded value up to float64 error: a reference for the fast
// float32 kernels. When beta == 0, C is not read (NaN or Inf in C does not
// propagate); when alpha == 0, A and B are not read, as in BLAS. NaN and Inf
// in A or B otherwise propagate by IEEE rules (no skipping of zero terms).
func Gemm[T Float](transA, transB bool, m, n, k int, alpha float64, a []T, lda int, b []T, ldb int, beta float64, c []T, ldc int, lo, hi int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc, lo, hi)
	if lo >= hi || n == 0 {
		return
	}
	var arow, acc []float64
	if alpha != 0 {
		arow, acc = make([]float64, k), make([]float64, n)
	}
	for i := lo; i < hi; i++ {
		crow := c[i*ldc : i*ldc+n]
		if alpha == 0 {
			for j := range crow {
				if beta == 0 {
					crow[j] = 0
				} else {
					crow[j] = T(beta * float64(crow[j]))
				}
			}
			continue
		}
		if transA {
			for l := range arow {
				arow[l] = float64(a[l*lda+i])
			}
		} else {
			for l, v := range a[i*lda : i*lda+k] {
				arow[l] = float64(v)
			}
		}
		if transB {
			for j := range acc {
				brow := b[j*ldb : j*ldb+k]
				s := 0.0
				for l, v := range brow {
					s += arow[l] * float64(v)
				}
				acc[j] = s
			}
		} else {
			clear(acc)
			for l, av := range arow {
				brow := b[l*ldb : l*ldb+n]
				for j, v := range brow {
					acc[j] += av * float64(v)
				}
			}
		}
		if beta == 0 {
			for j, s := range acc {
				crow[j] = T(alpha * s)
			}
		} else {
			for j, s := range acc {
				crow[j] = T(alpha*s + beta*float64(crow[j]))
			}
		}
	}
}

// checkGemm panics unless the Gemm arguments describe valid matrices, with
// the BLAS rules for leading dimensions (at least max(1, columns)).
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc, lo, hi int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("ref.Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	if lo < 0 || hi > m || lo > hi {
		panic(fmt.Sprintf("ref.Gemm: row range [%d,%d) outside [0,%d)", lo, hi, m))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, rows, cols, l, ld int) {
		if ld < max(1, cols) {
			panic(fmt.Sprintf("ref.Gemm: %s is %dx%d with leading dimension %d < %d", name, rows, cols, ld, max(1, cols)))
		}
		if rows > 0 && cols > 0 && l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("ref.Gemm: %s is %dx%d (ld %d) but has only %d elements", name, rows, cols, ld, l))
		}
	}
	check("A", ar, ac, la, lda)
	check("B", br, bc, lb, ldb)
	check("C", m, n, lc, ldc)
}
