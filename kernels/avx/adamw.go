package avx

import "math"

// AdamW is ref.AdamW for float32 data, bit for bit: every element is
// computed in float64 with the same operations in the same order (no
// fusion), m and v rounded to float32 where ref rounds them; the assembly
// only does 8 (AVX-512) or 4 (AVX2) elements at once. Elements are
// independent, so any split gives the same bits.

// adamK holds the step's constants as the assembly reads them.
type adamK struct {
	b1, c1, b2, c2, bc1, bc2, lr, eps, lrwd float64
}

func adamWGo(p, grad, m, v []float32, k *adamK) {
	n := len(p)
	grad, m, v = grad[:n], m[:n], v[:n]
	for i := range p {
		g := float64(grad[i])
		mi := float32(float64(k.b1*float64(m[i])) + float64(k.c1*g))
		vi := float32(float64(k.b2*float64(v[i])) + float64(k.c2*g*g))
		m[i], v[i] = mi, vi
		pi := float64(p[i])
		step := k.lr * (float64(mi) / k.bc1) / (math.Sqrt(float64(vi)/k.bc2) + k.eps)
		p[i] = float32(pi - (step + float64(k.lrwd*pi)))
	}
}

// AdamW applies one AdamW step to p[i], m[i], v[i] for i < len(p), exactly
// as ref.AdamW (see there for the formula; bc1, bc2 are the bias
// corrections of the step).
func AdamW(p, grad, m, v []float32, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	n := len(p)
	grad, m, v = grad[:n], m[:n], v[:n]
	k := adamK{b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, bc1: bc1, bc2: bc2, lr: lr, eps: eps, lrwd: lr * wd}
	b := vecBulk(n)
	vk().adamw(p[:b], grad[:b], m[:b], v[:b], &k)
	adamWGo(p[b:], grad[b:], m[b:], v[b:], &k)
}
