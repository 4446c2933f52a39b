package ref

import "math"

// Axpby computes y[i] = a*y[i] + b*x[i] for i < len(y), in float64 (the two
// products, then their sum) and rounded to T once.
func Axpby[T Float](y, x []T, a, b float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] = T(a*float64(y[i]) + b*float64(x[i]))
	}
}

// AdamW applies one AdamW step (Loshchilov & Hutter, decoupled weight decay)
// to every element i < len(p), in float64, in this order:
//
//	g  = grad[i]
//	m' = beta1*m + (1-beta1)*g,  stored to m[i] (rounded to T)
//	v' = beta2*v + (1-beta2)*g*g, stored to v[i] (rounded to T)
//	p' = p - (lr*(m'/bc1)/(sqrt(v'/bc2)+eps) + lr*wd*p), stored to p[i]
//
// where m' and v' in the last line are the stored (rounded) values and p is
// the parameter before the step. bc1 = 1-beta1^t and bc2 = 1-beta2^t are the
// bias corrections of step t. Elements are independent, so any split of
// [0, len(p)) gives the same bits.
func AdamW[T Float](p, grad, m, v []T, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	n := len(p)
	grad, m, v = grad[:n], m[:n], v[:n]
	for i := range p {
		g := float64(grad[i])
		mi := T(beta1*float64(m[i]) + (1-beta1)*g)
		vi := T(beta2*float64(v[i]) + (1-beta2)*g*g)
		m[i], v[i] = mi, vi
		pi := float64(p[i])
		p[i] = T(pi - (lr*(float64(mi)/bc1)/(math.Sqrt(float64(vi)/bc2)+eps) + lr*wd*pi))
	}
}
