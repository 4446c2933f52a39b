// Package cuda holds nori's GPU kernels and the runtime that launches them.
//
// Layout:
//   - src/*.cu: CUDA C sources, one kernel family per file. Each file opens with
//     a comment stating the algorithm, the launch shape and its measured speed.
//     Every kernel is `extern "C" __global__` and named nori_<family>_<what>, so
//     its PTX entry keeps that name. Kernel parameters are all 8 bytes wide:
//     device pointers, `long long` integers and `double` scalars (gorgonia.org/cu
//     copies every argument as 8 bytes; see engine-notes.md).
//   - ptx/*.ptx: the PTX that `make ptx` compiles from src/ with Debian's nvcc
//     11.8 for sm_80 (compute_80; the driver JIT-compiles it for sm_90). It is
//     committed and embedded (ptx.go), and `make ptx-check` fails when it is
//     stale or when a hot kernel spills registers under `ptxas -arch=sm_90`.
//   - the Go runtime (build tag cuda only, because gorgonia.org/cu calls cuInit
//     in its package init and exits the process without a GPU): Runtime
//     (context, stream, modules), the caching allocator, pinned host staging,
//     Launch, and one Go launcher per kernel family.
//
// Everything that imports gorgonia.org/cu is behind `//go:build cuda`; the
// untagged files (this one, ptx.go and the allocator's size classes) build and
// test everywhere. docs/kernels.md walks through adding a kernel.
package cuda
