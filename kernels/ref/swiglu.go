package ref

import "math"

// SwiGLU computes dst[i] = silu(gate[i]) * up[i] = gate*sigmoid(gate)*up for
// i in [lo, hi), in float64 and rounded once. sigmoid(x) = 1/(1+exp(-x)),
// which saturates to 0 or 1 without overflow trouble (exp(-x) = +Inf gives 0).
func SwiGLU[T Float](dst, gate, up []T, lo, hi int) {
	for i := lo; i < hi; i++ {
		g := float64(gate[i])
		s := 1 / (1 + math.Exp(-g))
		dst[i] = T(g * s * float64(up[i]))
	}
}

// SwiGLUGrad computes, for i in [lo, hi), the gradients of SwiGLU given dy,
// recomputing the sigmoid s = sigmoid(gate) instead of saving it:
//
//	dgate = dy * up * s * (1 + gate*(1-s))   (d silu/d gate)
//	dup   = dy * gate * s                    (silu(gate))
//
// in float64, each rounded once.
func SwiGLUGrad[T Float](dgate, dup, dy, gate, up []T, lo, hi int) {
	for i := lo; i < hi; i++ {
		g, d := float64(gate[i]), float64(dy[i])
		s := 1 / (1 + math.Exp(-g))
		dgate[i] = T(d * float64(up[i]) * s * (1 + g*(1-s)))
		dup[i] = T(d * g * s)
	}
}
