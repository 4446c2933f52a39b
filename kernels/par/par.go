// Package par is nori's worker pool: it splits CPU kernels over the cores.
// It sits below every kernel package (kernels/ref, kernels/avx) and the
// tensor package, which re-exports it.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Determinism: a kernel split with Parallel computes every output element in
// exactly one task with the same arithmetic whatever the split, and
// ReduceFloat64 sums fixed-size chunks (independent of the worker count) and
// then adds the chunk results in index order. Results are therefore
// bit-identical for any number of workers.

var (
	workers    atomic.Int32
	poolMu     sync.Mutex
	poolTasks  chan func()
	poolActive int
)

func init() { SetWorkers(runtime.GOMAXPROCS(0)) }

// SetWorkers sets how many goroutines CPU kernels use (at least 1) and returns
// the previous value.
func SetWorkers(n int) int {
	if n < 1 {
		n = 1
	}
	old := int(workers.Swap(int32(n)))
	poolMu.Lock()
	defer poolMu.Unlock()
	if poolTasks == nil {
		poolTasks = make(chan func())
	}
	for poolActive < n-1 { // the calling goroutine is the n-th worker
		poolActive++
		go func() {
			for f := range poolTasks {
				f()
			}
		}()
	}
	return old
}

// Workers returns the number of goroutines CPU kernels use.
func Workers() int { return int(workers.Load()) }

// Parallel calls fn(lo, hi) over disjoint ranges covering [0, n), each of at
// least grain items (except the last), on up to Workers() goroutines, and
// returns when all calls have returned. Work is taken in order from an atomic
// counter, so uneven ranges balance themselves.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	w := Workers()
	chunks := (n + grain - 1) / grain
	if w == 1 || chunks == 1 {
		fn(0, n)
		return
	}
	// Several chunks per worker for balance, but never below grain.
	size := max(grain, (n+4*w-1)/(4*w))
	chunks = (n + size - 1) / size
	var next atomic.Int64
	var wg sync.WaitGroup
	run := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			lo := c * size
			fn(lo, min(lo+size, n))
		}
	}
	helpers := min(w, chunks) - 1
	wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		task := func() { defer wg.Done(); run() }
		select {
		case poolTasks <- task:
		default: // every pool goroutine is busy (nested Parallel): run inline later
			wg.Done()
		}
	}
	run()
	wg.Wait()
}

// reduceChunk is the fixed chunk size of ReduceFloat64; part of the numeric
// contract (changing it changes the low bits of results).
const reduceChunk = 4096

// ReduceFloat64 returns the sum over [0, n) of fn(lo, hi) over fixed chunks
// of reduceChunk items, added in chunk order: deterministic for any worker
// count.
func ReduceFloat64(n int, fn func(lo, hi int) float64) float64 {
	if n <= 0 {
		return 0
	}
	chunks := (n + reduceChunk - 1) / reduceChunk
	parts := make([]float64, chunks)
	Parallel(chunks, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			lo := c * reduceChunk
			parts[c] = fn(lo, min(lo+reduceChunk, n))
		}
	})
	s := 0.0
	for _, p := range parts {
		s += p
	}
	return s
}
