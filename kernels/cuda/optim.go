//go:build cuda

package cuda

import "fmt"

// Optimizer updates on float32 buffers (src/optim.cu). The arithmetic is
// kernels/ref's, in float64 in the same order with no fused multiply-adds,
// so AdamW and Axpby give the bits of ref.AdamW and ref.Axpby.

// aligned16 reports whether every pointer is 16-byte aligned (the float4
// kernels need it).
func aligned16(ps ...Ptr) bool {
	for _, p := range ps {
		if p%16 != 0 {
			return false
		}
	}
	return true
}

// AdamW applies one AdamW step to n float32 parameters with their gradient
// and float32 moment buffers m and v, in place, exactly as kernels/ref.AdamW
// (bit-identical): m' = beta1*m + (1-beta1)*g and v' = beta2*v + (1-beta2)*g*g
// are stored rounded, then p -= lr*(m'/bc1)/(sqrt(v'/bc2)+eps) + lr*wd*p, all
// in float64. bc1 = 1-beta1^t and bc2 = 1-beta2^t are the bias corrections of
// step t (nn.AdamW computes them). The four buffers must not overlap.
func (r *Runtime) AdamW(param, grad, m, v Ptr, n int, lr, beta1, beta2, eps, wd, bc1, bc2 float64) error {
	if n < 0 {
		return fmt.Errorf("cuda: AdamW of %d elements", n)
	}
	if n == 0 {
		return nil
	}
	if param == 0 || grad == 0 || m == 0 || v == 0 {
		return fmt.Errorf("cuda: AdamW: null pointer")
	}
	if !(bc1 > 0) || !(bc2 > 0) {
		return fmt.Errorf("cuda: AdamW: bias corrections %g, %g; want > 0 (step >= 1)", bc1, bc2)
	}
	kernel, work := "nori_optim_adamw", n
	if aligned16(param, grad, m, v) {
		kernel, work = "nori_optim_adamw_vec4", max(n/4, n%4)
	}
	return r.Launch("optim", kernel, r.elementwiseGrid(work, 256), D1(256), 0,
		param, grad, m, v, n, lr, beta1, beta2, eps, wd, bc1, bc2)
}

// Axpby computes y = a*y + b*x for n float32 elements in place, in float64
// (the two products, then their sum) rounded once: the bits of
// kernels/ref.Axpby. x may be y.
func (r *Runtime) Axpby(y, x Ptr, n int, a, b float64) error {
	if n < 0 {
		return fmt.Errorf("cuda: Axpby of %d elements", n)
	}
	if n == 0 {
		return nil
	}
	if y == 0 || x == 0 {
		return fmt.Errorf("cuda: Axpby: null pointer")
	}
	kernel, work := "nori_optim_axpby", n
	if aligned16(y, x) {
		kernel, work = "nori_optim_axpby_vec4", max(n/4, n%4)
	}
	return r.Launch("optim", kernel, r.elementwiseGrid(work, 256), D1(256), 0, y, x, n, a, b)
}
