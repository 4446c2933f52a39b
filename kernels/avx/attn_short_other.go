//go:build !amd64 || noasm

package avx

// attnShortKernelsFor returns the pure-Go kernels: this build has no assembly.
func attnShortKernelsFor(Level) *attnShortKernels { return &attnShortGeneric }
