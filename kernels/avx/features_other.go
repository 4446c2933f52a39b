//go:build !amd64 || noasm

package avx

// Without amd64 assembly (other architectures, or the noasm build tag) every
// kernel runs its pure-Go fallback.
func detectCPU() (Level, bool) { return Generic, false }
