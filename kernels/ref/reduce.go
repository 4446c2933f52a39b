package ref

// Reduction kernels. A reduction of many elements into one output element is
// built from calls that carry the running value in and out, so the caller
// decides how the reduced index space is walked while the order of the
// additions stays fixed: every element is added to one float64 accumulator
// in increasing index order.

// AccumRow returns acc + a[0] + a[inc] + ... + a[(n-1)*inc], added one
// element at a time, left to right, in float64.
func AccumRow[T Float](acc float64, a []T, n, inc int) float64 {
	if inc == 1 {
		for _, v := range a[:n] {
			acc += float64(v)
		}
		return acc
	}
	for i := 0; i < n; i++ {
		acc += float64(a[i*inc])
	}
	return acc
}

// MaxRow returns the maximum of m and a[0], a[inc], ..., a[(n-1)*inc]; a NaN
// anywhere makes the result NaN.
func MaxRow[T Float](m T, a []T, n, inc int) T {
	if inc == 1 {
		for _, v := range a[:n] {
			m = max(m, v)
		}
		return m
	}
	for i := 0; i < n; i++ {
		m = max(m, a[i*inc])
	}
	return m
}

// AccumCols adds one row of a reduction that runs down columns: acc[k] +=
// a[k*inc] in float64 for k < len(acc). Calling it for the reduced rows in
// increasing order adds every column's elements in increasing index order,
// while reading memory row by row.
func AccumCols[T Float](acc []float64, a []T, inc int) {
	if inc == 1 {
		a = a[:len(acc)]
		for k := range acc {
			acc[k] += float64(a[k])
		}
		return
	}
	for k := range acc {
		acc[k] += float64(a[k*inc])
	}
}

// MaxCols is AccumCols for the maximum: m[k] = max(m[k], a[k*inc]),
// propagating NaN.
func MaxCols[T Float](m, a []T, inc int) {
	if inc == 1 {
		a = a[:len(m)]
		for k := range m {
			m[k] = max(m[k], a[k])
		}
		return
	}
	for k := range m {
		m[k] = max(m[k], a[k*inc])
	}
}

// AccumSquares returns acc + a[0]^2 + a[inc]^2 + ... + a[(n-1)*inc]^2, each
// square formed in float64 and added left to right.
func AccumSquares[T Float](acc float64, a []T, n, inc int) float64 {
	if inc == 1 {
		for _, v := range a[:n] {
			x := float64(v)
			acc += x * x
		}
		return acc
	}
	for i := 0; i < n; i++ {
		x := float64(a[i*inc])
		acc += x * x
	}
	return acc
}
