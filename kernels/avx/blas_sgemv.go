package avx

import "gonum.org/v1/gonum/blas"

// Sgemv computes
//
//	y = alpha * A * x + beta * y    (tA = NoTrans)
//	y = alpha * Aᵀ * x + beta * y   (tA = Trans or ConjTrans)
//
// for a row-major m×n A. NoTrans takes one dot product per row of A (the
// row and x both unit stride); Trans adds alpha*x[i] times row i of A into
// y, row by row. Strided x or y go through a contiguous copy. When beta == 0
// y is not read; when alpha == 0 A and x are not read.
func (impl Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	trans, ok := isTrans(tA)
	switch {
	case !ok:
		panic(badTranspose)
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case lda < max(1, n):
		panic(badLdA)
	case incX == 0:
		panic(zeroIncX)
	case incY == 0:
		panic(zeroIncY)
	}
	lenX, lenY := n, m
	if trans {
		lenX, lenY = m, n
	}
	if m == 0 || n == 0 {
		return
	}
	if (incX > 0 && (lenX-1)*incX >= len(x)) || (incX < 0 && (1-lenX)*incX >= len(x)) {
		panic(shortX)
	}
	if (incY > 0 && (lenY-1)*incY >= len(y)) || (incY < 0 && (1-lenY)*incY >= len(y)) {
		panic(shortY)
	}
	if len(a) < lda*(m-1)+n {
		panic(shortA)
	}
	if alpha == 0 && beta == 1 {
		return
	}
	yc := gatherVec(lenY, y, incY, beta != 0)
	defer scatterVec(lenY, yc, y, incY)
	if alpha == 0 {
		scaleVec(yc, beta)
		return
	}
	xc := gatherVec(lenX, x, incX, true)
	if !trans {
		for i := range yc {
			d := alpha * dotUnit(a[i*lda:i*lda+n], xc)
			if beta != 0 {
				d += beta * yc[i]
			}
			yc[i] = d
		}
		return
	}
	scaleVec(yc, beta)
	for i := 0; i < m; i++ {
		if xi := alpha * xc[i]; xi != 0 {
			axpyUnit(xi, a[i*lda:i*lda+n], yc)
		}
	}
}

// gatherVec returns the n elements of a strided vector as a unit-stride
// slice: v itself when inc == 1, else a copy (filled only when read).
func gatherVec(n int, v []float32, inc int, read bool) []float32 {
	if inc == 1 {
		return v[:n]
	}
	c := make([]float32, n)
	if read {
		i0 := 0
		if inc < 0 {
			i0 = (1 - n) * inc
		}
		for i := range c {
			c[i] = v[i0+i*inc]
		}
	}
	return c
}

// scatterVec copies c back into the strided vector v (nothing when inc == 1:
// c is v).
func scatterVec(n int, c, v []float32, inc int) {
	if inc == 1 {
		return
	}
	i0 := 0
	if inc < 0 {
		i0 = (1 - n) * inc
	}
	for i, x := range c {
		v[i0+i*inc] = x
	}
}

// scaleVec sets v *= beta, or zeros when beta == 0.
func scaleVec(v []float32, beta float32) {
	switch beta {
	case 1:
	case 0:
		clear(v)
	default:
		scalUnit(beta, v)
	}
}
