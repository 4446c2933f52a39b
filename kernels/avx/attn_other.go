//go:build !amd64 || noasm

package avx

// attnKernelsFor returns the pure-Go kernels: this build has no assembly.
func attnKernelsFor(Level) *attnKernels { return &attnGeneric }
