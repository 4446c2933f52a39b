//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"unsafe"
)

// The training loss of nori (nori.QuantileLoss) on the GPU: pred [n, q]
// float32 row-major, target [n], taus [q]. Sums run in float64 and are
// reduced deterministically in two stages (per-block partials, then one
// block adding them in a fixed order); the grid depends on n only, so the
// loss has the same bits on every GPU and every run. See src/pinball.cu.

// pinballRows is the rows per block of pinball.cu (one warp per row).
const pinballRows = 8

func checkPinball(op string, n, q int, ptrs ...Ptr) error {
	if n < 1 || q < 1 {
		return fmt.Errorf("cuda: %s: pred is [%d, %d]; want n, q >= 1", op, n, q)
	}
	if q > math.MaxInt32 || int64(n)*int64(q) > math.MaxInt64/4 {
		return fmt.Errorf("cuda: %s: pred [%d, %d] is too large", op, n, q)
	}
	for i, p := range ptrs {
		if p == 0 {
			return fmt.Errorf("cuda: %s: null pointer (argument %d)", op, i)
		}
	}
	return nil
}

// pinballScratch returns the bytes of scratch a pinball reduction over n
// rows needs: 16 per block of partials, then the two float64 sums.
func pinballScratch(n int) int64 { return int64(16*CeilDiv(n, pinballRows)) + 16 }

// pinballQueue queues kernel (one of the partial-writing entries of
// pinball.cu, taking args after the partials) and the fixed-order reduction;
// the pinball and crossing sums land at part + pinballScratch(n) - 16.
func (r *Runtime) pinballQueue(part Ptr, kernel string, n int, args ...any) error {
	nb := CeilDiv(n, pinballRows)
	if err := r.Launch("pinball", kernel, D1(nb), D1(32*pinballRows), 0, append([]any{part}, args...)...); err != nil {
		return err
	}
	return r.Launch("pinball", "nori_pinball_reduce", D1(1), D1(1024), 0, part.Add(int64(16*nb)), part, nb)
}

// pinballSums runs pinballQueue on fresh scratch and downloads the sums.
func (r *Runtime) pinballSums(kernel string, n int, args ...any) (pin, cross float64, err error) {
	part, err := r.Alloc(pinballScratch(n))
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if ferr := r.Free(part); err == nil {
			err = ferr
		}
	}()
	if err := r.pinballQueue(part, kernel, n, args...); err != nil {
		return 0, 0, err
	}
	var sums [2]float64
	if err := r.Download(unsafe.Pointer(&sums[0]), part.Add(pinballScratch(n)-16), 16); err != nil {
		return 0, 0, err
	}
	return sums[0], sums[1], nil
}

// Pinball returns the pinball loss averaged over the n rows and q levels,
//
//	mean_{i,t} max(tau_t*(y_i - p_it), (tau_t - 1)*(y_i - p_it)),
//
// as tensor.Pinball: each term in float64 as kernels/ref.PinballSum, the sum
// in a fixed order (it may differ from the CPU's chunked sum in the last
// float64 bits), divided by n*q. It waits for the result.
func (r *Runtime) Pinball(pred, target, taus Ptr, n, q int) (float64, error) {
	if err := checkPinball("Pinball", n, q, pred, target, taus); err != nil {
		return 0, err
	}
	s, _, err := r.pinballSums("nori_pinball_loss", n, pred, target, taus, n, q)
	if err != nil {
		return 0, err
	}
	return s / float64(n*q), nil
}

// PinballGrad writes dpred = g * d(Pinball)/d pred, that is
// g/(n*q) * (-tau, 1-tau, or 0.5-tau at a tie), computed in float64 and
// rounded once: the bits of kernels/ref.PinballGrad with scale g/(n*q).
func (r *Runtime) PinballGrad(dpred, pred, target, taus Ptr, n, q int, g float64) error {
	if err := checkPinball("PinballGrad", n, q, dpred, pred, target, taus); err != nil {
		return err
	}
	scale := g / float64(n*q)
	return r.Launch("pinball", "nori_pinball_grad", D1(CeilDiv(n, pinballRows)), D1(32*pinballRows), 0,
		dpred, pred, target, taus, n, q, scale)
}

// PinballCrossing is nori.QuantileLoss in one pass over pred [n, q]: it
// returns
//
//	pinball  = Pinball(pred, target, taus)
//	crossing = mean over the n*(q-1) adjacent pairs of relu(p_t - p_{t+1})^2
//
// (the loss to minimise is pinball + weight*crossing; crossing is 0 when
// q == 1), and, when dpred is not 0, writes in the same pass the gradient
// of g*(pinball + weight*crossing):
//
//	dpred_t = g/(n*q) * dpin_t + g*weight/(n*(q-1)) * (2 relu(p_t - p_{t+1}) - 2 relu(p_{t-1} - p_t))
//
// in float64, rounded once. The pair differences are rounded to float32
// first, as the CPU's float32 Sub computes them. Against the CPU's float32
// autograd chain the gradient agrees to a few float32 roundings of each
// term; the sums as in Pinball. It waits for the result.
func (r *Runtime) PinballCrossing(dpred, pred, target, taus Ptr, n, q int, weight, g float64) (pinball, crossing float64, err error) {
	if err := checkPinball("PinballCrossing", n, q, pred, target, taus); err != nil {
		return 0, 0, err
	}
	var pin, cross float64
	if dpred == 0 {
		pin, cross, err = r.pinballSums("nori_pinball_crossing_loss", n, pred, target, taus, n, q)
	} else {
		scross := 0.0
		if q > 1 {
			scross = g * weight / float64(n*(q-1))
		}
		pin, cross, err = r.pinballSums("nori_pinball_crossing", n, dpred, pred, target, taus, n, q, g/float64(n*q), scross)
	}
	if err != nil {
		return 0, 0, err
	}
	pinball = pin / float64(n*q)
	if q > 1 {
		crossing = cross / float64(n*(q-1))
	}
	return pinball, crossing, nil
}
