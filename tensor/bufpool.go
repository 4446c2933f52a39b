package tensor

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The buffer pool keeps released host buffers by size class so that a
// training step, which allocates the same shapes every time, reuses last
// step's memory instead of churning the garbage collector, and so do the
// forward passes of inference (autograd.Scratch). It holds at most
// SetPoolLimit's bytes, dropping the least recently used classes first. Classes are four
// per power of two (at most 25% waste); a buffer is zeroed when handed out,
// except to outputs that are overwritten anyway (uninit.go).
// sync.Pool is not used because it is emptied at every GC, which is exactly
// when reuse matters.

// DefaultPoolLimit is the bytes the pool keeps for reuse unless SetPoolLimit
// says otherwise. Fit and Predict of the embedded model on a 1000 x 20
// table (many passes over 256-533-row contexts): 1.4x faster than without
// reuse with 128 MiB, about as fast with 256 or 512 MiB but more resident
// (0.6 GB against 0.8 and 1.1 GB; 0.2 GB without reuse). A training step of
// large tables releases gigabytes: `nori train` raises the limit.
const DefaultPoolLimit = 128 << 20

// poolLimit bounds the bytes kept for reuse. Beyond it the least recently
// used size classes are dropped to the garbage collector: shapes change (a
// new table, a curriculum stage), and a pool that refused new buffers once
// full would keep the old shapes' buffers forever, unused but live (a Fit
// and Predict over many local contexts filled 2.9 GiB that way).
var poolLimit atomic.Int64

func init() { poolLimit.Store(DefaultPoolLimit) }

// SetPoolLimit sets the bytes of released host buffers the pool may keep
// for reuse (0 keeps none) and returns the previous limit; a lower limit
// takes effect at once.
func SetPoolLimit(bytes int64) int64 {
	old := poolLimit.Swap(max(bytes, 0))
	trimPool()
	return old
}

// pooledBytes counts the bytes sitting in every class pool.
var pooledBytes atomic.Int64

// poolClock orders the uses of the size classes for the eviction.
var poolClock atomic.Uint64

type classPool[T Float] struct {
	mu   sync.Mutex
	free map[int][][]T
	used map[int]uint64 // class -> poolClock at its last take or put
}

var (
	poolF32 = &classPool[float32]{free: map[int][][]float32{}, used: map[int]uint64{}}
	poolF64 = &classPool[float64]{free: map[int][][]float64{}, used: map[int]uint64{}}
)

// sizeClass rounds n up to its class: exact up to 64, then four classes per
// power of two.
func sizeClass(n int) int {
	if n <= 64 {
		return n
	}
	e := bits.Len(uint(n-1)) - 3 // class step = 2^(floor(log2 n) - 2)
	step := 1 << e
	return (n + step - 1) &^ (step - 1)
}

// take returns a slice of length n, reused when the class has one: zeroed
// when zero is set, else holding what its last owner left (fresh memory
// from make is zero either way).
func (p *classPool[T]) take(n int, zero bool) []T {
	b, reused := p.takeBuf(n)
	if reused && zero {
		clear(b)
	}
	return b
}

// takeBuf returns a slice of length n and whether it was reused from the pool.
func (p *classPool[T]) takeBuf(n int) ([]T, bool) {
	c := sizeClass(n)
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		p.free[c] = l[:len(l)-1]
		p.used[c] = poolClock.Add(1)
		p.mu.Unlock()
		pooledBytes.Add(-int64(c) * elemBytes[T]())
		return b[:n], true
	}
	p.used[c] = poolClock.Add(1) // a miss makes the class recent too
	p.mu.Unlock()
	return make([]T, n, c), false
}

// put keeps b for reuse unless it is not a class-sized buffer, and trims the
// pool back to its limit.
func (p *classPool[T]) put(b []T) {
	c := cap(b)
	size := int64(c) * elemBytes[T]()
	if c == 0 || sizeClass(c) != c || size > poolLimit.Load() {
		return
	}
	p.mu.Lock()
	p.free[c] = append(p.free[c], b[:c])
	p.used[c] = poolClock.Add(1)
	p.mu.Unlock()
	if pooledBytes.Add(size) > poolLimit.Load() {
		trimPool()
	}
}

// oldest returns the least recently used class that holds buffers.
func (p *classPool[T]) oldest() (class int, at uint64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, l := range p.free {
		if len(l) > 0 && (!ok || p.used[c] < at) {
			class, at, ok = c, p.used[c], true
		}
	}
	return class, at, ok
}

// evict drops the longest-held buffer of class c, if any, and returns its
// bytes.
func (p *classPool[T]) evict(c int) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.free[c]
	if len(l) == 0 {
		return 0
	}
	l[0] = nil
	if len(l) == 1 {
		delete(p.free, c)
		delete(p.used, c)
	} else {
		p.free[c] = l[1:]
	}
	size := int64(c) * elemBytes[T]()
	pooledBytes.Add(-size)
	return size
}

// trimMu serialises trimPool, so that two trims do not evict for each other.
var trimMu sync.Mutex

// trimPool drops buffers of the least recently used classes, of either
// dtype, until the pool holds at most poolLimit bytes.
func trimPool() {
	trimMu.Lock()
	defer trimMu.Unlock()
	for pooledBytes.Load() > poolLimit.Load() {
		c32, t32, ok32 := poolF32.oldest()
		c64, t64, ok64 := poolF64.oldest()
		switch {
		case ok32 && (!ok64 || t32 <= t64):
			poolF32.evict(c32)
		case ok64:
			poolF64.evict(c64)
		default:
			return // counted bytes in flight between a put's append and its Add
		}
	}
}

func (p *classPool[T]) drain() {
	p.mu.Lock()
	p.free = map[int][][]T{}
	p.used = map[int]uint64{}
	p.mu.Unlock()
}

func elemBytes[T Float]() int64 {
	var z T
	return int64(unsafe.Sizeof(z))
}

// PoolBytes returns the bytes of host memory held by the buffer pool for reuse.
func PoolBytes() int64 { return pooledBytes.Load() }

// DrainPool drops every pooled host buffer (they become garbage).
func DrainPool() {
	poolF32.drain()
	poolF64.drain()
	pooledBytes.Store(0)
}
