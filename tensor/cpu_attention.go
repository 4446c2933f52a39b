package tensor

// Placeholder: being implemented.
func (cpuBackend) Attention(out, lse, q, k, v, qscale *Tensor, scale float64) {
	panic("tensor: CPU kernel not implemented yet")
}
func (cpuBackend) AttentionGrad(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	panic("tensor: CPU kernel not implemented yet")
}
