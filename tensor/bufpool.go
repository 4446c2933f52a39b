package tensor

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The buffer pool keeps released host buffers by size class so that a
// training step, which allocates the same shapes every time, reuses last
// step's memory instead of churning the garbage collector. Classes are four
// per power of two (at most 25% waste); a buffer is zeroed when handed out,
// except to outputs that are overwritten anyway (uninit.go).
// sync.Pool is not used because it is emptied at every GC, which is exactly
// when reuse matters.

// maxPooledBytes bounds the bytes kept for reuse; beyond it released buffers
// go to the garbage collector.
const maxPooledBytes = 4 << 30

// pooledBytes counts the bytes sitting in every class pool.
var pooledBytes atomic.Int64

type classPool[T Float] struct {
	mu   sync.Mutex
	free map[int][][]T
}

var (
	poolF32 = &classPool[float32]{free: map[int][][]float32{}}
	poolF64 = &classPool[float64]{free: map[int][][]float64{}}
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
		p.free[c] = l[:len(l)-1]
		p.mu.Unlock()
		pooledBytes.Add(-int64(c) * elemBytes[T]())
		return b[:n], true
	}
	p.mu.Unlock()
	return make([]T, n, c), false
}

// put keeps b for reuse unless it is not a class-sized buffer or the pool is full.
func (p *classPool[T]) put(b []T) {
	c := cap(b)
	size := int64(c) * elemBytes[T]()
	if c == 0 || sizeClass(c) != c || pooledBytes.Load()+size > maxPooledBytes {
		return
	}
	pooledBytes.Add(size)
	p.mu.Lock()
	p.free[c] = append(p.free[c], b[:c])
	p.mu.Unlock()
}

func (p *classPool[T]) drain() {
	p.mu.Lock()
	p.free = map[int][][]T{}
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
