//go:build !cuda

package tensor

// NewCUDA opens GPU ordinal as a Device. This build has no GPU support (the
// CUDA driver bindings exit the process at start-up on machines without a
// GPU, so they are only linked in with -tags cuda): it always returns
// ErrNoCUDA, so commands can offer `-device cuda` in every build and explain
// what is missing.
func NewCUDA(ordinal int) (Device, error) { return nil, ErrNoCUDA }
