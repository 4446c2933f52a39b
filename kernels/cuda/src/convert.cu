// convert.cu: float32 <-> bfloat16 conversions.
//
// Algorithm: one thread per element, grid-stride loop. float32 -> bf16 rounds
// to nearest even (NaN stays NaN, overflow goes to Inf), exactly as
// tensor.BF16FromFloat32 on the CPU; bf16 -> float32 is exact (a shift).
// Launch: block 256, grid min(ceil(n/256), 32 x SMs).
// Measured speed: not yet run on a GPU (no GPU lent to the sessions that wrote it).
#include <cuda_bf16.h>

extern "C" __global__ void nori_convert_f32_to_bf16(__nv_bfloat16 *dst, const float *src, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        dst[i] = __float2bfloat16_rn(src[i]);
    }
}

extern "C" __global__ void nori_convert_bf16_to_f32(float *dst, const __nv_bfloat16 *src, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        dst[i] = __bfloat162float(src[i]);
    }
}
