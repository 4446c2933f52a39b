// Package par is nori's worker pool: it splits CPU kernels over the cores.
// It sits below every kernel package (kernels/ref, kernels/avx) and the
// tensor package, which re-exports it.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Determinism: a kernel split with Parallel computes every output element in
// exactly one task with the same arithmetic whatever the split, and
// ReduceFloat64 sums fixed-size chunks (independent of the worker count) and
// then adds the chunk results in index order. Results are therefore
// bit-identical for any number of workers.

var (
	workers   atomic.Int32
	poolMu    sync.Mutex
	poolTasks chan *task
	// pool lists the pool goroutines (a snapshot replaced under poolMu).
	pool atomic.Pointer[[]*poolWorker]
)

// Hand-off. A pool goroutine that finishes a task does not park at once: it
// spins for up to spinWait polling its own slot, and Parallel puts the next
// task straight into the slot of a spinning goroutine. Waking a parked
// goroutine means waking its OS thread, which is slow on virtual machines:
// on the 2-vCPU KVM dev machine, with another process taking the idle vCPU
// meanwhile, the helper of back-to-back Parallel calls started 70-100 µs
// after the caller (1 µs when spinning), next to the 0.6 ms that each of two
// workers spends on a 512³ Sgemm. Back-to-back kernels are the common case
// (a training step is a long run of Parallel calls). For the same reason
// the caller spins for up to spinWait on the helpers' completion before
// blocking: its thread would otherwise be the one to park. Goroutines still
// park after spinWait, so an idle process burns no CPU.
const spinWait = 100 * time.Microsecond

// poolWorker is one pool goroutine's hand-off state.
type poolWorker struct {
	spinning atomic.Bool
	slot     atomic.Pointer[task]
}

// task is one Parallel call's share for the helpers. Every hand-off of it
// (to a slot or the channel) is finished exactly once: by the goroutine that
// runs it, or by the caller when the hand-off is taken back unrun.
type task struct {
	run  func()
	left atomic.Int32 // hand-offs not finished yet
	wg   sync.WaitGroup
}

func (t *task) finish() {
	t.left.Add(-1)
	t.wg.Done()
}

func (t *task) exec() {
	t.run()
	t.finish()
}

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
		poolTasks = make(chan *task)
	}
	var ws []*poolWorker
	if p := pool.Load(); p != nil {
		ws = *p
	}
	if len(ws) < n-1 { // the calling goroutine is the n-th worker
		ws = append([]*poolWorker(nil), ws...)
		for len(ws) < n-1 {
			w := &poolWorker{}
			ws = append(ws, w)
			go w.loop()
		}
		pool.Store(&ws)
	}
	return old
}

// loop runs tasks handed to this goroutine's slot while it spins, or taken
// from the shared channel while it is parked.
func (w *poolWorker) loop() {
	for {
		t := w.spin()
		if t == nil {
			t = <-poolTasks
		}
		t.exec()
	}
}

// spin polls the slot for up to spinWait and returns the task found there,
// or nil (the goroutine then parks).
func (w *poolWorker) spin() *task {
	w.spinning.Store(true)
	spinUntil(func() bool { return w.slot.Load() != nil })
	w.spinning.Store(false)
	// A task put in the slot after the last poll is taken here, or taken
	// back by its caller (Parallel reclaims unrun hand-offs).
	return w.slot.Swap(nil)
}

// spinUntil polls done until it is true or spinWait has passed. It yields the processor every few microseconds so that goroutines
// waiting for it (a helper readied on this processor, the caller of
// Parallel) are not held up.
func spinUntil(done func() bool) {
	start := time.Now()
	last := start
	for !done() {
		now := time.Now()
		if now.Sub(start) > spinWait {
			return
		}
		if now.Sub(last) > 5*time.Microsecond {
			runtime.Gosched()
			last = now
		}
	}
}

// Workers returns the number of goroutines CPU kernels use.
func Workers() int { return int(workers.Load()) }

// Parallel calls fn(lo, hi) over disjoint ranges covering [0, n), each of at
// least grain items (except the last), on up to Workers() goroutines, and
// returns when all calls have returned. Work is taken in order from an atomic
// counter, so uneven ranges balance themselves (and a helper that starts
// late takes less).
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
	t := &task{run: run}
	t.left.Store(int32(helpers))
	t.wg.Add(helpers)
	// Spinning pool goroutines first (no wake-up), then parked ones.
	var slots [8]*poolWorker
	posted := slots[:0]
	for _, pw := range *pool.Load() {
		if len(posted) == helpers {
			break
		}
		if pw.spinning.Load() && pw.slot.CompareAndSwap(nil, t) {
			posted = append(posted, pw)
		}
	}
	for i := len(posted); i < helpers; i++ {
		select {
		case poolTasks <- t:
		default: // every pool goroutine is busy (nested Parallel): run inline
			t.finish()
		}
	}
	run()
	for _, pw := range posted {
		if pw.slot.CompareAndSwap(t, nil) { // not taken: all chunks are done
			t.finish()
		}
	}
	spinUntil(func() bool { return t.left.Load() == 0 })
	t.wg.Wait()
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
