package tensor

import (
	"errors"
	"time"
)

// The GPU device's extra API, declared in every build so that commands can
// offer `-device cuda` and print memory figures whether or not nori was built
// with `-tags cuda`: NewCUDA (cuda_device.go with the tag, cuda_stub.go
// without it) returns a Device that also implements GPUDevice.

// ErrNoCUDA is returned by NewCUDA in builds without the cuda tag.
var ErrNoCUDA = errors.New("tensor: nori was built without -tags cuda; rebuild with `go build -tags cuda` on a machine with the CUDA toolkit to use a GPU")

// MatMulPrecision selects the arithmetic of float32 matrix products on a GPU.
type MatMulPrecision int

const (
	// PrecisionFP32 multiplies and accumulates in float32 FMA (the default:
	// results agree with the CPU to float32 rounding).
	PrecisionFP32 MatMulPrecision = iota
	// PrecisionTF32 rounds A and B to TF32 (10-bit mantissa) and runs them on
	// tensor cores, accumulating in float32: relative error about 2^-11 per
	// product, several times the speed of FP32.
	PrecisionTF32
	// PrecisionBF16 rounds A and B to bfloat16 (8-bit mantissa) and runs them
	// on tensor cores with float32 accumulation: relative error about 2^-8 per
	// product, the fastest setting.
	PrecisionBF16
)

func (p MatMulPrecision) String() string {
	switch p {
	case PrecisionFP32:
		return "fp32"
	case PrecisionTF32:
		return "tf32"
	case PrecisionBF16:
		return "bf16"
	}
	return "precision(?)"
}

// DeviceMemStats are a GPU device's memory counters in bytes, from its caching
// allocator.
type DeviceMemStats struct {
	InUse        int64 // bytes of live blocks (rounded up to their size class)
	PeakInUse    int64 // maximum of InUse since the last ResetPeakMem
	Reserved     int64 // bytes held from the driver: live blocks plus the cache
	PeakReserved int64 // maximum of Reserved
	RawAllocs    int64 // allocations that reached the driver
	RawFrees     int64 // blocks handed back to the driver
	CacheHits    int64 // allocations served from the cache
}

// GPUDevice is implemented by the Device that NewCUDA returns:
//
//	dev, err := tensor.NewCUDA(0)
//	gpu := dev.(tensor.GPUDevice)
//	gpu.SetMatMulPrecision(tensor.PrecisionTF32)
type GPUDevice interface {
	Device
	// MemStats returns the allocator's counters.
	MemStats() DeviceMemStats
	// ResetPeakMem sets the peak counters to the current values.
	ResetPeakMem()
	// TrimMem returns the allocator's cached free blocks to the driver.
	TrimMem() error
	// SetMatMulPrecision sets the arithmetic of every later MatMul on this
	// device (PrecisionFP32 until set); MatMulPrecision returns it.
	SetMatMulPrecision(p MatMulPrecision)
	MatMulPrecision() MatMulPrecision
	// Sync waits for every queued kernel and returns the first error one
	// raised (kernels run asynchronously; copies to the host also wait).
	Sync() error
	// Counters returns what the device did since it was opened: the host-side
	// work behind every op, to tell a kernel-bound step from an
	// overhead-bound one.
	Counters() DeviceCounters
}

// DeviceCounters counts a GPU device's driver calls and the garbage
// collections its allocator forced, since the device was opened.
type DeviceCounters struct {
	Launches  int64 // kernel launches
	Uploads   int64 // host-to-device copies
	Downloads int64 // device-to-host copies (each waits for the queued work)
	Syncs     int64 // explicit synchronisations (Sync)
	// Collections counts the runtime.GC calls the allocator made to reclaim
	// the memory of unreachable tensors (tensors not Released), and
	// CollectTime the time they blocked the caller.
	Collections int64
	CollectTime time.Duration
}

// Sub returns the counts of the interval from o to c.
func (c DeviceCounters) Sub(o DeviceCounters) DeviceCounters {
	return DeviceCounters{Launches: c.Launches - o.Launches, Uploads: c.Uploads - o.Uploads,
		Downloads: c.Downloads - o.Downloads, Syncs: c.Syncs - o.Syncs,
		Collections: c.Collections - o.Collections, CollectTime: c.CollectTime - o.CollectTime}
}
