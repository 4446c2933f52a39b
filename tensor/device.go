package tensor

// DeviceKind names a family of devices.
type DeviceKind uint8

const (
	// CPUKind is host memory and the pure-Go (later SIMD) kernels.
	CPUKind DeviceKind = iota
	// CUDAKind is an NVIDIA GPU driven through kernels/cuda (build tag cuda).
	CUDAKind
)

// Device is where a tensor's storage lives and which kernels run its ops.
//
// Every op validates shapes in this package, allocates its output on the
// inputs' device and then calls the device's Backend, so a new device only
// has to provide storage and a Backend. Mixing devices in one op panics.
type Device interface {
	Kind() DeviceKind
	String() string
	// Alloc returns zero-filled storage for n elements of dt. It may reuse
	// memory returned through Free.
	Alloc(dt DType, n int) Storage
	// Free hands storage back for reuse. The caller guarantees that no
	// tensor still reads it.
	Free(s Storage)
	// Backend returns the kernels of this device.
	Backend() Backend
	// Upload copies host float32/float64/uint16 data into s starting at
	// element off; Download copies n elements from element off of s into a
	// new host slice of s's dtype ([]float32, []float64 or []uint16).
	Upload(s Storage, off int, data any)
	Download(s Storage, off, n int) any
}

// Storage is a flat buffer of one dtype on one device. Tensors are views of
// storage: a storage may back many tensors with different shapes and strides.
type Storage interface {
	Device() Device
	DType() DType
	Len() int
}
