package tensor

import "github.com/nori-ml/nori/kernels/par"

// The worker pool lives in kernels/par so that kernel packages can use it;
// these wrappers are the engine's API for it. Determinism: a kernel split
// with Parallel computes every output element in exactly one task with the
// same arithmetic whatever the split, and ReduceFloat64 sums fixed-size
// chunks (independent of the worker count) added in index order, so results
// are bit-identical for any number of workers.

// SetWorkers sets how many goroutines CPU kernels use (at least 1) and returns
// the previous value.
func SetWorkers(n int) int { return par.SetWorkers(n) }

// Workers returns the number of goroutines CPU kernels use.
func Workers() int { return par.Workers() }

// Parallel calls fn(lo, hi) over disjoint ranges covering [0, n), each of at
// least grain items (except the last), on up to Workers() goroutines.
func Parallel(n, grain int, fn func(lo, hi int)) { par.Parallel(n, grain, fn) }

// ReduceFloat64 returns the sum of fn over fixed chunks of [0, n), added in
// chunk order: deterministic for any worker count.
func ReduceFloat64(n int, fn func(lo, hi int) float64) float64 { return par.ReduceFloat64(n, fn) }
