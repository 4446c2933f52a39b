package tensor

// Placeholder: being implemented.
func (cpuBackend) IndexSelect(dst, a *Tensor, axis int, idx []int) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	panic("tensor: CPU kernel not implemented yet")
}
