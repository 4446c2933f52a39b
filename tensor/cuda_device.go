//go:build cuda

package tensor

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nori-ml/nori/kernels/cuda"
)

// The CUDA device: storage in GPU memory from kernels/cuda's caching
// allocator, kernels launched on the runtime's single stream (cuda_backend*.go).
//
// Memory. Tensors whose storage is handed back with Release return their
// block to the allocator's cache at once. Storage that is simply dropped (the
// temporaries of ops, views' copies) is returned by a runtime cleanup when the
// Go garbage collector finds it unreachable. The Go heap does not see GPU
// memory, so the collector could otherwise run too rarely: once half as many
// bytes as the allocator reserves (at least collectMinBytes) have been handed
// out since the last collection, the device runs one, so that dropped blocks
// flow back into the cache and the reserve settles at about twice the live
// memory instead of growing; an allocation that fails even after the
// allocator emptied its cache collects and retries before panicking.
// Releasing tensors explicitly (autograd's Tape.Release) remains the cheap
// path: their blocks are reused at once.
//
// Errors. The tensor API does not return errors, so a failed launch or copy
// panics with the op's name, the device and the CUDA error; kernel faults
// surface at the next copy to the host or Sync.
//
// Measured speed: not yet run on a GPU (no GPU was lent to the session that
// wrote it).

// cudaDevices caches one device per ordinal: tensors of two Devices never
// mix, so every NewCUDA(i) must return the same one.
var cudaDevices struct {
	sync.Mutex
	m map[int]*cudaDevice
}

// NewCUDA opens GPU ordinal (0 for the first) as a Device of kind CUDAKind:
// float32 compute, bfloat16 and float64 storage (float64 tensors can be
// created, copied and converted on the GPU, but every compute op panics on
// them: the GPU kernels are float32). The returned Device also implements
// GPUDevice (memory counters, matmul precision, Sync). Repeated calls with
// the same ordinal return the same device.
func NewCUDA(ordinal int) (Device, error) {
	cudaDevices.Lock()
	defer cudaDevices.Unlock()
	if d, ok := cudaDevices.m[ordinal]; ok {
		return d, nil
	}
	rt, err := cuda.Open(ordinal)
	if err != nil {
		return nil, fmt.Errorf("tensor: opening CUDA device %d: %w", ordinal, err)
	}
	d := &cudaDevice{rt: rt, ordinal: ordinal}
	if cudaDevices.m == nil {
		cudaDevices.m = map[int]*cudaDevice{}
	}
	cudaDevices.m[ordinal] = d
	return d, nil
}

type cudaDevice struct {
	rt      *cuda.Runtime
	ordinal int
	prec    atomic.Int32 // MatMulPrecision

	// sinceGC counts the bytes allocated since the last collection the
	// device triggered; gcPending is set from that collection until a
	// sentinel cleanup queued with it has run (its cleanups are under way).
	sinceGC   atomic.Int64
	gcPending atomic.Bool
	// collections and collectNanos count the collections collect ran and
	// the time they blocked (DeviceCounters).
	collections  atomic.Int64
	collectNanos atomic.Int64
}

// cudaBuf is one device allocation. It is separate from cudaStorage so that
// the storage's cleanup can free it without keeping the storage reachable.
type cudaBuf struct {
	p     cuda.Ptr
	bytes int64
}

// cudaStorage is n elements of dt at buf.p. buf.p is 0 for empty storage and
// after Free.
type cudaStorage struct {
	dev     *cudaDevice
	buf     *cudaBuf
	dt      DType
	n       int
	cleanup runtime.Cleanup
}

func (s *cudaStorage) Device() Device { return s.dev }
func (s *cudaStorage) DType() DType   { return s.dt }
func (s *cudaStorage) Len() int       { return s.n }

// at returns the device address of element i.
func (s *cudaStorage) at(op string, i int) cuda.Ptr {
	if s.buf.p == 0 && s.n > 0 {
		panic(fmt.Sprintf("tensor: %s on %v: storage used after Release", op, s.dev))
	}
	return s.buf.p.Add(int64(i) * int64(s.dt.Size()))
}

func (d *cudaDevice) Kind() DeviceKind { return CUDAKind }

// String names the device and the GPU, e.g. "cuda:0 (NVIDIA H100 80GB HBM3)".
func (d *cudaDevice) String() string { return fmt.Sprintf("cuda:%d (%s)", d.ordinal, d.rt.Name()) }

func (d *cudaDevice) Backend() Backend { return cudaBackend{d} }

// checkStorageDType panics unless dt can be stored on the GPU.
func (d *cudaDevice) checkStorageDType(op string, dt DType) {
	switch dt {
	case Float32, BFloat16, Float64:
		return
	}
	panic(fmt.Sprintf("tensor: %s on %v: cannot allocate dtype %v", op, d, dt))
}

// Alloc returns zero-filled storage (cuMemsetD32 over the whole block).
func (d *cudaDevice) Alloc(dt DType, n int) Storage {
	d.checkStorageDType("Alloc", dt)
	if n < 0 {
		panic(fmt.Sprintf("tensor: Alloc on %v: negative length %d", d, n))
	}
	s := &cudaStorage{dev: d, buf: &cudaBuf{}, dt: dt, n: n}
	if n == 0 {
		return s
	}
	bytes := int64(n) * int64(dt.Size())
	s.buf.p, s.buf.bytes = d.allocBytes("Alloc", bytes), bytes
	// Blocks are rounded up to 512-byte size classes, so clearing whole
	// 32-bit words (a bfloat16 tail included) stays inside the block.
	d.check("Alloc (memset)", d.rt.Memset32(s.buf.p, 0, (bytes+3)/4))
	s.cleanup = runtime.AddCleanup(s, d.releaseBuf, s.buf)
	return s
}

// Free returns the block to the allocator's cache at once.
func (d *cudaDevice) Free(st Storage) {
	s, ok := st.(*cudaStorage)
	if !ok || s.dev != d || s.buf.p == 0 {
		return
	}
	s.cleanup.Stop()
	d.releaseBuf(s.buf)
}

// releaseBuf frees b (from Free, or from the cleanup of unreachable
// storage, on the runtime's cleanup goroutine: errors cannot be reported
// there, and the only one possible is a runtime closed at exit).
func (d *cudaDevice) releaseBuf(b *cudaBuf) {
	if b.p == 0 {
		return
	}
	p := b.p
	b.p = 0
	_ = d.rt.Free(p)
}

// allocBytes takes bytes of device memory from the caching allocator,
// collecting garbage as the file comment describes. It
// panics naming op when the GPU is out of memory even after a collection.
func (d *cudaDevice) allocBytes(op string, bytes int64) cuda.Ptr {
	p, err := d.rt.Alloc(bytes)
	if err != nil {
		// The allocator already returned its cache to the driver and
		// retried: only unreachable tensors can still give memory back.
		for try := 0; try < 3 && err != nil; try++ {
			d.collect(true)
			p, err = d.rt.Alloc(bytes)
		}
		if err != nil {
			st := d.rt.MemStats()
			panic(fmt.Sprintf("tensor: %s on %v: out of GPU memory allocating %d bytes (%d in use, %d reserved): %v",
				op, d, bytes, st.InUse, st.Reserved, err))
		}
	}
	if since := d.sinceGC.Add(bytes); since >= max(d.rt.MemStats().Reserved/2, collectMinBytes) {
		d.collect(false)
	}
	return p
}

// collectMinBytes is the least number of bytes allocated since the last
// collection for an allocation to trigger another: below it, collecting costs
// more than the memory it could return.
const collectMinBytes = 4 << 20

// collect runs the garbage collector so that the cleanups of unreachable
// storage return their blocks to the cache. Unless wait is set it does
// nothing while the cleanups of the previous collection are still queued.
// With wait it also waits (briefly) for them, for the out-of-memory retry.
func (d *cudaDevice) collect(wait bool) {
	if !d.gcPending.CompareAndSwap(false, true) && !wait {
		return
	}
	d.sinceGC.Store(0)
	done := make(chan struct{})
	// The sentinel is large enough to stay out of the tiny allocator, whose
	// objects may never get their cleanups run.
	runtime.AddCleanup(new(gcSentinel), func(ch chan struct{}) { d.gcPending.Store(false); close(ch) }, done)
	t0 := time.Now()
	runtime.GC()
	d.collections.Add(1)
	defer func() { d.collectNanos.Add(int64(time.Since(t0))) }()
	if wait {
		// Cleanups run in turn on one goroutine: once the sentinel's has run,
		// most of those queued by this collection have too.
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
}

type gcSentinel struct{ _ [64]byte }

// Upload copies data ([]float32, []float64 or []uint16, matching s's dtype)
// into s from element off.
func (d *cudaDevice) Upload(st Storage, off int, data any) {
	s := d.storage("Upload", st)
	var n int
	var src unsafe.Pointer
	var dt DType
	switch v := data.(type) {
	case []float32:
		n, dt = len(v), Float32
		if n > 0 {
			src = unsafe.Pointer(&v[0])
		}
	case []float64:
		n, dt = len(v), Float64
		if n > 0 {
			src = unsafe.Pointer(&v[0])
		}
	case []uint16:
		n, dt = len(v), BFloat16
		if n > 0 {
			src = unsafe.Pointer(&v[0])
		}
	default:
		panic(fmt.Sprintf("tensor: cannot upload %T to %v", data, d))
	}
	if dt != s.dt {
		panic(fmt.Sprintf("tensor: Upload of %T into %v storage on %v", data, s.dt, d))
	}
	if off < 0 || off+n > s.n {
		panic(fmt.Sprintf("tensor: Upload of %d elements at %d into storage of %d on %v", n, off, s.n, d))
	}
	if n == 0 {
		return
	}
	d.check("Upload", d.rt.Upload(s.at("Upload", off), src, int64(n)*int64(dt.Size())))
	runtime.KeepAlive(data)
}

// Download copies n elements of s from element off into a new host slice of
// s's dtype, after every kernel queued before it has finished.
func (d *cudaDevice) Download(st Storage, off, n int) any {
	s := d.storage("Download", st)
	if off < 0 || n < 0 || off+n > s.n {
		panic(fmt.Sprintf("tensor: Download of %d elements at %d from storage of %d on %v", n, off, s.n, d))
	}
	var out any
	var dst unsafe.Pointer
	switch s.dt {
	case Float32:
		v := make([]float32, n)
		out = v
		if n > 0 {
			dst = unsafe.Pointer(&v[0])
		}
	case Float64:
		v := make([]float64, n)
		out = v
		if n > 0 {
			dst = unsafe.Pointer(&v[0])
		}
	default:
		v := make([]uint16, n)
		out = v
		if n > 0 {
			dst = unsafe.Pointer(&v[0])
		}
	}
	if n > 0 {
		d.check("Download", d.rt.Download(dst, s.at("Download", off), int64(n)*int64(s.dt.Size())))
	}
	runtime.KeepAlive(st)
	return out
}

// storage returns st as this device's storage or panics naming op.
func (d *cudaDevice) storage(op string, st Storage) *cudaStorage {
	s, ok := st.(*cudaStorage)
	if !ok || s.dev != d {
		panic(fmt.Sprintf("tensor: %s on %v: storage of %v", op, d, st.Device()))
	}
	return s
}

// check panics with op, the device and err when err is not nil.
func (d *cudaDevice) check(op string, err error) {
	if err != nil {
		panic(fmt.Sprintf("tensor: %s on %v: %v", op, d, err))
	}
}

// MemStats returns the caching allocator's counters.
func (d *cudaDevice) MemStats() DeviceMemStats {
	s := d.rt.MemStats()
	return DeviceMemStats{InUse: s.InUse, PeakInUse: s.PeakInUse, Reserved: s.Reserved, PeakReserved: s.PeakReserv,
		RawAllocs: s.RawAllocs, RawFrees: s.RawFrees, CacheHits: s.Hits}
}

func (d *cudaDevice) ResetPeakMem() { d.rt.ResetPeakMem() }
func (d *cudaDevice) TrimMem() error {
	return d.rt.TrimMem()
}

func (d *cudaDevice) SetMatMulPrecision(p MatMulPrecision) {
	switch p {
	case PrecisionFP32, PrecisionTF32, PrecisionBF16:
		d.prec.Store(int32(p))
	default:
		panic(fmt.Sprintf("tensor: SetMatMulPrecision on %v: unknown precision %d", d, int(p)))
	}
}

func (d *cudaDevice) MatMulPrecision() MatMulPrecision { return MatMulPrecision(d.prec.Load()) }

func (d *cudaDevice) Sync() error { return d.rt.Sync() }

// Counters returns the runtime's driver-call counts and the allocator's
// forced collections.
func (d *cudaDevice) Counters() DeviceCounters {
	c := d.rt.Counts()
	return DeviceCounters{Launches: c.Launches, Uploads: c.Uploads, Downloads: c.Downloads, Syncs: c.Syncs,
		Collections: d.collections.Load(), CollectTime: time.Duration(d.collectNanos.Load())}
}

// Runtime returns the kernels/cuda runtime behind the device, for code that
// launches kernels of its own on the same stream (e.g. fused model kernels).
func (d *cudaDevice) Runtime() *cuda.Runtime { return d.rt }

// CUDARuntime returns the kernels/cuda runtime of a device from NewCUDA, or
// nil for any other device.
func CUDARuntime(dev Device) *cuda.Runtime {
	if d, ok := dev.(*cudaDevice); ok {
		return d.rt
	}
	return nil
}

// CUDAPtr returns the device address of t's first element (t on a device
// from NewCUDA), for code that passes tensors to kernels/cuda launchers
// directly. Keep t reachable (runtime.KeepAlive) until every launch that uses
// the address is queued: the block may be reused once t's storage is freed,
// and only the single stream's program order protects launches queued before.
func CUDAPtr(t *Tensor) cuda.Ptr {
	s, ok := t.st.(*cudaStorage)
	if !ok {
		panic(fmt.Sprintf("tensor.CUDAPtr: tensor on %v", t.Device()))
	}
	return s.at("CUDAPtr", t.offset)
}
