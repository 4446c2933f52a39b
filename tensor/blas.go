package tensor

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The float32 GEMM of the CPU backend is pluggable: MatMul calls the Sgemm of
// the blas.Float32 set here. The default is gonum's pure-Go implementation,
// several times faster than the naive reference loop; a SIMD implementation
// can replace it at start-up.
//
// How MatMul calls it: C is cut into tiles of at most gemmTileM x gemmTileN
// elements and the inner dimension into chunks of gemmTileK (the first chunk
// applies beta, later ones accumulate with beta = 1). Tiles of every batch
// entry are distributed over the worker pool, so Sgemm is called concurrently
// on disjoint parts of C and must be safe for that. The tiling depends only
// on the shapes, never on the worker count, so any implementation that is
// itself deterministic gives bit-identical results for any number of workers.
// gonum's Sgemm runs serially on such tiles (it only spawns goroutines for
// at least 4 blocks of 64x64), so it does not oversubscribe the cores.
//
// Float64 products do not go through BLAS: they use ref.Gemm, whose float64
// accumulation is the reference precision the float32 path is tested against,
// kept independent of whatever float32 implementation is plugged in.

type blas32Holder struct{ impl blas.Float32 }

var blas32 atomic.Pointer[blas32Holder]

func init() { SetBLAS32(nil) }

// SetBLAS32 sets the float32 BLAS used by the CPU backend's MatMul; nil
// restores the default, gonum's pure-Go gonum.Implementation. Only Sgemm is
// used. The implementation must be deterministic and safe for concurrent
// calls on disjoint outputs. Not meant to be changed while MatMul runs.
func SetBLAS32(impl blas.Float32) {
	if impl == nil {
		impl = gonum.Implementation{}
	}
	blas32.Store(&blas32Holder{impl})
}

// BLAS32 returns the float32 BLAS used by the CPU backend's MatMul.
func BLAS32() blas.Float32 { return blas32.Load().impl }
