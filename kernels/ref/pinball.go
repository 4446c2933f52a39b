package ref

// PinballSum returns the sum over flat indices i in [lo, hi) of pred [N, Q]
// (contiguous, row n = i/q, quantile t = i%q) of the pinball loss
//
//	rho_tau(u) = max(tau*u, (tau-1)*u),  u = target[n] - pred[i], tau = taus[t]
//
// added in index order in float64. Callers split [0, N*Q) into fixed chunks
// and add the chunk sums in order for a deterministic total.
func PinballSum[T Float](pred, target, taus []T, q, lo, hi int) float64 {
	s := 0.0
	for i := lo; i < hi; i++ {
		tau := float64(taus[i%q])
		u := float64(target[i/q]) - float64(pred[i])
		s += max(tau*u, (tau-1)*u)
	}
	return s
}

// PinballGrad writes, for flat indices i in [lo, hi) of pred [N, Q],
// dpred[i] = scale * d rho_tau(y - pred[i]) / d pred[i], which is -tau where
// y > pred, 1-tau where y < pred, the midpoint 0.5-tau of that
// subdifferential where y == pred, and NaN where either is NaN. For the
// gradient of the mean loss times g the caller passes scale = g/(N*Q).
// Computed in float64, rounded once.
func PinballGrad[T Float](dpred, pred, target, taus []T, q int, scale float64, lo, hi int) {
	for i := lo; i < hi; i++ {
		tau := float64(taus[i%q])
		y, p := float64(target[i/q]), float64(pred[i])
		var d float64
		switch {
		case y > p:
			d = -tau
		case y < p:
			d = 1 - tau
		case y == p:
			d = 0.5 - tau
		default: // NaN in y or pred propagates
			d = y - p
		}
		dpred[i] = T(scale * d)
	}
}
