package cuda

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// fakeRaw hands out increasing addresses and can be told to run out of memory
// above a byte budget, like cuMemAlloc.
type fakeRaw struct {
	next, held, budget int64
	live               map[uint64]int64
}

func newFakeRaw(budget int64) *fakeRaw {
	return &fakeRaw{next: 1 << 20, budget: budget, live: map[uint64]int64{}}
}

func (f *fakeRaw) alloc(n int64) (uint64, error) {
	if f.held+n > f.budget {
		return 0, errors.New("CUDA_ERROR_OUT_OF_MEMORY")
	}
	p := uint64(f.next)
	f.next += n
	f.held += n
	f.live[p] = n
	return p, nil
}

func (f *fakeRaw) free(p uint64) error {
	n, ok := f.live[p]
	if !ok {
		return errors.New("bad free")
	}
	delete(f.live, p)
	f.held -= n
	return nil
}

func TestSizeClass(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{
		{0, 512}, {1, 512}, {512, 512}, {513, 1024}, {65536, 65536},
		{65537, 81920}, {1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 1<<18}, {3 << 20, 3 << 20},
	} {
		if got := sizeClass(tc.in); got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for i := 0; i < 10000; i++ {
		n := rand.Int64N(1 << 30)
		c := sizeClass(n)
		if c < n || (n > 65536 && float64(c) > 1.25*float64(n)+1) {
			t.Fatalf("sizeClass(%d) = %d: smaller than the request or over 25%% waste", n, c)
		}
	}
}

// TestCachingAllocatorSteadyState runs a thousand "training steps" of mixed
// sizes that repeat every step: after the first step nothing reaches the
// driver and the reserved bytes stop growing.
func TestCachingAllocatorSteadyState(t *testing.T) {
	raw := newFakeRaw(1 << 40)
	a := newCachingAllocator(raw)
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int64, 60)
	for i := range sizes {
		sizes[i] = 1 + rng.Int64N(8<<20)
	}
	var afterFirst AllocStats
	for step := 0; step < 1000; step++ {
		var ptrs []uint64
		for i, s := range sizes {
			p, err := a.Alloc(s)
			if err != nil {
				t.Fatal(err)
			}
			ptrs = append(ptrs, p)
			if i%3 == 2 { // free some early, as activations die during a step
				if err := a.Free(ptrs[len(ptrs)-2]); err != nil {
					t.Fatal(err)
				}
				ptrs = append(ptrs[:len(ptrs)-2], ptrs[len(ptrs)-1])
			}
		}
		for _, p := range ptrs {
			if err := a.Free(p); err != nil {
				t.Fatal(err)
			}
		}
		if step == 0 {
			afterFirst = a.Stats()
		}
	}
	st := a.Stats()
	if st.RawAllocs != afterFirst.RawAllocs || st.Reserved != afterFirst.Reserved {
		t.Fatalf("allocator grew after the first step: raw allocs %d -> %d, reserved %d -> %d",
			afterFirst.RawAllocs, st.RawAllocs, afterFirst.Reserved, st.Reserved)
	}
	if st.InUse != 0 {
		t.Fatalf("in use %d after freeing everything", st.InUse)
	}
	if st.Hits != afterFirst.Hits+999*int64(len(sizes)) {
		t.Fatalf("hits %d, want %d", st.Hits, afterFirst.Hits+999*int64(len(sizes)))
	}
}

func TestCachingAllocatorOOMRetryAndErrors(t *testing.T) {
	raw := newFakeRaw(4 << 20)
	a := newCachingAllocator(raw)
	p, err := a.Alloc(3 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p); err != nil {
		t.Fatal(err)
	}
	// A different class does not fit next to the cached 3 MiB block: the cache
	// is released and the retry succeeds.
	q, err := a.Alloc(2 << 20)
	if err != nil {
		t.Fatalf("retry after releasing the cache failed: %v", err)
	}
	if st := a.Stats(); st.RawFrees != 1 || st.Reserved != 2<<20 {
		t.Fatalf("stats after retry: %+v", st)
	}
	if _, err := a.Alloc(3 << 20); err == nil {
		t.Fatal("allocation over the budget succeeded")
	}
	if err := a.Free(q); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(q); err == nil {
		t.Fatal("double free not reported")
	}
	if err := a.Trim(); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.Reserved != 0 || len(raw.live) != 0 {
		t.Fatalf("trim left %d reserved, %d raw blocks", st.Reserved, len(raw.live))
	}
}
