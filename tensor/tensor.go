package tensor

import (
	"fmt"
	"strings"
)

// Tensor is an n-dimensional view of a Storage: a shape, a stride per
// dimension (in elements, 0 for a broadcast dimension) and an offset. Views
// (Reshape, Permute, Slice, Expand, ...) share storage and never copy.
//
// A Tensor is not safe for concurrent mutation; concurrent reads are fine.
type Tensor struct {
	shape   Shape
	strides []int
	offset  int
	st      Storage
}

// New returns a zero-filled contiguous tensor on dev.
func New(dev Device, dt DType, shape ...int) *Tensor {
	checkDims("New", shape)
	s := Shape(shape).Clone()
	return &Tensor{shape: s, strides: contiguousStrides(s), st: dev.Alloc(dt, s.Numel())}
}

// Zeros returns a zero-filled float32 tensor on the CPU.
func Zeros(shape ...int) *Tensor { return New(CPU, Float32, shape...) }

// Full returns a float32 CPU tensor with every element v.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	if v != 0 {
		t.Backend().Fill(t, float64(v))
	}
	return t
}

// FromSlice returns a float32 CPU tensor of the given shape holding a copy of data.
func FromSlice(data []float32, shape ...int) *Tensor {
	checkLen("FromSlice", len(data), shape)
	t := Zeros(shape...)
	copy(t.st.(*cpuStorage).f32, data)
	return t
}

// FromFloat64s returns a float64 CPU tensor of the given shape holding a copy of data.
func FromFloat64s(data []float64, shape ...int) *Tensor {
	checkLen("FromFloat64s", len(data), shape)
	t := New(CPU, Float64, shape...)
	copy(t.st.(*cpuStorage).f64, data)
	return t
}

// FromBF16 returns a bfloat16 CPU tensor of the given shape holding a copy of
// the raw bfloat16 bits in data.
func FromBF16(data []uint16, shape ...int) *Tensor {
	checkLen("FromBF16", len(data), shape)
	t := New(CPU, BFloat16, shape...)
	copy(t.st.(*cpuStorage).u16, data)
	return t
}

// Scalar returns a 0-d float32 CPU tensor.
func Scalar(v float32) *Tensor { return FromSlice([]float32{v}) }

func checkLen(op string, n int, shape []int) {
	checkDims(op, shape)
	if Shape(shape).Numel() != n {
		panic(fmt.Sprintf("tensor.%s: %d values for shape %v (%d elements)", op, n, Shape(shape), Shape(shape).Numel()))
	}
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() Shape { return t.shape }

// Strides returns the strides in elements. The caller must not modify them.
func (t *Tensor) Strides() []int { return t.strides }

// Offset returns the index of the first element in the storage.
func (t *Tensor) Offset() int { return t.offset }

// Storage returns the underlying storage.
func (t *Tensor) Storage() Storage { return t.st }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of axis i (negative counts from the end).
func (t *Tensor) Dim(i int) int { return t.shape[normAxis("Dim", i, len(t.shape))] }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return t.shape.Numel() }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.st.DType() }

// Device returns the device holding the storage.
func (t *Tensor) Device() Device { return t.st.Device() }

// Backend returns the kernels of the tensor's device.
func (t *Tensor) Backend() Backend { return t.st.Device().Backend() }

// IsContiguous reports whether the elements are laid out row-major without
// gaps (dimensions of size 1 may have any stride).
func (t *Tensor) IsContiguous() bool {
	acc := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != acc {
			return false
		}
		acc *= t.shape[i]
	}
	return true
}

// Float32s returns the elements in row-major order as a new float32 slice
// (converting and copying to the host as needed).
func (t *Tensor) Float32s() []float32 {
	c := t
	if c.DType() != Float32 || !c.IsContiguous() || c.Device().Kind() != CPUKind {
		c = c.To(CPU, Float32)
	}
	return append([]float32(nil), c.st.(*cpuStorage).f32[c.offset:c.offset+c.Numel()]...)
}

// Float64s returns the elements in row-major order as a new float64 slice.
func (t *Tensor) Float64s() []float64 {
	c := t
	if c.DType() != Float64 || !c.IsContiguous() || c.Device().Kind() != CPUKind {
		c = c.To(CPU, Float64)
	}
	return append([]float64(nil), c.st.(*cpuStorage).f64[c.offset:c.offset+c.Numel()]...)
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float64 {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("tensor.Item: tensor of shape %v has %d elements, want 1", t.shape, t.Numel()))
	}
	return t.Float64s()[0]
}

// At returns the element at the given index (slow; for tests and debugging).
func (t *Tensor) At(idx ...int) float64 {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.At: %d indices for shape %v", len(idx), t.shape))
	}
	off := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor.At: index %v out of range for shape %v", idx, t.shape))
		}
		off += x * t.strides[i]
	}
	v := t.Device().Download(t.st, off, 1)
	switch d := v.(type) {
	case []float32:
		return float64(d[0])
	case []float64:
		return d[0]
	case []uint16:
		return float64(BF16ToF32(d[0]))
	}
	panic("tensor.At: unknown storage")
}

// To returns a contiguous copy of t on dev with dtype dt (always a new tensor).
func (t *Tensor) To(dev Device, dt DType) *Tensor {
	if dev == t.Device() {
		out := empty(dev, dt, t.shape...) // Copy writes every element
		dev.Backend().Copy(out, t)
		return out
	}
	// Cross-device: stage through a contiguous host copy in t's dtype.
	src := t
	if !src.IsContiguous() || src.offset != 0 {
		src = t.To(t.Device(), t.DType())
	}
	host := t.Device().Download(src.st, 0, src.Numel())
	same := New(dev, t.DType(), t.shape...)
	dev.Upload(same.st, 0, host)
	if dt == t.DType() {
		return same
	}
	return same.To(dev, dt)
}

// Contiguous returns t itself when it is already contiguous, else a
// contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t on the same device with the same dtype.
func (t *Tensor) Clone() *Tensor { return t.To(t.Device(), t.DType()) }

// CopyFrom copies src (same shape, any dtype and strides) into t, which may be
// a view.
func (t *Tensor) CopyFrom(src *Tensor) {
	if !t.shape.Equal(src.shape) {
		panic(fmt.Sprintf("tensor.CopyFrom: shapes %v and %v differ", t.shape, src.shape))
	}
	sameDevice("CopyFrom", t, src)
	t.Backend().Copy(t, src)
}

// Release hands the storage of t back to its device for reuse. Only call it
// on a tensor that owns its storage (created by New or an op, not a view) and
// that nothing reads any more.
func (t *Tensor) Release() {
	if t == nil || t.st == nil {
		return
	}
	t.Device().Free(t.st)
	t.st = nil
}

func sameDevice(op string, ts ...*Tensor) {
	for _, x := range ts[1:] {
		if x != nil && x.Device() != ts[0].Device() {
			panic(fmt.Sprintf("tensor.%s: tensors on %v and %v", op, ts[0].Device(), x.Device()))
		}
	}
}

// String prints the shape, dtype and up to 64 values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v %v", t.shape, t.DType())
	vals := t.Float64s()
	if len(vals) > 64 {
		vals = vals[:64]
	}
	fmt.Fprintf(&b, " %v", vals)
	if t.Numel() > 64 {
		b.WriteString("...")
	}
	return b.String()
}
