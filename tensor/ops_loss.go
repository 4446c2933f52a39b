package tensor

import "fmt"

func pinballArgs(op string, pred, target, taus *Tensor) (*Tensor, *Tensor, *Tensor) {
	checkCompute(op, pred, target, taus)
	if len(pred.shape) != 2 || !target.shape.Equal(Shape{pred.shape[0]}) || !taus.shape.Equal(Shape{pred.shape[1]}) {
		panic(fmt.Sprintf("tensor.%s: pred %v, target %v, taus %v: want [N,Q], [N], [Q]", op, pred.shape, target.shape, taus.shape))
	}
	return pred.Contiguous(), target.Contiguous(), taus.Contiguous()
}

// Pinball returns the pinball (quantile) loss averaged over the N rows and Q
// quantile levels as a 0-d tensor:
//
//	mean_{n,i} max(tau_i*(y_n - q_ni), (tau_i - 1)*(y_n - q_ni))
//
// for pred [N, Q], target [N] and taus [Q].
func Pinball(pred, target, taus *Tensor) *Tensor {
	pred, target, taus = pinballArgs("Pinball", pred, target, taus)
	out := like(pred)
	out.Backend().Fill(out, pred.Backend().Pinball(pred, target, taus))
	return out
}

// PinballGrad returns g times the gradient of Pinball with respect to pred.
// Per element the derivative of rho_tau(y - q) with respect to q is -tau for
// y > q and 1 - tau for y < q; at y == q the average of both sides, 0.5 - tau,
// is used (that is tau - 0.5 with respect to y - q), scaled by 1/(N*Q).
func PinballGrad(pred, target, taus *Tensor, g float64) *Tensor {
	pred, target, taus = pinballArgs("PinballGrad", pred, target, taus)
	d := like(pred, pred.shape...)
	pred.Backend().PinballGrad(d, pred, target, taus, g)
	return d
}
