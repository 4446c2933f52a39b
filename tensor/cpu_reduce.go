package tensor

// Placeholder: being implemented.
func (cpuBackend) Reduce(op ReduceOp, dst, a *Tensor, axes []bool) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) SumSquares(a *Tensor) float64 { panic("tensor: CPU kernel not implemented yet") }
