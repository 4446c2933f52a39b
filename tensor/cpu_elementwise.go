package tensor

// Placeholder: being implemented.
func (cpuBackend) Binary(op BinaryOp, dst, a, b *Tensor) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) Unary(op UnaryOp, dst, a *Tensor, p float64) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) UnaryGrad(op UnaryOp, dx, x, y, dy *Tensor, p float64) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) Where(dst, cond, a, b *Tensor) { panic("tensor: CPU kernel not implemented yet") }
