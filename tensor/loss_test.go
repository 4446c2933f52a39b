package tensor

import (
	"fmt"
	"math"
	"testing"
)

// Tests of Pinball and PinballGrad (cpu_loss.go) against float64 loops
// written here, with ties (pred == target) planted on purpose.
//
// Tolerances: the loss is summed in float64 from the (float32 or float64)
// inputs in both the kernel and the reference, in different groupings, so it
// must agree to 1e-12 relative (every term is >= 0: no cancellation). The
// gradient is g/(N*Q) times -tau, 1-tau or 0.5-tau, computed in float64 and
// rounded once: relative 2^-23 for float32, 1e-15 for float64.

// mnlPinballCase returns pred [N, Q], target [N] and taus [Q] data, with
// pred == target at every fifth element, and taus (i+1)/(Q+1) as the model
// uses.
func mnlPinballCase(seed uint64, nr, q int) (pred, target, taus []float64) {
	pred, target = mnlData(seed, nr*q, 0, 1), mnlData(seed+1, nr, 0, 1)
	for i := 0; i < nr*q; i += 5 {
		pred[i] = target[i/q]
	}
	taus = make([]float64, q)
	for i := range taus {
		taus[i] = float64(float32(float64(i+1) / float64(q+1)))
	}
	return pred, target, taus
}

func TestPinballLossAndGrad(t *testing.T) {
	be := CPU.Backend()
	for _, dt := range mnlDTypes {
		for _, sz := range [][2]int{{1, 1}, {7, 3}, {37, 999}, {1000, 7}} {
			nr, q := sz[0], sz[1]
			what := fmt.Sprintf("%v N=%d Q=%d", dt, nr, q)
			p, y, tau := mnlPinballCase(uint64(nr*q), nr, q)
			pt, yt, tt := mnlTensor(dt, p, nr, q), mnlTensor(dt, y, nr), mnlTensor(dt, tau, q)

			// Reference: u >= 0 ? tau*u : (tau-1)*u, the same max written
			// as a branch.
			want, ties := 0.0, 0
			for i := range p {
				u, ta := y[i/q]-p[i], tau[i%q]
				if u >= 0 {
					want += ta * u
				} else {
					want += (ta - 1) * u
				}
				if u == 0 {
					ties++
				}
			}
			want /= float64(nr * q)
			if ties == 0 {
				t.Fatalf("%s: no ties planted", what)
			}
			loss := Pinball(pt, yt, tt)
			if len(loss.Shape()) != 0 || loss.DType() != dt {
				t.Fatalf("%s: loss tensor %v %v, want a 0-d %v", what, loss.Shape(), loss.DType(), dt)
			}
			if got := be.Pinball(pt, yt, tt); !(math.Abs(got-want) <= 1e-12*want) {
				t.Fatalf("%s: loss %v, want %v", what, got, want)
			}

			const g = 2.5
			dp := mnlOut(dt, nr, q)
			be.PinballGrad(dp, pt, yt, tt, g)
			wg := make([]float64, nr*q)
			for i := range wg {
				d := 0.5 - tau[i%q] // midpoint of [-tau, 1-tau] at a tie
				switch {
				case y[i/q] > p[i]:
					d = -tau[i%q]
				case y[i/q] < p[i]:
					d = 1 - tau[i%q]
				}
				wg[i] = g * d / float64(nr*q)
			}
			rtol := 0x1p-23
			if dt == Float64 {
				rtol = 1e-15
			}
			for i, v := range dp.Float64s() {
				if !(math.Abs(v-wg[i]) <= rtol*math.Abs(wg[i])) {
					t.Fatalf("%s: dpred[%d] = %v, want %v (pred %v, target %v, tau %v)", what, i, v, wg[i], p[i], y[i/q], tau[i%q])
				}
			}
			if pg := PinballGrad(pt, yt, tt, g).Float64s(); fmt.Sprint(pg) != fmt.Sprint(dp.Float64s()) {
				t.Fatalf("%s: PinballGrad op differs from the backend call", what)
			}
		}
	}
}

func TestPinballWorkersBitIdentical(t *testing.T) {
	for _, dt := range mnlDTypes {
		const nr, q = 300, 999 // 73 ReduceFloat64 chunks
		p, y, tau := mnlPinballCase(70, nr, q)
		pt, yt, tt := mnlTensor(dt, p, nr, q), mnlTensor(dt, y, nr), mnlTensor(dt, tau, q)
		runs := mnlWorkerRuns(func() []*Tensor {
			return []*Tensor{Pinball(pt, yt, tt), PinballGrad(pt, yt, tt, 0.3)}
		})
		mnlSameBits(t, fmt.Sprintf("%v pinball", dt), runs)
	}
}

func TestPinballShapePanics(t *testing.T) {
	expectPanic(t, []string{"Pinball", "[4 3]", "[5]", "[3]"}, func() { Pinball(Zeros(4, 3), Zeros(5), Zeros(3)) })
	expectPanic(t, []string{"PinballGrad", "[4 3]", "[4]", "[2]"}, func() { PinballGrad(Zeros(4, 3), Zeros(4), Zeros(2), 1) })
}
