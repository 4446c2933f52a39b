// Package bench holds cross-implementation benchmarks: nori's kernels
// against gonum and, behind the openblas build tag (cgo, libopenblas-dev),
// against OpenBLAS, measured in the same run so ratios are meaningful on a
// loaded machine. `make bench-blas` runs the Sgemm comparison.
package bench
