package tensor

import (
	"sync/atomic"
	"testing"
)

func TestParallelCoversEachIndexOnce(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	for _, w := range []int{1, 2, 5} {
		SetWorkers(w)
		for _, n := range []int{0, 1, 7, 63, 1000, 100003} {
			for _, g := range []int{1, 10, 5000} {
				hits := make([]int32, n)
				Parallel(n, g, func(lo, hi int) {
					if hi-lo < g && hi != n {
						t.Errorf("range [%d,%d) smaller than grain %d", lo, hi, g)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("workers %d n %d grain %d: index %d visited %d times", w, n, g, i, h)
					}
				}
			}
		}
	}
}

func TestNestedParallelDoesNotDeadlock(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	var total atomic.Int64
	Parallel(8, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			Parallel(1000, 10, func(a, b int) { total.Add(int64(b - a)) })
		}
	})
	if total.Load() != 8000 {
		t.Fatalf("nested total %d", total.Load())
	}
}

func TestReduceFloat64Deterministic(t *testing.T) {
	defer SetWorkers(SetWorkers(1))
	x := RandNormal(1, 0, 1, 123457).Float64s()
	sum := func() float64 {
		return ReduceFloat64(len(x), func(lo, hi int) float64 {
			s := 0.0
			for _, v := range x[lo:hi] {
				s += v
			}
			return s
		})
	}
	one := sum()
	SetWorkers(2)
	if two := sum(); two != one {
		t.Fatalf("1 worker %v, 2 workers %v", one, two)
	}
	naive := 0.0
	for _, v := range x {
		naive += v
	}
	if d := one - naive; d > 1e-9 || d < -1e-9 {
		t.Fatalf("sum %v vs naive %v", one, naive)
	}
}

func TestBufferPoolReuseAndZeroing(t *testing.T) {
	DrainPool()
	a := New(CPU, Float32, 1000)
	d := a.F32Data()
	for i := range d {
		d[i] = 7
	}
	p := &d[0]
	a.Release()
	if PoolBytes() == 0 {
		t.Fatal("released buffer not pooled")
	}
	b := New(CPU, Float32, 990) // same size class
	if &b.F32Data()[0] != p {
		t.Fatal("same-class allocation did not reuse the released buffer")
	}
	for i, v := range b.F32Data() {
		if v != 0 {
			t.Fatalf("reused buffer not zeroed at %d: %v", i, v)
		}
	}
	// A second Release of a storage (through another view) must not pool it twice.
	v := b.Reshape(10, 99)
	b.Release()
	held := PoolBytes()
	v.Release()
	if PoolBytes() != held {
		t.Fatal("storage released twice entered the pool twice")
	}
	for n := 1; n < 1<<20; n = n*3 + 1 {
		c := sizeClass(n)
		if c < n || float64(c) > 1.25*float64(n)+16 {
			t.Fatalf("sizeClass(%d) = %d", n, c)
		}
		if sizeClass(c) != c {
			t.Fatalf("sizeClass not idempotent at %d", c)
		}
	}
}

// TestBufferPoolLimitEvictsLeastRecentlyUsed: over its limit the pool drops
// the buffers of the size classes used longest ago, not the newest ones, so
// it follows the shapes in use; a lower limit trims at once, and 0 keeps
// nothing.
func TestBufferPoolLimitEvictsLeastRecentlyUsed(t *testing.T) {
	defer SetPoolLimit(SetPoolLimit(8192 * 4))
	DrainPool()
	defer DrainPool()
	release := func(n int) *float32 {
		a := New(CPU, Float32, n)
		p := &a.F32Data()[0]
		a.Release()
		return p
	}
	floats := func(want int) {
		t.Helper()
		if got := PoolBytes(); got != int64(4*want) {
			t.Fatalf("pool holds %d bytes, want %d (%d floats)", got, 4*want, want)
		}
	}
	pa := release(4096)
	pb := release(2048)
	release(1024)
	floats(4096 + 2048 + 1024)
	if release(4096) != pa { // a hit: the 4096 class is now the most recent
		t.Fatal("the 4096 class did not reuse its buffer")
	}
	release(1536) // a new class: 8704 floats > 8192, so the oldest (2048) goes
	floats(4096 + 1024 + 1536)
	if release(2048) == pb {
		t.Fatal("an evicted buffer was handed out again")
	}
	floats(4096 + 1536 + 2048) // the new 2048 buffer pushed out the oldest class, 1024
	SetPoolLimit(4096 * 4)     // the oldest now is 4096 (7680 -> 3584 floats)
	floats(1536 + 2048)
	SetPoolLimit(0)
	floats(0)
	release(64)
	floats(0)
}
