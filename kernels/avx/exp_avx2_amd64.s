//go:build amd64 && !noasm

// AVX2+FMA kernels of the exp family (algorithms: exp.go; macros:
// exp_amd64.h). Each loops over 8 floats per iteration and finishes with
// one VMASKMOVPS iteration for the last len%8 (mask rebuilt after the body,
// which may use Y15). Inputs: SI (x), DX (dy); output DI.

#include "textflag.h"
#include "exp_amd64.h"

// GELU_V_Y: Y11 = x^2, Y12 = v = 2u = x*(2c + 2ck x^2).
#define GELU_V_Y VMULPS Y0, Y0, Y11; VMOVUPS VCY(VC_GELU2CK), Y12; VFMADD213PS VCY(VC_GELU2C), Y11, Y12; VMULPS Y12, Y0, Y12

#define GELUTANHGRAD_Y \
	GELU_V_Y; \
	LOGISTIC_Y(Y12, Y4, Y5, Y6, Y7, Y8, Y9, Y10); \
	VMOVUPS VCY(VC_GELU6CK), Y13; \
	VFMADD213PS VCY(VC_GELU2C), Y11, Y13; \
	VMULPS Y0, Y5, Y5; \
	VFMADD213PS VCY(VC_ONE), Y13, Y5; \
	VMULPS Y5, Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	SCALE_Y(Y4, Y6, Y1, Y9, Y10)

#define GELUERF_Y \
	ERFC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9); \
	VMULPS VCY(VC_C2), Y0, Y10; \
	VMULPS Y4, Y10, Y10; \
	SCALE_Y(Y10, Y5, Y10, Y11, Y12); \
	VSUBPS Y10, Y0, Y1; \
	VBLENDVPS Y0, Y10, Y1, Y1

#define GELUERFGRAD_Y \
	ERFC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9); \
	VMULPS VCY(VC_C2), Y4, Y10; \
	SCALE_Y(Y10, Y5, Y10, Y11, Y12); \
	VMOVUPS VCY(VC_ONE), Y13; \
	VSUBPS Y10, Y13, Y13; \
	VBLENDVPS Y0, Y10, Y13, Y13; \
	VMULPS VCY(VC_C2), Y0, Y11; \
	VMULPS Y0, Y11, Y11; \
	VXORPS VCY(VC_SIGN), Y11, Y11; \
	EXPP_Y(Y11, Y12, Y14, Y15); \
	SCALE_Y(Y12, Y14, Y12, Y15, Y11); \
	VMULPS VCY(VC_INVS2P), Y12, Y12; \
	VFMADD231PS Y12, Y0, Y13; \
	VMULPS Y3, Y13, Y1

// func expAVX2(dst, x []float32): dst[i] = exp(x[i]).
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	EXPP_Y(Y0, Y1, Y2, Y4); SCALE_Y(Y1, Y2, Y1, Y4, Y5)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	EXPP_Y(Y0, Y1, Y2, Y4); SCALE_Y(Y1, Y2, Y1, Y4, Y5)
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, x []float32): dst[i] = sigmoid(x[i]).
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func siluAVX2(dst, x []float32): dst[i] = x[i]*sigmoid(x[i]).
TEXT ·siluAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VMULPS Y0, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VMULPS Y0, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func geluTanhAVX2(dst, x []float32): dst[i] = x*sigmoid(2u), u = sqrt(2/pi)(x+0.044715x^3).
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	GELU_V_Y; LOGISTIC_Y(Y12, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VMULPS Y0, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	GELU_V_Y; LOGISTIC_Y(Y12, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VMULPS Y0, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func geluErfAVX2(dst, x []float32): dst[i] = x*Phi(x).
TEXT ·geluErfAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	GELUERF_Y
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	GELUERF_Y
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func siluGradAVX2(dx, x, dy []float32): dx[i] = dy[i] * s(1+x(1-s)).
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VFMADD213PS VCY(VC_ONE), Y0, Y5; VMULPS Y5, Y4, Y4; VMULPS Y3, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y3
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); VFMADD213PS VCY(VC_ONE), Y0, Y5; VMULPS Y5, Y4, Y4; VMULPS Y3, Y4, Y4; SCALE_Y(Y4, Y6, Y1, Y9, Y10)
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func geluTanhGradAVX2(dx, x, dy []float32): dx[i] = dy[i] * GELUTanh'(x[i]).
TEXT ·geluTanhGradAVX2(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	GELUTANHGRAD_Y
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y3
	GELUTANHGRAD_Y
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func geluErfGradAVX2(dx, x, dy []float32): dx[i] = dy[i] * (Phi(x) + x phi(x)).
TEXT ·geluErfGradAVX2(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	GELUERFGRAD_Y
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y3
	GELUERFGRAD_Y
	TAILMASK_Y(Y15)
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

