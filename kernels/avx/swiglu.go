package avx

// SwiGLU in float32 on the logistic of exp.go (sigmoid(g) = su*2^sc, so
// tiny products are rounded once; accuracy in TestSwiGLUVsRef: within 3e-7
// relative of ref.SwiGLU's float64 result, gradients within 3e-7 of
// |result| + |dy*up|/2).

func swigluf(g, u float32) float32 {
	su, _, sc := logistic(g)
	return scale2(g*su*u, sc)
}

// swigluGradf returns dgate = dy*up*s*(1+g(1-s)) and dup = dy*g*s.
func swigluGradf(g, u, dy float32) (dg, du float32) {
	su, oms, sc := logistic(g)
	f := fma32(g, oms, 1)
	return scale2((dy*u)*(su*f), sc), scale2((dy*g)*su, sc)
}

func swigluGo(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	for i, g := range gate {
		dst[i] = swigluf(g, up[i])
	}
}

func swigluGradGo(dgate, dup, dy, gate, up []float32) {
	n := len(dgate)
	dup, dy, gate, up = dup[:n], dy[:n], gate[:n], up[:n]
	for i, g := range gate {
		dgate[i], dup[i] = swigluGradf(g, up[i], dy[i])
	}
}

// SwiGLU sets dst[i] = silu(gate[i])*up[i] for i < len(dst) (float32,
// accuracy above); dst may alias gate or up exactly.
func SwiGLU(dst, gate, up []float32) { vk().swiglu(dst, gate[:len(dst)], up[:len(dst)]) }

// SwiGLUGrad sets dgate[i] = dy*up*s*(1+gate*(1-s)) and dup[i] = dy*gate*s,
// s = sigmoid(gate[i]), for i < len(dgate), recomputing s. The outputs may
// alias the inputs exactly (each element is read before it is written).
func SwiGLUGrad(dgate, dup, dy, gate, up []float32) {
	n := len(dgate)
	vk().swigluGrad(dgate, dup[:n], dy[:n], gate[:n], up[:n])
}
