// Package tensor is nori's n-dimensional array engine.
//
// A Tensor is a strided view (shape, strides, offset) of a Storage that lives
// on a Device. Views (Reshape, Permute, Transpose, Slice, Select, Expand,
// Squeeze, Unsqueeze) share storage and never copy; Contiguous, Clone and To
// copy. Float32 is the compute type, Float64 a CPU-only reference precision
// used by gradient checks and kernel tests, and BFloat16 a storage type
// (round-to-nearest-even both ways).
//
// Ops (Add, MatMul, RMSNorm, Attention, ...; ops_*.go) validate their
// arguments, allocate outputs on the inputs' device and call that device's
// Backend (backend.go): the kernel contract a device implements. The CPU
// backend (cpu_*.go) runs the SIMD kernels of kernels/avx for float32 when
// the CPU supports them and the reference kernels of kernels/ref otherwise;
// a CUDA device implements the same contract.
//
// Work is split over the cores by the worker pool (Parallel, ReduceFloat64,
// SetWorkers) so that results are bit-identical whatever the number of
// workers; random tensors come from Philox4x32-10, element i drawn from
// counter i. Released buffers return to a size-class pool (Release,
// PoolBytes) so that training steps reuse memory.
//
// Programming errors (shapes that do not fit an op) panic with a message
// naming the op and the shapes, as gonum's mat package does.
package tensor
