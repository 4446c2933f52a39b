package tensor

// Placeholder: being implemented.
func (cpuBackend) MatMul(dst, a, b *Tensor, transA, transB bool, alpha, beta float64) {
	panic("tensor: CPU kernel not implemented yet")
}
