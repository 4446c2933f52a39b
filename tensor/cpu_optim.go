package tensor

// Placeholder: being implemented.
func (cpuBackend) Axpby(y, x *Tensor, a, b float64) { panic("tensor: CPU kernel not implemented yet") }
func (cpuBackend) AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	panic("tensor: CPU kernel not implemented yet")
}
