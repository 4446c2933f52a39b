package tensor

// Placeholder: being implemented.
func (cpuBackend) Pinball(pred, target, taus *Tensor) float64 {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) PinballGrad(dpred, pred, target, taus *Tensor, g float64) {
	panic("tensor: CPU kernel not implemented yet")
}
