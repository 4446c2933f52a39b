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

// AccumRow4 is AccumRow for four rows at once: acc[r] += a[off[r]+i*inc]
// for i = 0, 1, ..., n-1. Each accumulator still adds its own row left to
// right, so the results are those of four AccumRow calls bit for bit; the
// four independent chains only hide the latency of the additions.
func AccumRow4[T Float](acc *[4]float64, a []T, off *[4]int, n, inc int) {
	s0, s1, s2, s3 := acc[0], acc[1], acc[2], acc[3]
	if inc == 1 {
		r0 := a[off[0] : off[0]+n]
		r1, r2, r3 := a[off[1]:off[1]+n], a[off[2]:off[2]+n], a[off[3]:off[3]+n]
		for i, v := range r0 {
			s0 += float64(v)
			s1 += float64(r1[i])
			s2 += float64(r2[i])
			s3 += float64(r3[i])
		}
	} else {
		for i := 0; i < n; i++ {
			k := i * inc
			s0 += float64(a[off[0]+k])
			s1 += float64(a[off[1]+k])
			s2 += float64(a[off[2]+k])
			s3 += float64(a[off[3]+k])
		}
	}
	acc[0], acc[1], acc[2], acc[3] = s0, s1, s2, s3
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
