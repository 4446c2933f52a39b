package avx

import "math"

// useAsm reports whether the level-1 assembly may run now.
func useAsm() bool { return haveLevel1Asm && Current() >= AVX2 }

// dotUnit returns sum x[i]*y[i] over len(x) (len(y) >= len(x)). The
// assembly sums in 32 lanes (4 ymm accumulators) and adds the lanes at the
// end; the Go tail and the generic loop add sequentially.
func dotUnit(x, y []float32) float32 {
	n := len(x)
	y = y[:n]
	var s float32
	i := 0
	if useAsm() && n >= 8 {
		i = n &^ 7
		s = sdotAVX2(i, &x[0], &y[0])
	}
	for ; i < n; i++ {
		s += x[i] * y[i]
	}
	return s
}

// axpyUnit sets y += alpha*x over len(x) (len(y) >= len(x)).
func axpyUnit(alpha float32, x, y []float32) {
	n := len(x)
	y = y[:n]
	i := 0
	if useAsm() && n >= 8 {
		i = n &^ 7
		saxpyAVX2(i, alpha, &x[0], &y[0])
	}
	for ; i < n; i++ {
		y[i] += alpha * x[i]
	}
}

// scalUnit sets x *= alpha.
func scalUnit(alpha float32, x []float32) {
	n := len(x)
	i := 0
	if useAsm() && n >= 8 {
		i = n &^ 7
		sscalAVX2(i, alpha, &x[0])
	}
	for ; i < n; i++ {
		x[i] *= alpha
	}
}

// sumsqUnit returns sum x[i]^2 in float64.
func sumsqUnit(x []float32) float64 {
	n := len(x)
	var s float64
	i := 0
	if useAsm() && n >= 4 {
		i = n &^ 3
		s = ssumsqAVX2(i, &x[0])
	}
	for ; i < n; i++ {
		v := float64(x[i])
		s += v * v
	}
	return s
}

// Sdot returns sum x[i]*y[i] over n strided elements (negative increments
// walk the vector backwards, as in BLAS).
func (Implementation) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	ix, iy := checkTwoVec(n, x, incX, y, incY)
	if n == 0 {
		return 0
	}
	if incX == 1 && incY == 1 {
		return dotUnit(x[:n], y[:n])
	}
	var s float32
	for i := 0; i < n; i++ {
		s += x[ix] * y[iy]
		ix += incX
		iy += incY
	}
	return s
}

// Saxpy sets y[i] += alpha*x[i] over n strided elements.
func (Implementation) Saxpy(n int, alpha float32, x []float32, incX int, y []float32, incY int) {
	ix, iy := checkTwoVec(n, x, incX, y, incY)
	if n == 0 || alpha == 0 {
		return
	}
	if incX == 1 && incY == 1 {
		axpyUnit(alpha, x[:n], y[:n])
		return
	}
	for i := 0; i < n; i++ {
		y[iy] += alpha * x[ix]
		ix += incX
		iy += incY
	}
}

// checkTwoVec applies gonum's checks for two strided vectors and returns
// their start indices (the far end for negative increments).
func checkTwoVec(n int, x []float32, incX int, y []float32, incY int) (int, int) {
	switch {
	case incX == 0:
		panic(zeroIncX)
	case incY == 0:
		panic(zeroIncY)
	case n < 0:
		panic(nLT0)
	case n == 0:
		return 0, 0
	case (incX > 0 && len(x) <= (n-1)*incX) || (incX < 0 && len(x) <= (1-n)*incX):
		panic(shortX)
	case (incY > 0 && len(y) <= (n-1)*incY) || (incY < 0 && len(y) <= (1-n)*incY):
		panic(shortY)
	}
	ix, iy := 0, 0
	if incX < 0 {
		ix = (1 - n) * incX
	}
	if incY < 0 {
		iy = (1 - n) * incY
	}
	return ix, iy
}

// Sscal sets x[i] *= alpha over n elements with increment incX (nothing for
// incX < 0, as in gonum). alpha == 0 sets zeros (NaN in x does not leak).
func (Implementation) Sscal(n int, alpha float32, x []float32, incX int) {
	if incX < 1 {
		if incX == 0 {
			panic(zeroIncX)
		}
		return
	}
	if n < 1 {
		if n == 0 {
			return
		}
		panic(nLT0)
	}
	if (n-1)*incX >= len(x) {
		panic(shortX)
	}
	switch {
	case alpha == 0 && incX == 1:
		clear(x[:n])
	case alpha == 0:
		for i := 0; i < n*incX; i += incX {
			x[i] = 0
		}
	case incX == 1:
		scalUnit(alpha, x[:n])
	default:
		for i := 0; i < n*incX; i += incX {
			x[i] *= alpha
		}
	}
}

// Snrm2 returns the Euclidean norm of n elements of x with increment incX
// (0 for incX < 0, as in gonum). Reference BLAS rescales as it goes to avoid
// overflow and underflow of the squares; here the squares are summed in
// float64, where the square of any float32 (at most ~1.2e77, at least
// ~2e-90) is exact and no overflow or underflow can occur, so the result is
// correctly scaled without division: sqrt of the float64 sum, rounded once
// to float32 (+Inf only when the norm itself exceeds MaxFloat32). Inf in x
// gives +Inf, NaN gives NaN.
func (Implementation) Snrm2(n int, x []float32, incX int) float32 {
	if incX < 1 {
		if incX == 0 {
			panic(zeroIncX)
		}
		return 0
	}
	if n < 1 {
		if n == 0 {
			return 0
		}
		panic(nLT0)
	}
	if len(x) <= (n-1)*incX {
		panic(shortX)
	}
	var s float64
	if incX == 1 {
		s = sumsqUnit(x[:n])
	} else {
		for i := 0; i < n*incX; i += incX {
			v := float64(x[i])
			s += v * v
		}
	}
	return float32(math.Sqrt(s))
}
