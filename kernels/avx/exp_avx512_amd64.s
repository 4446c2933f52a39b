//go:build amd64 && !noasm

// AVX-512 kernels of the exp family (algorithms: exp.go; macros:
// exp_amd64.h). Each loops over 16 floats per iteration and finishes with
// one masked iteration (K1) for the last len%16, so any length works and no
// element outside the slices is touched. Inputs: SI (x), DX (dy); output DI.

#include "textflag.h"
#include "exp_amd64.h"

// GELU_CONSTS_Z: Z29 = 2ck, Z30 = 2c, Z31 = 6ck (c = sqrt(2/pi), k = 0.044715).
#define GELU_CONSTS_Z VCZ(VC_GELU2CK, Z29); VCZ(VC_GELU2C, Z30); VCZ(VC_GELU6CK, Z31)

// GELU_V_Z: Z9 = x^2, Z10 = v = 2u = x*(2c + 2ck x^2).
#define GELU_V_Z VMULPS Z0, Z0, Z9; VMOVAPS Z29, Z10; VFMADD213PS Z30, Z9, Z10; VMULPS Z10, Z0, Z10

// GELUTANHGRAD_Z: dy * s*(1 + x(1-s)(2c + 6ck x^2)), s = sigmoid(v).
#define GELUTANHGRAD_Z \
	GELU_V_Z; \
	LOGISTIC_Z(Z10, Z4, Z5, Z6, Z7, Z8); \
	VMOVAPS Z31, Z11; \
	VFMADD213PS Z30, Z9, Z11; \
	VMULPS Z0, Z5, Z5; \
	VFMADD213PS Z25, Z11, Z5; \
	VMULPS Z5, Z4, Z4; \
	VMULPS Z3, Z4, Z4; \
	VSCALEFPS Z6, Z4, Z1

// GELUERF_Z: h = (0.5x*t*p)*2^n = x*erfc(z)/2; x < 0: h, else x - h.
#define GELUERF_Z \
	ERFC_Z(Z0, Z4, Z5, Z6, Z7, Z8); \
	VMULPS Z24, Z0, Z9; \
	VMULPS Z4, Z9, Z9; \
	VSCALEFPS Z5, Z9, Z9; \
	VSUBPS Z9, Z0, Z1; \
	VPTESTMD Z28, Z0, K2; \
	VMOVAPS Z9, K2, Z1

// GELUERFGRAD_Z: dy * (Phi + x*phi), Phi = erfc/2 (x < 0) or 1 - erfc/2,
// phi = exp(-x^2/2)/sqrt(2 pi).
#define GELUERFGRAD_Z \
	ERFC_Z(Z0, Z4, Z5, Z6, Z7, Z8); \
	VMULPS Z24, Z4, Z9; \
	VSCALEFPS Z5, Z9, Z9; \
	VSUBPS Z9, Z25, Z10; \
	VPTESTMD Z28, Z0, K2; \
	VMOVAPS Z9, K2, Z10; \
	VMULPS Z24, Z0, Z11; \
	VMULPS Z0, Z11, Z11; \
	VPXORD Z28, Z11, Z11; \
	EXPP_Z(Z11, Z12, Z13); \
	VSCALEFPS Z13, Z12, Z12; \
	VMULPS.BCST ·vconst+VC_INVS2P(SB), Z12, Z12; \
	VFMADD231PS Z12, Z0, Z10; \
	VMULPS Z3, Z10, Z1

// func expAVX512(dst, x []float32): dst[i] = exp(x[i]).
TEXT ·expAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	EXPP_Z(Z0, Z1, Z2); VSCALEFPS Z2, Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	EXPP_Z(Z0, Z1, Z2); VSCALEFPS Z2, Z1, Z1
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func sigmoidAVX512(dst, x []float32): dst[i] = sigmoid(x[i]).
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func siluAVX512(dst, x []float32): dst[i] = x[i]*sigmoid(x[i]).
TEXT ·siluAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VMULPS Z0, Z4, Z4; VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VMULPS Z0, Z4, Z4; VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func geluTanhAVX512(dst, x []float32): dst[i] = x*sigmoid(2u), u = sqrt(2/pi)(x+0.044715x^3).
TEXT ·geluTanhAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXP_CONSTS_Z
	GELU_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	GELU_V_Z; LOGISTIC_Z(Z10, Z4, Z5, Z6, Z7, Z8); VMULPS Z0, Z4, Z4; VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELU_V_Z; LOGISTIC_Z(Z10, Z4, Z5, Z6, Z7, Z8); VMULPS Z0, Z4, Z4; VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func geluErfAVX512(dst, x []float32): dst[i] = x*Phi(x).
TEXT ·geluErfAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	GELUERF_Z
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELUERF_Z
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func siluGradAVX512(dx, x, dy []float32): dx[i] = dy[i] * s(1+x(1-s)).
TEXT ·siluGradAVX512(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VFMADD213PS Z25, Z0, Z5; VMULPS Z5, Z4, Z4; VMULPS Z3, Z4, Z4; VSCALEFPS Z6, Z4, Z1
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
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); VFMADD213PS Z25, Z0, Z5; VMULPS Z5, Z4, Z4; VMULPS Z3, Z4, Z4; VSCALEFPS Z6, Z4, Z1
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func geluTanhGradAVX512(dx, x, dy []float32): dx[i] = dy[i] * GELUTanh'(x[i]).
TEXT ·geluTanhGradAVX512(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	EXP_CONSTS_Z
	GELU_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	GELUTANHGRAD_Z
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
	GELUTANHGRAD_Z
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func geluErfGradAVX512(dx, x, dy []float32): dx[i] = dy[i] * (Phi(x) + x phi(x)).
TEXT ·geluErfGradAVX512(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	GELUERFGRAD_Z
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
	GELUERFGRAD_Z
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

