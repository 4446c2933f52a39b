//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/kernels/cuda"
	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

// TestPinballCrossingVsQuantileLoss compares PinballCrossing with the CPU's
// training loss itself, nori.QuantileLoss (float32 tensors, autograd): the
// pinball and crossing terms and the gradient of pinball + 0.05*crossing.
// Tolerances: the CPU rounds its loss terms to float32 (1e-6 relative) and
// builds the crossing gradient from a chain of float32 ops (each element
// within 1e-6 of the sum of its terms' magnitudes).
func TestPinballCrossingVsQuantileLoss(t *testing.T) {
	r := cuda.TrainTestRuntime(t)
	const weight = 0.05
	for _, sh := range [][2]int{{1, 1}, {7, 7}, {1000, 999}, {3, 999}} {
		n, q := sh[0], sh[1]
		t.Run(fmt.Sprintf("n=%d/q=%d", n, q), func(t *testing.T) {
			pred := cuda.TrainRandn(uint64(31*n+q), n*q)
			target := cuda.TrainRandn(uint64(37*n+q), n)
			taus := make([]float32, q)
			for i := range taus {
				taus[i] = float32(float64(i+1) / float64(q+1))
				for j := 0; j < n; j++ {
					pred[j*q+i] = 0.5*pred[j*q+i] + 3*(taus[i]-0.5)
				}
			}

			tp := autograd.NewTape()
			pv := autograd.Param(tensor.FromSlice(append([]float32(nil), pred...), 1, n, q))
			parts := nori.QuantileLoss(tp, pv, tensor.FromSlice(target, 1, n), tensor.FromSlice(taus, q), weight)
			tp.Backward(parts.Total)
			wantPin, wantCross := parts.Pinball.Value.Item(), parts.Crossing.Value.Item()
			wantGrad := pv.Grad.Float32s()
			tp.Release()

			pd, yd, ud := cuda.TrainUpload(t, r, pred), cuda.TrainUpload(t, r, target), cuda.TrainUpload(t, r, taus)
			dp := cuda.TrainPoisoned(t, r, n*q)
			defer cuda.TrainFree(t, r, pd, yd, ud, dp)
			pin, cross, err := r.PinballCrossing(dp, pd, yd, ud, n, q, weight, 1)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(pin-wantPin) > 1e-6*math.Abs(wantPin) {
				t.Errorf("pinball = %.9g, QuantileLoss %.9g", pin, wantPin)
			}
			if math.Abs(cross-wantCross) > 1e-6*math.Abs(wantCross)+1e-30 {
				t.Errorf("crossing = %.9g, QuantileLoss %.9g", cross, wantCross)
			}
			got := cuda.TrainDownload(t, r, dp, n*q)
			spin := 1 / float64(n*q)
			scross := 0.0
			if q > 1 {
				scross = weight / float64(n*(q-1))
			}
			for j := 0; j < n; j++ {
				for i := 0; i < q; i++ {
					k := j*q + i
					mag := spin
					if i+1 < q {
						mag += scross * 2 * math.Max(float64(pred[k]-pred[k+1]), 0)
					}
					if i > 0 {
						mag += scross * 2 * math.Max(float64(pred[k-1]-pred[k]), 0)
					}
					if d := math.Abs(float64(got[k]) - float64(wantGrad[k])); !(d <= 1e-6*mag) {
						t.Fatalf("dpred[%d,%d] = %g, QuantileLoss %g (diff %g, allowed %g)", j, i, got[k], wantGrad[k], d, 1e-6*mag)
					}
				}
			}
		})
	}
}
