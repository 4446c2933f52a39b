package cuda

import (
	"fmt"
	"math/bits"
	"sync"
)

// rawAllocator is the memory a caching allocator sits on: cuMemAlloc/cuMemFree
// on a GPU, a fake in the tests of this file's logic (which need no GPU).
type rawAllocator interface {
	alloc(bytes int64) (uint64, error)
	free(ptr uint64) error
}

// AllocStats are the caching allocator's counters, in bytes.
type AllocStats struct {
	InUse      int64 // bytes of the live blocks (rounded to their size class)
	PeakInUse  int64 // maximum of InUse since the last ResetPeak
	Reserved   int64 // bytes held from the driver (live + cached)
	PeakReserv int64 // maximum of Reserved
	RawAllocs  int64 // calls that reached the driver
	RawFrees   int64 // blocks handed back to the driver (after an out-of-memory retry or Trim)
	Hits       int64 // allocations served from the cache
}

// sizeClass rounds a request up to the block size the cache keeps: multiples
// of 512 bytes up to 64 KiB (small tensors, tight fit), then four classes per
// power of two (at most 25% waste) so that the number of free lists stays small
// while repeated training steps, whose sizes are identical, always hit.
func sizeClass(bytes int64) int64 {
	if bytes <= 0 {
		return 512
	}
	const small = 64 << 10
	if bytes <= small {
		return (bytes + 511) &^ 511
	}
	p := int64(1) << (63 - bits.LeadingZeros64(uint64(bytes-1))) // largest power of two < bytes
	step := p / 4
	return (bytes + step - 1) / step * step
}

// cachingAllocator keeps freed blocks in per-size-class free lists and reuses
// them, so that steady-state training makes no driver calls (cuMemAlloc
// synchronises the device and costs ~100 us). Safe for concurrent use.
type cachingAllocator struct {
	mu    sync.Mutex
	raw   rawAllocator
	free  map[int64][]uint64 // size class -> cached block addresses
	live  map[uint64]int64   // live block -> its size class
	stats AllocStats
}

func newCachingAllocator(raw rawAllocator) *cachingAllocator {
	return &cachingAllocator{raw: raw, free: map[int64][]uint64{}, live: map[uint64]int64{}}
}

// Alloc returns a block of at least bytes bytes. When the driver reports an
// error (out of memory), it returns every cached block to the driver and tries
// once more; a second failure is returned with the figures needed to act on it.
func (a *cachingAllocator) Alloc(bytes int64) (uint64, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("cuda: negative allocation size %d", bytes)
	}
	c := sizeClass(bytes)
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.free[c]; len(l) > 0 {
		p := l[len(l)-1]
		a.free[c] = l[:len(l)-1]
		a.stats.Hits++
		a.take(p, c)
		return p, nil
	}
	p, err := a.raw.alloc(c)
	if err != nil {
		a.releaseCachedLocked()
		p, err = a.raw.alloc(c)
		if err != nil {
			return 0, fmt.Errorf("cuda: out of device memory allocating %d bytes (class %d; %d bytes live, %d reserved): %w",
				bytes, c, a.stats.InUse, a.stats.Reserved, err)
		}
	}
	a.stats.RawAllocs++
	a.stats.Reserved += c
	a.stats.PeakReserv = max(a.stats.PeakReserv, a.stats.Reserved)
	a.take(p, c)
	return p, nil
}

func (a *cachingAllocator) take(p uint64, c int64) {
	a.live[p] = c
	a.stats.InUse += c
	a.stats.PeakInUse = max(a.stats.PeakInUse, a.stats.InUse)
}

// Free returns a block to the cache. Freeing an unknown or already freed
// block is an error (it would otherwise hand one block to two tensors).
func (a *cachingAllocator) Free(p uint64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.live[p]
	if !ok {
		return fmt.Errorf("cuda: free of a block that is not live (0x%x): double free or foreign pointer", p)
	}
	delete(a.live, p)
	a.stats.InUse -= c
	a.free[c] = append(a.free[c], p)
	return nil
}

// Trim hands every cached (free) block back to the driver.
func (a *cachingAllocator) Trim() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.releaseCachedLocked()
}

func (a *cachingAllocator) releaseCachedLocked() error {
	var first error
	for c, l := range a.free {
		for _, p := range l {
			if err := a.raw.free(p); err != nil && first == nil {
				first = err
			}
			a.stats.Reserved -= c
			a.stats.RawFrees++
		}
		delete(a.free, c)
	}
	return first
}

// Stats returns a snapshot of the counters.
func (a *cachingAllocator) Stats() AllocStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// ResetPeak sets the peaks to the current values.
func (a *cachingAllocator) ResetPeak() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.PeakInUse = a.stats.InUse
	a.stats.PeakReserv = a.stats.Reserved
}
