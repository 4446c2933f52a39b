//go:build amd64 && !noasm

// AVX2 AdamW (adamw.go): ref.AdamW's float64 arithmetic on 4 elements per
// vector, 16 per iteration; the length is a multiple of 16.

#include "textflag.h"

// ADAM4_Y: the step for the 4 floats at byte offset off of SI (p), DX
// (grad), R8 (m), R9 (v). Constants: Y7 b1, Y8 1-b1, Y9 b2, Y10 1-b2,
// Y11 bc1, Y12 bc2, Y13 lr, Y14 eps, Y15 lr*wd.
#define ADAM4_Y(off) \
	VCVTPS2PD off(DX), Y0; \
	VCVTPS2PD off(R8), Y1; \
	VMULPD Y7, Y1, Y1; \
	VMULPD Y8, Y0, Y2; \
	VADDPD Y2, Y1, Y1; \
	VCVTPD2PSY Y1, X1; \
	VMOVUPS X1, off(R8); \
	VCVTPS2PD X1, Y1; \
	VCVTPS2PD off(R9), Y3; \
	VMULPD Y9, Y3, Y3; \
	VMULPD Y10, Y0, Y2; \
	VMULPD Y0, Y2, Y2; \
	VADDPD Y2, Y3, Y3; \
	VCVTPD2PSY Y3, X3; \
	VMOVUPS X3, off(R9); \
	VCVTPS2PD X3, Y3; \
	VDIVPD Y11, Y1, Y1; \
	VMULPD Y13, Y1, Y1; \
	VDIVPD Y12, Y3, Y3; \
	VSQRTPD Y3, Y3; \
	VADDPD Y14, Y3, Y3; \
	VDIVPD Y3, Y1, Y1; \
	VCVTPS2PD off(SI), Y4; \
	VMULPD Y15, Y4, Y5; \
	VADDPD Y5, Y1, Y1; \
	VSUBPD Y1, Y4, Y4; \
	VCVTPD2PSY Y4, X4; \
	VMOVUPS X4, off(SI)

// func adamwAVX2(p, grad, m, v []float32, k *adamK)
TEXT ·adamwAVX2(SB), NOSPLIT, $0-104
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ grad_base+24(FP), DX
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ k+96(FP), AX
	VBROADCASTSD 0(AX), Y7
	VBROADCASTSD 8(AX), Y8
	VBROADCASTSD 16(AX), Y9
	VBROADCASTSD 24(AX), Y10
	VBROADCASTSD 32(AX), Y11
	VBROADCASTSD 40(AX), Y12
	VBROADCASTSD 48(AX), Y13
	VBROADCASTSD 56(AX), Y14
	VBROADCASTSD 64(AX), Y15
	SHRQ $4, CX
	JZ done
loop:
	ADAM4_Y(0)
	ADAM4_Y(16)
	ADAM4_Y(32)
	ADAM4_Y(48)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
