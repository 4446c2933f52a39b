//go:build cuda

package cuda

import "testing"

// RNGTestRuntime hands the shared test runtime to rng_test.go, which is in
// package cuda_test because it imports tensor (whose CUDA device imports this
// package: an in-package test importing tensor would be an import cycle).
func RNGTestRuntime(t testing.TB) *Runtime { return testRuntime(t) }
