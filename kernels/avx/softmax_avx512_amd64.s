//go:build amd64 && !noasm

// AVX-512 row kernels of softmax.go. Bulk kernels take multiples of 16
// elements; expSubSum and logSoftmaxGradOut take any length (one masked
// iteration, K1, for the last len%16). Float64 sums keep vecLanes' 16
// lanes: accumulator lo = lanes 0-7 (elements 16q..16q+7), hi = lanes 8-15.

#include "textflag.h"
#include "exp_amd64.h"

// ACC16_Z adds the 16 floats of z (converted to double) to the lane
// accumulators Z14 (lanes 0-7) and Z15 (8-15); clobbers Z12, Z13, Y13.
#define ACC16_Z(z, y) \
	VCVTPS2PD y, Z12; \
	VEXTRACTF64X4 $1, z, Y13; \
	VCVTPS2PD Y13, Z13; \
	VADDPD Z12, Z14, Z14; \
	VADDPD Z13, Z15, Z15

// EXPSUB_Z: Z1 = exp(x - m) for x in Z0, with Z30 = -m and Z31 = m-128:
// xc = max(x, m-128) (NaN passes), s = xc - m and its rounding error e by
// TwoSum, then exp(s) with e added to the reduced argument r.
#define EXPSUB_Z \
	VMAXPS Z0, Z31, Z0; \
	VADDPS Z30, Z0, Z2; \
	VSUBPS Z0, Z2, Z3; \
	VSUBPS Z3, Z2, Z4; \
	VSUBPS Z4, Z0, Z4; \
	VSUBPS Z3, Z30, Z3; \
	VADDPS Z3, Z4, Z4; \
	VMAXPS Z2, Z26, Z2; \
	VMINPS Z2, Z27, Z2; \
	VMULPS Z16, Z2, Z5; \
	VRNDSCALEPS $0, Z5, Z5; \
	VFNMADD231PS Z17, Z5, Z2; \
	VFNMADD231PS Z18, Z5, Z2; \
	VADDPS Z4, Z2, Z2; \
	VMOVAPS Z19, Z1; \
	VFMADD213PS Z20, Z2, Z1; \
	VFMADD213PS Z21, Z2, Z1; \
	VFMADD213PS Z22, Z2, Z1; \
	VFMADD213PS Z23, Z2, Z1; \
	VFMADD213PS Z24, Z2, Z1; \
	VFMADD213PS Z25, Z2, Z1; \
	VFMADD213PS Z25, Z2, Z1; \
	VSCALEFPS Z5, Z1, Z1

// func rowMaxAVX512(x []float32) float32
// Maximum of a bulk row (x as VMAXPS's second source: a NaN element may or
// may not win; the callers' exp sums turn NaN rows into NaN anyway).
TEXT ·rowMaxAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	SHRQ $4, CX
	DECQ CX
	JZ reduce
loop:
	VMOVUPS (SI), Z1
	VMAXPS Z1, Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ loop
reduce:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expSubSumAVX512(acc *vecLanes, dst, x []float32, m float32)
// dst[j] = exp(x[j]-m) (skipped when dst is nil); acc lanes += dst[j].
TEXT ·expSubSumAVX512(SB), NOSPLIT, $0-60
	MOVQ acc+0(FP), R10
	MOVQ dst_base+8(FP), DI
	MOVQ x_base+32(FP), SI
	MOVQ x_len+40(FP), CX
	EXP_CONSTS_Z
	VBROADCASTSS m+56(FP), Z29
	VPXORD Z28, Z29, Z30
	VSUBPS.BCST ·vconst+VC_C128(SB), Z29, Z31
	VMOVUPD (R10), Z14
	VMOVUPD 64(R10), Z15
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	EXPSUB_Z
	TESTQ DI, DI
	JZ nostore
	VMOVUPS Z1, (DI)
	ADDQ $64, DI
nostore:
	ACC16_Z(Z1, Y1)
	ADDQ $64, SI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	EXPSUB_Z
	VMOVAPS.Z Z1, K1, Z1
	TESTQ DI, DI
	JZ tailsum
	VMOVUPS Z1, K1, (DI)
tailsum:
	ACC16_Z(Z1, Y1)
done:
	VMOVUPD Z14, (R10)
	VMOVUPD Z15, 64(R10)
	VZEROUPPER
	RET

// func sub2F64AVX512(dst, x []float32, a, b float64)
// dst = (x - a) - b in double, rounded once.
TEXT ·sub2F64AVX512(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSD a+48(FP), Z9
	VBROADCASTSD b+56(FP), Z10
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z0, Z1)
	VSUBPD Z9, Z0, Z0
	VSUBPD Z9, Z1, Z1
	VSUBPD Z10, Z0, Z0
	VSUBPD Z10, Z1, Z1
	ST16_Z(Z0, Y0, Z1, Y1, DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func dotAVX512(acc *vecLanes, a, b []float32)
// acc[l] += a*b (fused).
TEXT ·dotAVX512(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ a_base+8(FP), SI
	MOVQ a_len+16(FP), CX
	MOVQ b_base+32(FP), DX
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z2, Z3)
	LD16_Z(DX, Z4, Z5)
	VFMADD231PD Z4, Z2, Z0
	VFMADD231PD Z5, Z3, Z1
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ loop
done:
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VZEROUPPER
	RET

// func sumAVX512(acc *vecLanes, x []float32)
// acc[l] += x.
TEXT ·sumAVX512(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), AX
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z2, Z3)
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z1, Z1
	ADDQ $64, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VZEROUPPER
	RET

// func softmaxGradOutAVX512(dx, y, dy []float32, s float64)
// dx = y*(dy - s) in double, rounded once.
TEXT ·softmaxGradOutAVX512(SB), NOSPLIT, $0-80
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ y_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	VBROADCASTSD s+72(FP), Z9
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(DX, Z0, Z1)
	LD16_Z(SI, Z2, Z3)
	VSUBPD Z9, Z0, Z0
	VSUBPD Z9, Z1, Z1
	VMULPD Z2, Z0, Z0
	VMULPD Z3, Z1, Z1
	ST16_Z(Z0, Y0, Z1, Y1, DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// LSMGRAD_Z: Z1 = float32(dy - double(exp(y))*s) for y in Z0, dy in Z3,
// s in Z9 (doubles).
#define LSMGRAD_Z \
	EXPP_Z(Z0, Z1, Z2); \
	VSCALEFPS Z2, Z1, Z1; \
	VCVTPS2PD Y1, Z4; \
	VEXTRACTF64X4 $1, Z1, Y5; \
	VCVTPS2PD Y5, Z5; \
	VCVTPS2PD Y3, Z6; \
	VEXTRACTF64X4 $1, Z3, Y7; \
	VCVTPS2PD Y7, Z7; \
	VMULPD Z9, Z4, Z4; \
	VMULPD Z9, Z5, Z5; \
	VSUBPD Z4, Z6, Z6; \
	VSUBPD Z5, Z7, Z7; \
	VCVTPD2PS Z6, Y1; \
	VCVTPD2PS Z7, Y7; \
	VINSERTF64X4 $1, Y7, Z1, Z1

// func logSoftmaxGradOutAVX512(dx, y, dy []float32, s float64)
// dx = dy - exp(y)*s (exp in float32, the rest in double, rounded once).
TEXT ·logSoftmaxGradOutAVX512(SB), NOSPLIT, $0-80
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ y_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	EXP_CONSTS_Z
	VBROADCASTSD s+72(FP), Z9
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	LSMGRAD_Z
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z3
	LSMGRAD_Z
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET
