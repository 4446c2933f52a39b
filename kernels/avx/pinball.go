package avx

// Pinball (quantile) loss and gradient for float32 pred [N, Q], target [N],
// taus [Q]: ref.PinballSum / ref.PinballGrad's float64 arithmetic, one row
// segment (one target) at a time. The gradient gives ref's bits; the sum
// adds each segment's terms in vecLanes order (lane = position in the
// segment mod 16, then the lane tree) and the segments in order, so it
// matches ref to float64 rounding (|diff| < 1e-13 relative; every term is
// >= 0). One exception: with an infinite residual and tau exactly 0 or 1,
// one term is tau*u = 0*Inf = NaN, which ref's max propagates and VMAXPD may
// not.

func pinballSumGo(acc *vecLanes, pred, taus []float32, y float64) {
	for j, p := range pred {
		tau := float64(taus[j])
		u := y - float64(p)
		acc[j&15] += max(tau*u, (tau-1)*u)
	}
}

func pinballGradGo(dpred, pred, taus []float32, y, scale float64) {
	for j, p := range pred {
		tau := float64(taus[j])
		pj := float64(p)
		var d float64
		switch {
		case y > pj:
			d = -tau
		case y < pj:
			d = 1 - tau
		case y == pj:
			d = 0.5 - tau
		default:
			d = y - pj
		}
		dpred[j] = float32(scale * d)
	}
}

// pinballSegments calls f for every row segment of the flat range [lo, hi)
// of [N, Q]: the row, and the segment's first flat index and column.
func pinballSegments(q, lo, hi int, f func(row, i0, c0, c1 int)) {
	for i := lo; i < hi; {
		row, c0 := i/q, i%q
		c1 := min(q, c0+hi-i)
		f(row, i, c0, c1)
		i += c1 - c0
	}
}

// PinballSum returns the sum over flat indices [lo, hi) of pred [N, Q] of
// max(tau*u, (tau-1)*u), u = target[i/Q] - pred[i], tau = taus[i%Q] (see
// the comment above for the order of the float64 sum).
func PinballSum(pred, target, taus []float32, q, lo, hi int) float64 {
	k := vk()
	acc := new(vecLanes)
	s := 0.0
	pinballSegments(q, lo, hi, func(row, i0, c0, c1 int) {
		*acc = vecLanes{}
		n := c1 - c0
		b := vecBulk(n)
		y := float64(target[row])
		k.pinballSum(acc, pred[i0:i0+b], taus[c0:c0+b], y)
		for j := b; j < n; j++ {
			tau := float64(taus[c0+j])
			u := y - float64(pred[i0+j])
			acc[j&15] += max(tau*u, (tau-1)*u)
		}
		s += acc.tree()
	})
	return s
}

// PinballGrad writes dpred[i] = scale * d rho/d pred[i] for flat indices
// [lo, hi), exactly as ref.PinballGrad.
func PinballGrad(dpred, pred, target, taus []float32, q int, scale float64, lo, hi int) {
	k := vk()
	pinballSegments(q, lo, hi, func(row, i0, c0, c1 int) {
		n := c1 - c0
		b := vecBulk(n)
		y := float64(target[row])
		k.pinballGrad(dpred[i0:i0+b], pred[i0:i0+b], taus[c0:c0+b], y, scale)
		pinballGradGo(dpred[i0+b:i0+n], pred[i0+b:i0+n], taus[c0+b:c1], y, scale)
	})
}
