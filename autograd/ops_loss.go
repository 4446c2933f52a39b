package autograd

import "github.com/nori-ml/nori/tensor"

// Pinball returns the pinball (quantile) loss averaged over the N rows and Q
// quantile levels, a 0-d Var:
//
//	mean_{n,i} max(tau_i*(y_n - q_ni), (tau_i - 1)*(y_n - q_ni))
//
// for pred q [N, Q], target y [N] and taus [Q]. Gradients flow to pred and,
// when it requires one, to target (d/dy_n = -sum_i d/dq_ni, since the loss
// depends on y_n - q_ni only). taus are treated as constants: they get no
// gradient even if they require one, and do not make the loss require one.
// At y == q the subgradient of tensor.PinballGrad (tau - 0.5) is used.
func (tp *Tape) Pinball(pred, target, taus *Var) *Var {
	out := tensor.Pinball(pred.Value, target.Value, taus.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		dp := tensor.PinballGrad(pred.Value, target.Value, taus.Value, g.Item())
		if needs(target) {
			s := tensor.Sum(dp, false, 1)
			tp.give(target, tensor.Neg(s))
			s.Release()
		}
		tp.give(pred, dp)
	}, pred, target)
}
