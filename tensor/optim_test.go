package tensor

import (
	"fmt"
	"math"
	"testing"
)

// Tests of Axpby and AdamW (cpu_optim.go). The float64 references below
// follow the documented formulas and rounding points (ref.Axpby, ref.AdamW),
// so the kernels must match them bit for bit; two semantic checks (pure
// weight decay, the sign-like first Adam step) do not depend on that order.

var optShapes = []Shape{{}, {1}, {7}, {1000}, {7, 63}, {2, 3, 4, 5}}

// TestAxpby checks y = a*y + b*x, and y += x (a = b = 1, which float32 runs
// through the SIMD saxpy) against the same float64 formula.
func TestAxpby(t *testing.T) {
	for _, ab := range [][2]float64{{0.9, -0.3}, {1, 1}} {
		a, b := ab[0], ab[1]
		for _, dt := range ewtDTypes {
			for i, s := range append(optShapes, Shape{100003}) {
				y := ewtRand(dt, uint64(130+i), s...)
				x := ewtRand(dt, uint64(140+i), s...)
				yv, xv := ewtValues(y), ewtValues(x)
				want := make([]float64, len(yv))
				for k := range want {
					want[k] = a*yv[k] + b*xv[k]
				}
				Axpby(y, x, a, b)
				ewtExact(t, fmt.Sprint(dt, " Axpby ", a, b, s), dt, ewtValues(y), want)
				ewtExact(t, fmt.Sprint(dt, " Axpby x untouched ", a, b, s), dt, ewtValues(x), xv)
			}
		}
	}
}

// optAdamRef runs one AdamW step on float64 copies, rounding m, v and p to
// dt where the kernel stores them.
func optAdamRef(dt DType, p, g, m, v []float64, lr, b1, b2, eps, wd, bc1, bc2 float64) {
	for i := range p {
		m[i] = ewtRound(dt, b1*m[i]+(1-b1)*g[i])
		v[i] = ewtRound(dt, b2*v[i]+(1-b2)*g[i]*g[i])
		p[i] = ewtRound(dt, p[i]-(lr*(m[i]/bc1)/(math.Sqrt(v[i]/bc2)+eps)+lr*wd*p[i]))
	}
}

// TestAdamW runs three steps with fresh gradients against the reference.
func TestAdamW(t *testing.T) {
	const lr, b1, b2, eps, wd = 1e-2, 0.9, 0.95, 1e-8, 0.1
	for _, dt := range ewtDTypes {
		for i, s := range optShapes {
			p := ewtRand(dt, uint64(150+i), s...)
			m, v := New(CPU, dt, s...), New(CPU, dt, s...)
			pv, mv, vv := ewtValues(p), make([]float64, p.Numel()), make([]float64, p.Numel())
			for step := 1; step <= 3; step++ {
				g := ewtRand(dt, uint64(160+10*i+step), s...)
				bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
				optAdamRef(dt, pv, ewtValues(g), mv, vv, lr, b1, b2, eps, wd, bc1, bc2)
				AdamW(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2)
				name := fmt.Sprintf("%v AdamW %v step %d", dt, s, step)
				ewtExact(t, name+" m", dt, ewtValues(m), mv)
				ewtExact(t, name+" v", dt, ewtValues(v), vv)
				ewtExact(t, name+" p", dt, ewtValues(p), pv)
			}
		}
	}
}

// TestAdamWSemantics checks decoupled weight decay and the first step's
// size independently of the formula's evaluation order.
func TestAdamWSemantics(t *testing.T) {
	const lr, wd = 1e-2, 0.1
	p := ewtRand(Float64, 170, 1000)
	p0 := ewtValues(p)
	zero := func() *Tensor { return New(CPU, Float64, 1000) }
	m, v := zero(), zero()
	// Zero gradient and moments: only the decay acts, p *= 1 - lr*wd.
	AdamW(p, zero(), m, v, lr, 0.9, 0.999, 1e-8, wd, 0.1, 0.001)
	ewtClose(t, "pure decay", ewtValues(p), optScale(p0, 1-lr*wd), 1e-15)
	ewtExact(t, "pure decay m", Float64, ewtValues(m), make([]float64, 1000))
	// First step without decay: m/bc1 = g and v/bc2 = g^2, so the step is
	// lr*g/(|g|+eps), lr times the sign of g up to eps/|g|.
	p = ewtRand(Float64, 171, 1000)
	p0 = ewtValues(p)
	g := ewtRand(Float64, 172, 1000)
	AdamW(p, g, zero(), zero(), lr, 0.9, 0.999, 1e-8, 0, 0.1, 0.001)
	gv, pv := ewtValues(g), ewtValues(p)
	for i := range pv {
		step := p0[i] - pv[i]
		if math.Abs(step-lr*math.Copysign(1, gv[i])) > 1e-12+lr*1e-8/math.Abs(gv[i]) {
			t.Fatalf("first step %d: moved %v for gradient %v, want about %v", i, step, gv[i], lr*math.Copysign(1, gv[i]))
		}
	}
}

func optScale(x []float64, s float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = s * v
	}
	return out
}

// TestOptimWorkersBitIdentical runs both updates on 300k elements with 1 and
// 2 workers.
func TestOptimWorkersBitIdentical(t *testing.T) {
	for _, dt := range ewtDTypes {
		ewtSameBits(t, fmt.Sprint(dt, " optim"), func() []*Tensor {
			p, g := ewtRand(dt, 180, 300, 1000), ewtRand(dt, 181, 300, 1000)
			m, v := ewtRand(dt, 182, 300, 1000), Square(ewtRand(dt, 183, 300, 1000))
			AdamW(p, g, m, v, 1e-3, 0.9, 0.95, 1e-8, 0.01, 0.5, 0.3)
			y := ewtRand(dt, 184, 300, 1000)
			Axpby(y, g, 0.99, 0.01)
			return []*Tensor{p, m, v, y}
		})
	}
}

// TestOptimShapePanics checks the wrappers' messages.
func TestOptimShapePanics(t *testing.T) {
	a := Zeros(3, 4)
	expectPanic(t, []string{"Axpby", "[3 4]", "[4 3]"}, func() { Axpby(a, Zeros(4, 3), 1, 1) })
	expectPanic(t, []string{"Axpby", "contiguous", "[4 3]"}, func() { Axpby(a.Transpose(0, 1), Zeros(4, 3), 1, 1) })
	expectPanic(t, []string{"AdamW", "[3 4]", "[12]"}, func() { AdamW(a, Zeros(3, 4), Zeros(12), Zeros(3, 4), 1, 0.9, 0.9, 1e-8, 0, 1, 1) })
}
