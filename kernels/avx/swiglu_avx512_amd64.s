//go:build amd64 && !noasm

// AVX-512 SwiGLU forward and backward (swiglu.go; logistic macro in
// exp_amd64.h): 16 floats per iteration, one masked iteration (K1) for the
// last len%16.

#include "textflag.h"
#include "exp_amd64.h"

// SWIGLU_Z: Z1 = ((g*su)*u)*2^sc for g in Z0, u in Z3.
#define SWIGLU_Z \
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); \
	VMULPS Z0, Z4, Z4; \
	VMULPS Z3, Z4, Z4; \
	VSCALEFPS Z6, Z4, Z1

// SWIGLUGRAD_Z: g Z0, u Z3, dy Z2 -> dgate Z10 = ((dy*u)*(su*(1+g*oms)))*2^sc,
// dup Z11 = ((dy*g)*su)*2^sc.
#define SWIGLUGRAD_Z \
	LOGISTIC_Z(Z0, Z4, Z5, Z6, Z7, Z8); \
	VFMADD213PS Z25, Z0, Z5; \
	VMULPS Z5, Z4, Z5; \
	VMULPS Z3, Z2, Z9; \
	VMULPS Z9, Z5, Z5; \
	VSCALEFPS Z6, Z5, Z10; \
	VMULPS Z0, Z2, Z9; \
	VMULPS Z4, Z9, Z9; \
	VSCALEFPS Z6, Z9, Z11

// func swigluAVX512(dst, gate, up []float32)
TEXT ·swigluAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ gate_base+24(FP), SI
	MOVQ up_base+48(FP), DX
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	SWIGLU_Z
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
	SWIGLU_Z
	VMOVUPS Z1, K1, (DI)
done:
	VZEROUPPER
	RET

// func swigluGradAVX512(dgate, dup, dy, gate, up []float32)
TEXT ·swigluGradAVX512(SB), NOSPLIT, $0-120
	MOVQ dgate_base+0(FP), DI
	MOVQ dgate_len+8(FP), CX
	MOVQ dup_base+24(FP), R8
	MOVQ dy_base+48(FP), BX
	MOVQ gate_base+72(FP), SI
	MOVQ up_base+96(FP), DX
	EXP_CONSTS_Z
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z3
	VMOVUPS (BX), Z2
	SWIGLUGRAD_Z
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, (R8)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	ADDQ $64, R8
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	TAILMASK_Z(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z3
	VMOVUPS.Z (BX), K1, Z2
	SWIGLUGRAD_Z
	VMOVUPS Z10, K1, (DI)
	VMOVUPS Z11, K1, (R8)
done:
	VZEROUPPER
	RET
