package tensor

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// The buffer pool keeps released host buffers by size class so that a
// training step, which allocates the same shapes every time, reuses last
// step's memory instead of churning the garbage collector. Classes are four
// per power of two (at most 25% waste); a buffer is zeroed when handed out.
// sync.Pool is not used because it is emptied at every GC, which is exactly
// when reuse matters.

type bufPool struct {
	mu   sync.Mutex
	f32  map[int][][]float32
	f64  map[int][][]float64
	held atomic.Int64 // bytes sitting in the pool
	// maxHeld bounds the bytes kept for reuse; beyond it buffers go to the GC.
	maxHeld int64
}

var hostPool = &bufPool{f32: map[int][][]float32{}, f64: map[int][][]float64{}, maxHeld: 4 << 30}

// sizeClass rounds n up to its class: exact below 64, then four classes per
// power of two.
func sizeClass(n int) int {
	if n <= 64 {
		return n
	}
	e := bits.Len(uint(n-1)) - 3 // class step = 2^(floor(log2 n) - 2)
	step := 1 << e
	return (n + step - 1) &^ (step - 1)
}

func (p *bufPool) getF32(n int) []float32 {
	c := sizeClass(n)
	p.mu.Lock()
	if l := p.f32[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.f32[c] = l[:len(l)-1]
		p.mu.Unlock()
		p.held.Add(-int64(4 * c))
		b = b[:n]
		clear(b)
		return b
	}
	p.mu.Unlock()
	return make([]float32, n, c)
}

func (p *bufPool) putF32(b []float32) {
	c := cap(b)
	if c == 0 || sizeClass(c) != c || p.held.Load()+int64(4*c) > p.maxHeld {
		return
	}
	p.held.Add(int64(4 * c))
	p.mu.Lock()
	p.f32[c] = append(p.f32[c], b[:c])
	p.mu.Unlock()
}

func (p *bufPool) getF64(n int) []float64 {
	c := sizeClass(n)
	p.mu.Lock()
	if l := p.f64[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.f64[c] = l[:len(l)-1]
		p.mu.Unlock()
		p.held.Add(-int64(8 * c))
		b = b[:n]
		clear(b)
		return b
	}
	p.mu.Unlock()
	return make([]float64, n, c)
}

func (p *bufPool) putF64(b []float64) {
	c := cap(b)
	if c == 0 || sizeClass(c) != c || p.held.Load()+int64(8*c) > p.maxHeld {
		return
	}
	p.held.Add(int64(8 * c))
	p.mu.Lock()
	p.f64[c] = append(p.f64[c], b[:c])
	p.mu.Unlock()
}

// PoolBytes returns the bytes of host memory held by the buffer pool for reuse.
func PoolBytes() int64 { return hostPool.held.Load() }

// DrainPool drops every pooled host buffer (they become garbage).
func DrainPool() {
	hostPool.mu.Lock()
	hostPool.f32 = map[int][][]float32{}
	hostPool.f64 = map[int][][]float64{}
	hostPool.held.Store(0)
	hostPool.mu.Unlock()
}
