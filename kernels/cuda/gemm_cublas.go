//go:build cuda && cublas

package cuda

// cuBLAS as the GEMM benchmarks' reference (BenchmarkGemmCuBLAS, tags
// cuda,cublas; links libcublas). gorgonia.org/cu/blas v0.9.6 wraps only the
// classic BLAS calls on Go slices (Sgemm on []float32, no cublasGemmEx, no
// bf16 or TF32 math, no stream), so bf16 and tf32 products could not be
// measured through it; this file calls cublasGemmEx directly on the
// runtime's stream instead. It is only a reference for timing: nori's GEMMs
// never go through cuBLAS.

/*
#cgo LDFLAGS: -lcublas
#include <cublas_v2.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// devPointer passes a device address to C as a void* (it is not a Go pointer,
// so cgo's pointer rules do not apply).
func devPointer(p Ptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// cublasRef is a cuBLAS handle bound to a runtime's stream.
type cublasRef struct {
	r *Runtime
	h C.cublasHandle_t
}

func cublasCheck(what string, s C.cublasStatus_t) error {
	if s == C.CUBLAS_STATUS_SUCCESS {
		return nil
	}
	return fmt.Errorf("cuda: %s: cuBLAS status %d", what, int(s))
}

// newCublasRef creates a cuBLAS handle in r's context, issuing on r's stream.
func newCublasRef(r *Runtime) (*cublasRef, error) {
	c := &cublasRef{r: r}
	err := r.do(func() error {
		if err := cublasCheck("cublasCreate", C.cublasCreate(&c.h)); err != nil {
			return err
		}
		stream := C.cudaStream_t(unsafe.Pointer(cStream(r.stream)))
		return cublasCheck("cublasSetStream", C.cublasSetStream(c.h, stream))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cublasRef) close() error {
	return c.r.do(func() error { return cublasCheck("cublasDestroy", C.cublasDestroy(c.h)) })
}

// gemm computes the row-major product of g (no epilogue beyond Alpha and
// Beta, Batch 1) with cublasGemmEx: bf16 inputs with float32 or bf16 output
// (CUBLAS_COMPUTE_32F), tf32 (CUBLAS_COMPUTE_32F_FAST_TF32) or fp32
// (CUBLAS_COMPUTE_32F). cuBLAS is column-major, so it computes
// C^T = op(B)^T op(A)^T: B first, M and N swapped.
func (c *cublasRef) gemm(g Gemm, cp, a, b Ptr) error {
	if err := g.normalize(); err != nil {
		return err
	}
	if g.Batch != 1 || g.Bias != 0 || g.Residual != 0 || g.Act != ActNone {
		return fmt.Errorf("cuda: cuBLAS reference: only plain single products")
	}
	in, out := C.cudaDataType(C.CUDA_R_32F), C.cudaDataType(C.CUDA_R_32F)
	compute := C.cublasComputeType_t(C.CUBLAS_COMPUTE_32F)
	switch g.Prec {
	case PrecBF16:
		in = C.CUDA_R_16BF
	case PrecTF32:
		compute = C.CUBLAS_COMPUTE_32F_FAST_TF32
	}
	if g.OutBF16 {
		out = C.CUDA_R_16BF
	}
	op := func(t bool) C.cublasOperation_t {
		if t {
			return C.CUBLAS_OP_T
		}
		return C.CUBLAS_OP_N
	}
	alpha, beta := C.float(g.Alpha), C.float(g.Beta)
	return c.r.do(func() error {
		return cublasCheck("cublasGemmEx", C.cublasGemmEx(c.h, op(g.TransB), op(g.TransA),
			C.int(g.N), C.int(g.M), C.int(g.K), unsafe.Pointer(&alpha),
			devPointer(b), in, C.int(g.LdB),
			devPointer(a), in, C.int(g.LdA),
			unsafe.Pointer(&beta), devPointer(cp), out, C.int(g.LdC),
			compute, C.CUBLAS_GEMM_DEFAULT))
	})
}
