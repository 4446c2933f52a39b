package par

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkCover runs Parallel(n, grain) and fails unless every index in [0, n)
// was visited exactly once, in ranges of at least grain items (but the
// last).
func checkCover(t *testing.T, n, grain int) {
	t.Helper()
	hits := make([]atomic.Int32, max(n, 0))
	var bad atomic.Int32
	Parallel(n, grain, func(lo, hi int) {
		if lo < 0 || hi > n || lo >= hi || (hi-lo < grain && hi != n) {
			bad.Add(1)
			return
		}
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("Parallel(%d, %d): %d bad ranges", n, grain, bad.Load())
	}
	for i := range hits {
		if h := hits[i].Load(); h != 1 {
			t.Fatalf("Parallel(%d, %d): index %d visited %d times", n, grain, i, h)
		}
	}
}

// TestParallelCover covers sizes, grains and worker counts, with the pool
// goroutines both spinning (calls back to back) and parked (pauses longer
// than spinWait between calls), so that both hand-off paths and the
// take-back of unrun hand-offs are exercised.
func TestParallelCover(t *testing.T) {
	old := SetWorkers(2)
	defer SetWorkers(old)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range []int{1, 2, 3, 5} {
		SetWorkers(w)
		for it := 0; it < 300; it++ {
			n := rng.IntN(200) - 2
			checkCover(t, n, 1+rng.IntN(8))
			if it%50 == 0 {
				time.Sleep(2 * spinWait)
			}
		}
	}
}

// TestParallelNestedAndConcurrent runs Parallel inside Parallel tasks and
// from several goroutines at once: every call must still cover its range
// exactly once and return (no lost hand-off).
func TestParallelNestedAndConcurrent(t *testing.T) {
	old := SetWorkers(3)
	defer SetWorkers(old)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 100; it++ {
				var total atomic.Int64
				Parallel(8, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						Parallel(50, 3, func(l2, h2 int) { total.Add(int64(h2 - l2)) })
					}
				})
				if total.Load() != 8*50 {
					t.Errorf("nested Parallel covered %d items, want 400", total.Load())
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestReduceDeterministic: ReduceFloat64 gives the same bits for 1, 2 and 3
// workers.
func TestReduceDeterministic(t *testing.T) {
	old := SetWorkers(1)
	defer SetWorkers(old)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 50000)
	for i := range x {
		x[i] = rng.NormFloat64() * float64(1+i%7)
	}
	sum := func() float64 {
		return ReduceFloat64(len(x), func(lo, hi int) float64 {
			s := 0.0
			for _, v := range x[lo:hi] {
				s += v
			}
			return s
		})
	}
	want := sum()
	for _, w := range []int{2, 3} {
		SetWorkers(w)
		if got := sum(); got != want {
			t.Fatalf("%d workers: %v, want %v (1 worker)", w, got, want)
		}
	}
}
