//go:build amd64 && !noasm

// AVX2 SwiGLU forward and backward (swiglu.go; see swiglu_avx512_amd64.s):
// 8 floats per iteration, one VMASKMOVPS iteration (mask in Y15, which the
// bodies leave alone) for the last len%8.

#include "textflag.h"
#include "exp_amd64.h"

#define SWIGLU_Y \
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); \
	VMULPS Y0, Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	SCALE_Y(Y4, Y6, Y1, Y9, Y10)

// g Y0, u Y3, dy Y2 -> dgate Y12, dup Y13.
#define SWIGLUGRAD_Y \
	LOGISTIC_Y(Y0, Y4, Y5, Y6, Y7, Y8, Y9, Y10); \
	VFMADD213PS VCY(VC_ONE), Y0, Y5; \
	VMULPS Y5, Y4, Y5; \
	VMULPS Y3, Y2, Y11; \
	VMULPS Y11, Y5, Y5; \
	SCALE_Y(Y5, Y6, Y12, Y9, Y10); \
	VMULPS Y0, Y2, Y11; \
	VMULPS Y4, Y11, Y11; \
	SCALE_Y(Y11, Y6, Y13, Y9, Y10)

// func swigluAVX2(dst, gate, up []float32)
TEXT ·swigluAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ gate_base+24(FP), SI
	MOVQ up_base+48(FP), DX
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	SWIGLU_Y
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
	SWIGLU_Y
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET

// func swigluGradAVX2(dgate, dup, dy, gate, up []float32)
TEXT ·swigluGradAVX2(SB), NOSPLIT, $0-120
	MOVQ dgate_base+0(FP), DI
	MOVQ dgate_len+8(FP), CX
	MOVQ dup_base+24(FP), R8
	MOVQ dy_base+48(FP), BX
	MOVQ gate_base+72(FP), SI
	MOVQ up_base+96(FP), DX
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	VMOVUPS (BX), Y2
	SWIGLUGRAD_Y
	VMOVUPS Y12, (DI)
	VMOVUPS Y13, (R8)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, BX
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $8, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Y(Y15)
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS (DX), Y15, Y3
	VMASKMOVPS (BX), Y15, Y2
	SWIGLUGRAD_Y
	VMASKMOVPS Y12, Y15, (DI)
	VMASKMOVPS Y13, Y15, (R8)
done:
	VZEROUPPER
	RET
