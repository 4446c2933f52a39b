//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// pinballInputs returns random pred [n, q], target [n] and the model's
// levels tau_t = (t+1)/(q+1), with some exact ties pred == target and some
// crossed neighbours.
func pinballInputs(n, q int, seed uint64) (pred, target, taus []float32) {
	pred, target = randn(seed, n*q), randn(seed+1, n)
	taus = make([]float32, q)
	for t := range taus {
		taus[t] = float32(float64(t+1) / float64(q+1))
	}
	for i := 0; i < n; i++ {
		row := pred[i*q : (i+1)*q]
		for t := range row {
			// Mostly increasing rows (as a trained head), crossings left in.
			row[t] = 0.3*row[t] + 4*(taus[t]-0.5)
		}
		if i%3 == 0 {
			row[q/2] = target[i] // a tie: the subgradient 0.5 - tau
		}
	}
	return pred, target, taus
}

// pinballWant is the float64 reference of PinballCrossing: the loss sums in
// order (ref.PinballSum for the pinball term), and the gradient with the
// kernel's operation sequence, which Go evaluates unfused on amd64.
func pinballWant(pred, target, taus []float32, n, q int, spin, scross float64) (pin, cross float64, grad []float32) {
	pin = ref.PinballSum(pred, target, taus, q, 0, n*q)
	grad = make([]float32, n*q)
	for i := 0; i < n; i++ {
		p := pred[i*q : (i+1)*q]
		y := float64(target[i])
		for c := 0; c < q; c++ {
			tau, pc := float64(taus[c]), float64(p[c])
			var dpin float64
			switch {
			case y > pc:
				dpin = -tau
			case y < pc:
				dpin = 1 - tau
			case y == pc:
				dpin = 0.5 - tau
			default:
				dpin = y - pc
			}
			gc := 0.0
			if c+1 < q {
				d := p[c] - p[c+1] // float32, as the CPU's Sub
				if !(d <= 0) {
					cross += float64(d) * float64(d)
				}
				if d > 0 {
					gc = 2 * float64(d)
				}
			}
			if c > 0 {
				if d := p[c-1] - p[c]; d > 0 {
					gc -= 2 * float64(d)
				}
			}
			grad[i*q+c] = float32(spin*dpin + scross*gc)
		}
	}
	return pin, cross, grad
}

func closeRel(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

// TestPinball checks Pinball, PinballGrad and PinballCrossing against the
// float64 references at awkward sizes: the losses to 1e-12 relative (the
// float64 sums differ in order only), the gradients bit for bit
// (ref.PinballGrad's bits for PinballGrad; the reference sequence above for
// the fused gradient), outputs NaN-poisoned first, and the losses of two
// runs identical.
func TestPinball(t *testing.T) {
	r := testRuntime(t)
	for _, n := range []int{1, 7, 1000} {
		for _, q := range []int{1, 7, 999} {
			t.Run(fmt.Sprintf("n=%d/q=%d", n, q), func(t *testing.T) {
				pred, target, taus := pinballInputs(n, q, uint64(n*1000+q))
				pd, yd, ud := upload(t, r, pred), upload(t, r, target), upload(t, r, taus)
				defer freeAll(t, r, pd, yd, ud)
				const weight, g = 0.05, 1.7
				spin, scross := g/float64(n*q), 0.0
				if q > 1 {
					scross = g * weight / float64(n*(q-1))
				}
				pinSum, crossSum, wantGrad := pinballWant(pred, target, taus, n, q, spin, scross)
				wantPin, wantCross := pinSum/float64(n*q), 0.0
				if q > 1 {
					wantCross = crossSum / float64(n*(q-1))
				}

				got, err := r.Pinball(pd, yd, ud, n, q)
				if err != nil {
					t.Fatal(err)
				}
				if !closeRel(got, wantPin, 1e-12) {
					t.Fatalf("Pinball = %.17g, want %.17g", got, wantPin)
				}
				again, err := r.Pinball(pd, yd, ud, n, q)
				if err != nil {
					t.Fatal(err)
				}
				if math.Float64bits(again) != math.Float64bits(got) {
					t.Fatalf("Pinball not deterministic: %.17g then %.17g", got, again)
				}

				dp := poisoned(t, r, n*q)
				defer freeAll(t, r, dp)
				if err := r.PinballGrad(dp, pd, yd, ud, n, q, g); err != nil {
					t.Fatal(err)
				}
				refGrad := make([]float32, n*q)
				ref.PinballGrad(refGrad, pred, target, taus, q, g/float64(n*q), 0, n*q)
				checkBits(t, "PinballGrad", download(t, r, dp, n*q), refGrad)

				dc := poisoned(t, r, n*q)
				defer freeAll(t, r, dc)
				pin, cross, err := r.PinballCrossing(dc, pd, yd, ud, n, q, weight, g)
				if err != nil {
					t.Fatal(err)
				}
				if !closeRel(pin, wantPin, 1e-12) || !closeRel(cross, wantCross, 1e-12) && !(wantCross == 0 && cross == 0) {
					t.Fatalf("PinballCrossing = (%.17g, %.17g), want (%.17g, %.17g)", pin, cross, wantPin, wantCross)
				}
				checkBits(t, "PinballCrossing grad", download(t, r, dc, n*q), wantGrad)
				pin2, cross2, err := r.PinballCrossing(0, pd, yd, ud, n, q, weight, g)
				if err != nil {
					t.Fatal(err)
				}
				if pin2 != pin || cross2 != cross {
					t.Fatalf("loss-only PinballCrossing = (%.17g, %.17g), with gradient (%.17g, %.17g)", pin2, cross2, pin, cross)
				}
			})
		}
	}
}

// TestPinballNaN: a NaN prediction makes both losses NaN (relu(NaN)^2 is
// NaN on the CPU) and its own gradient NaN, as the CPU.
func TestPinballNaN(t *testing.T) {
	r := testRuntime(t)
	const n, q = 3, 7
	pred, target, taus := pinballInputs(n, q, 5)
	pred[q+3] = float32(math.NaN())
	pd, yd, ud, dc := upload(t, r, pred), upload(t, r, target), upload(t, r, taus), poisoned(t, r, n*q)
	defer freeAll(t, r, pd, yd, ud, dc)
	pin, cross, err := r.PinballCrossing(dc, pd, yd, ud, n, q, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(pin) || !math.IsNaN(cross) {
		t.Fatalf("losses with a NaN prediction = %g, %g; want NaN", pin, cross)
	}
	g := download(t, r, dc, n*q)
	if !math.IsNaN(float64(g[q+3])) || math.IsNaN(float64(g[0])) {
		t.Fatalf("gradient: element of the NaN %g (want NaN), other row %g (want finite)", g[q+3], g[0])
	}
}

// TestPinballErrors: bad shapes are errors, not launches.
func TestPinballErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 4)
	defer freeAll(t, r, p)
	if _, err := r.Pinball(p, p, p, 0, 4); err == nil {
		t.Fatal("Pinball with n = 0: no error")
	}
	if _, _, err := r.PinballCrossing(0, p, p, p, 1, 0, 0.05, 1); err == nil {
		t.Fatal("PinballCrossing with q = 0: no error")
	}
	if err := r.PinballGrad(0, p, p, p, 1, 4, 1); err == nil {
		t.Fatal("PinballGrad with a null dpred: no error")
	}
}

// BenchmarkPinball: the training shape [4096, 999] (pred read once; the
// gradient written once), loss alone and fused loss + crossing + gradient,
// against a device copy of the same traffic. The kernels and the
// fixed-order reduction are timed without the download of the sums.
func BenchmarkPinball(b *testing.B) {
	r := testRuntime(b)
	const n, q = 4096, 999
	pred, target, taus := pinballInputs(n, q, 11)
	pd, yd, ud, dp := upload(b, r, pred), upload(b, r, target), upload(b, r, taus), poisoned(b, r, n*q)
	part, err := r.Alloc(pinballScratch(n))
	if err != nil {
		b.Fatal(err)
	}
	defer freeAll(b, r, pd, yd, ud, dp, part)
	b.Run("loss", func(b *testing.B) {
		benchVsCopy(b, r, 4*n*q, func() error {
			return r.pinballQueue(part, "nori_pinball_loss", n, pd, yd, ud, n, q)
		})
	})
	b.Run("crossing+grad", func(b *testing.B) {
		benchVsCopy(b, r, 8*n*q, func() error {
			return r.pinballQueue(part, "nori_pinball_crossing", n, dp, pd, yd, ud, n, q, 1.0/(n*q), 0.05/(n*(q-1)))
		})
	})
	b.Run("grad", func(b *testing.B) {
		benchVsCopy(b, r, 8*n*q, func() error { return r.PinballGrad(dp, pd, yd, ud, n, q, 1) })
	})
}
