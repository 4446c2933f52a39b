package tensor

import (
	"sync/atomic"

	"github.com/nori-ml/nori/kernels/avx"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The float32 GEMM of the CPU backend is pluggable: MatMul calls the Sgemm of
// the blas.Float32 set here. The default is nori's SIMD BLAS,
// avx.Implementation, when the CPU has AVX2+FMA or AVX-512 (avx.Current() !=
// Generic), else gonum's pure-Go implementation.
//
// How MatMul calls it (cpu_matmul.go):
//   - a pool-aware implementation (one with a SgemmSerial method, like
//     avx.Implementation, whose Sgemm splits C over the worker pool itself
//     and gives the same bits as SgemmSerial for any worker count) gets one
//     Sgemm call per product, or, for a batch of products, the batch split
//     over the pool with one SgemmSerial call per product;
//   - any other implementation (gonum's, or one plugged in with SetBLAS32)
//     is called on tiles of C of at most gemmTileM x gemmTileN elements with
//     the inner dimension in chunks of gemmTileK (the first chunk applies
//     beta, later ones accumulate with beta = 1), the tiles of every batch
//     entry distributed over the pool, so Sgemm runs concurrently on disjoint
//     parts of C and must be safe for that. gonum's Sgemm runs serially on
//     such tiles (it only spawns goroutines for at least 4 blocks of 64x64),
//     so it does not oversubscribe the cores.
//
// Either way the work split depends only on the shapes, never on the worker
// count, or (pool-aware case) does not change the arithmetic, so any
// implementation that is itself deterministic gives bit-identical results
// for any number of workers.
//
// Float64 products do not go through BLAS: they use ref.Gemm, whose float64
// accumulation is the reference precision the float32 path is tested against,
// kept independent of whatever float32 implementation is plugged in.

type blas32Holder struct{ impl blas.Float32 }

var blas32 atomic.Pointer[blas32Holder]

func init() { SetBLAS32(nil) }

// SetBLAS32 sets the float32 BLAS used by the CPU backend's MatMul; nil
// restores the default (DefaultBLAS32). Only Sgemm (and SgemmSerial when
// present) is used. The implementation must be deterministic and safe for concurrent
// calls on disjoint outputs. Not meant to be changed while MatMul runs.
func SetBLAS32(impl blas.Float32) {
	if impl == nil {
		impl = DefaultBLAS32()
	}
	blas32.Store(&blas32Holder{impl})
}

// DefaultBLAS32 returns avx.Implementation when the SIMD kernels are usable
// (avx.Current() != avx.Generic), else gonum's gonum.Implementation.
func DefaultBLAS32() blas.Float32 {
	if avx.Current() != avx.Generic {
		return avx.Implementation{}
	}
	return gonum.Implementation{}
}

// BLAS32 returns the float32 BLAS used by the CPU backend's MatMul.
func BLAS32() blas.Float32 { return blas32.Load().impl }
