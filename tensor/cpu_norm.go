package tensor

// Placeholder: being implemented.
func (cpuBackend) Softmax(dst, x *Tensor, log bool) { panic("tensor: CPU kernel not implemented yet") }
func (cpuBackend) SoftmaxGrad(dx, y, dy *Tensor, log bool) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) LayerNorm(dst, mean, rstd, x, gamma, beta *Tensor, eps float64) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) LayerNormGrad(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) RMSNorm(dst, rstd, x, gamma *Tensor, eps float64) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) RMSNormGrad(dx, dgamma, dy, x, rstd, gamma *Tensor) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) SwiGLU(dst, gate, up *Tensor) { panic("tensor: CPU kernel not implemented yet") }
func (cpuBackend) SwiGLUGrad(dgate, dup, dy, gate, up *Tensor) {
	panic("tensor: CPU kernel not implemented yet")
}
