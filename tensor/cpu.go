package tensor

import (
	"fmt"
	"math"
)

// CPU is the host device. Its kernels are the pure-Go reference kernels of
// kernels/ref, parallelised over the worker pool; the SIMD kernels of
// kernels/avx replace them for float32 where the CPU supports them.
var CPU Device = &cpuDevice{}

type cpuDevice struct{}

// cpuStorage holds exactly one non-nil slice, for its dtype.
type cpuStorage struct {
	f32 []float32
	f64 []float64
	u16 []uint16
	dt  DType
	// pooled marks storage that came from the buffer pool and may return there.
	pooled bool
	acct   *hostAcct // its share of the host memory counters (hostmem.go)
}

func (s *cpuStorage) Device() Device { return CPU }
func (s *cpuStorage) DType() DType   { return s.dt }
func (s *cpuStorage) Len() int {
	switch s.dt {
	case Float32:
		return len(s.f32)
	case Float64:
		return len(s.f64)
	default:
		return len(s.u16)
	}
}

func (d *cpuDevice) Kind() DeviceKind { return CPUKind }
func (d *cpuDevice) String() string   { return "cpu" }
func (d *cpuDevice) Backend() Backend { return cpuBackend{} }

func (d *cpuDevice) Alloc(dt DType, n int) Storage { return d.alloc(dt, n, true) }

// alloc returns storage for n elements of dt: zero-filled when zero is set,
// else with unspecified contents (NaN under SetPoisonUninit; uninit.go).
func (d *cpuDevice) alloc(dt DType, n int, zero bool) Storage {
	s := &cpuStorage{dt: dt, pooled: true}
	poison := !zero && poisonUninit.Load()
	var bytes int64
	switch dt {
	case Float32:
		s.f32 = poolF32.take(n, zero)
		bytes = 4 * int64(cap(s.f32))
		if poison {
			fillAll(s.f32, float32(math.NaN()))
		}
	case Float64:
		s.f64 = poolF64.take(n, zero)
		bytes = 8 * int64(cap(s.f64))
		if poison {
			fillAll(s.f64, math.NaN())
		}
	case BFloat16:
		s.u16 = make([]uint16, n) // not pooled: always fresh, zero memory
		s.pooled = false
		bytes = 2 * int64(cap(s.u16))
		if poison {
			fillAll(s.u16, bf16NaN)
		}
	default:
		panic(fmt.Sprintf("tensor: cannot allocate dtype %v", dt))
	}
	countHost(s, bytes)
	return s
}

func (d *cpuDevice) Free(st Storage) {
	s, ok := st.(*cpuStorage)
	if !ok {
		return
	}
	uncountHost(s.acct)
	if !s.pooled {
		return
	}
	switch s.dt {
	case Float32:
		poolF32.put(s.f32)
	case Float64:
		poolF64.put(s.f64)
	}
	s.f32, s.f64, s.pooled = nil, nil, false
}

func (d *cpuDevice) Upload(st Storage, off int, data any) {
	s := st.(*cpuStorage)
	switch v := data.(type) {
	case []float32:
		copy(s.f32[off:], v)
	case []float64:
		copy(s.f64[off:], v)
	case []uint16:
		copy(s.u16[off:], v)
	default:
		panic(fmt.Sprintf("tensor: cannot upload %T", data))
	}
}

func (d *cpuDevice) Download(st Storage, off, n int) any {
	s := st.(*cpuStorage)
	switch s.dt {
	case Float32:
		return append([]float32(nil), s.f32[off:off+n]...)
	case Float64:
		return append([]float64(nil), s.f64[off:off+n]...)
	default:
		return append([]uint16(nil), s.u16[off:off+n]...)
	}
}

// cpuData returns the CPU storage slice of t from its offset onward, typed T.
// It panics if t is not a CPU tensor of dtype T.
func cpuData[T Float](t *Tensor) []T {
	s, ok := t.st.(*cpuStorage)
	if !ok {
		panic(fmt.Sprintf("tensor: %v tensor passed to a CPU kernel", t.Device()))
	}
	var z T
	switch any(z).(type) {
	case float32:
		return any(s.f32[t.offset:]).([]T)
	default:
		return any(s.f64[t.offset:]).([]T)
	}
}

// F32Data returns the float32 storage of a contiguous CPU tensor, starting at
// its first element and Numel() long; writes through it modify the tensor.
// For kernels and tests that need direct access.
func (t *Tensor) F32Data() []float32 {
	if t.DType() != Float32 || t.Device() != CPU || !t.IsContiguous() {
		panic(fmt.Sprintf("tensor.F32Data: need a contiguous float32 CPU tensor, have %v %v on %v", t.shape, t.DType(), t.Device()))
	}
	return t.st.(*cpuStorage).f32[t.offset : t.offset+t.Numel()]
}

// F64Data is F32Data for float64 tensors.
func (t *Tensor) F64Data() []float64 {
	if t.DType() != Float64 || t.Device() != CPU || !t.IsContiguous() {
		panic(fmt.Sprintf("tensor.F64Data: need a contiguous float64 CPU tensor, have %v %v on %v", t.shape, t.DType(), t.Device()))
	}
	return t.st.(*cpuStorage).f64[t.offset : t.offset+t.Numel()]
}

// cpuBackend implements Backend with the reference kernels. Its methods are
// spread over cpu_*.go, one file per kernel family.
type cpuBackend struct{}
