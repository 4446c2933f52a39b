package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Direct tests of the ref elementwise and reduction kernels' internal
// invariants: the specialised loops (unit stride, broadcast scalar) must give
// the same bits as the general strided loop, and in-place calls (dst aliasing
// an input) the same bits as out-of-place ones. The tensor package tests the
// values against independent float64 references.

// ewRand returns n N(0,1) values, shifted/transformed by f when non-nil.
func ewRand[T Float](seed uint64, n int, f func(float64) float64) []T {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]T, n)
	for i := range out {
		v := r.NormFloat64()
		if f != nil {
			v = f(v)
		}
		out[i] = T(v)
	}
	return out
}

// ewSpread returns x with stride 2 (odd slots hold NaN, which a kernel
// reading them would propagate).
func ewSpread[T Float](x []T) []T {
	out := make([]T, 2*len(x))
	for i, v := range x {
		out[2*i] = v
		out[2*i+1] = T(math.NaN())
	}
	return out
}

func ewSameBits[T Float](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.Float64bits(g) != math.Float64bits(w) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g, w)
		}
	}
}

func ewTestBinaryPaths[T Float](t *testing.T) {
	const n = 1000
	pos := func(v float64) float64 { return math.Abs(v) + 0.1 }
	for op := OpAdd; op <= OpPow; op++ {
		a, b := ewRand[T](1, n, pos), ewRand[T](2, n, nil)
		if op == OpEq {
			copy(b[:n/2], a[:n/2]) // equal pairs in half the slots
		}
		name := fmt.Sprintf("%T op %d", a[0], op)
		want := make([]T, n)
		Binary(op, want, ewSpread(a), 2, ewSpread(b), 2) // general loop
		got := make([]T, n)
		Binary(op, got, a, 1, b, 1)
		ewSameBits(t, name+" contiguous", got, want)
		// dst aliasing a.
		ac := append([]T(nil), a...)
		Binary(op, ac, ac, 1, b, 1)
		ewSameBits(t, name+" in place", ac, want)
		// Broadcast scalars against the general loop with a repeated value.
		s := []T{b[3]}
		rep := make([]T, n)
		for i := range rep {
			rep[i] = s[0]
		}
		Binary(op, want, ewSpread(a), 2, ewSpread(rep), 2)
		Binary(op, got, a, 1, s, 0)
		ewSameBits(t, name+" scalar b", got, want)
		Binary(op, want, ewSpread(rep), 2, ewSpread(a), 2)
		Binary(op, got, s, 0, a, 1)
		ewSameBits(t, name+" scalar a", got, want)
	}
}

func TestRefBinaryPathsAgree(t *testing.T) {
	ewTestBinaryPaths[float32](t)
	ewTestBinaryPaths[float64](t)
}

func ewTestWherePaths[T Float](t *testing.T) {
	const n = 1000
	c := ewRand[T](3, n, func(v float64) float64 { return math.Max(v, 0) })
	a, b := ewRand[T](4, n, nil), ewRand[T](5, n, nil)
	want := make([]T, n)
	for i := range want {
		if c[i] != 0 {
			want[i] = a[i]
		} else {
			want[i] = b[i]
		}
	}
	got := make([]T, n)
	Where(got, c, 1, a, 1, b, 1)
	ewSameBits(t, "Where contiguous", got, want)
	Where(got, ewSpread(c), 2, ewSpread(a), 2, ewSpread(b), 2)
	ewSameBits(t, "Where strided", got, want)
}

func TestRefWherePaths(t *testing.T) {
	ewTestWherePaths[float32](t)
	ewTestWherePaths[float64](t)
}

func ewTestUnaryInPlace[T Float](t *testing.T) {
	const n = 257
	for op := OpNeg; op <= OpClampMax; op++ {
		x := ewRand[T](6, n, func(v float64) float64 { return math.Abs(v) + 0.05 })
		dy := ewRand[T](7, n, nil)
		y := make([]T, n)
		Unary(op, y, x, 0.5)
		yc := append([]T(nil), x...)
		Unary(op, yc, yc, 0.5)
		ewSameBits(t, fmt.Sprintf("%T Unary %d in place", x[0], op), yc, y)
		dx := make([]T, n)
		UnaryGrad(op, dx, x, y, dy, 0.5)
		dyc := append([]T(nil), dy...)
		usesX, usesY := UnaryGradInputs(op)
		xs, ys := x, y
		if !usesX {
			xs = nil // the kernel must not read it
		}
		if !usesY {
			ys = nil
		}
		UnaryGrad(op, dyc, xs, ys, dyc, 0.5)
		ewSameBits(t, fmt.Sprintf("%T UnaryGrad %d in place", x[0], op), dyc, dx)
	}
}

func TestRefUnaryInPlaceAndInputs(t *testing.T) {
	ewTestUnaryInPlace[float32](t)
	ewTestUnaryInPlace[float64](t)
}

func ewTestReducePaths[T Float](t *testing.T) {
	const n = 1000
	a := ewRand[T](8, n, nil)
	sp := ewSpread(a)
	if g, w := AccumRow(0.5, sp, n, 2), AccumRow(0.5, a, n, 1); g != w {
		t.Fatalf("AccumRow strided %v, unit %v", g, w)
	}
	if g, w := AccumSquares(0.5, sp, n, 2), AccumSquares(0.5, a, n, 1); g != w {
		t.Fatalf("AccumSquares strided %v, unit %v", g, w)
	}
	if g, w := MaxRow(a[0], sp, n, 2), MaxRow(a[0], a, n, 1); g != w {
		t.Fatalf("MaxRow strided %v, unit %v", g, w)
	}
	// Sequential order: AccumRow equals the plain left-to-right loop.
	s := 0.5
	for _, v := range a {
		s += float64(v)
	}
	if g := AccumRow(0.5, a, n, 1); g != s {
		t.Fatalf("AccumRow %v, left-to-right loop %v", g, s)
	}
	// AccumRow4 equals four AccumRow calls, unit and strided.
	for _, inc := range []int{1, 2} {
		src, m := a, n/4
		if inc == 2 {
			src = sp
		}
		off := [4]int{3 * m * inc, 0, m * inc, 2 * m * inc}
		acc := [4]float64{1, 2, 3, 4}
		AccumRow4(&acc, src, &off, m, inc)
		for r := range acc {
			if w := AccumRow(float64(r+1), src[off[r]:], m, inc); acc[r] != w {
				t.Fatalf("AccumRow4 inc %d row %d: %v, AccumRow %v", inc, r, acc[r], w)
			}
		}
	}
	acc1, acc2 := make([]float64, n), make([]float64, n)
	AccumCols(acc1, a, 1)
	AccumCols(acc2, sp, 2)
	ewSameBits(t, "AccumCols", acc2, acc1)
	m1, m2 := append([]T(nil), a...), append([]T(nil), a...)
	b := ewRand[T](9, n, nil)
	MaxCols(m1, b, 1)
	MaxCols(m2, ewSpread(b), 2)
	ewSameBits(t, "MaxCols", m2, m1)
}

func TestRefReducePaths(t *testing.T) {
	ewTestReducePaths[float32](t)
	ewTestReducePaths[float64](t)
}
