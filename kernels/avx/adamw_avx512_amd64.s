//go:build amd64 && !noasm

// AVX-512 AdamW (adamw.go): ref.AdamW's float64 arithmetic on 8 elements
// per vector, 16 per iteration; the length is a multiple of 16.

#include "textflag.h"

// ADAM8_Z: the step for the 8 floats at byte offset off of SI (p), DX
// (grad), R8 (m), R9 (v). Constants: Z20 b1, Z21 1-b1, Z22 b2, Z23 1-b2,
// Z24 bc1, Z25 bc2, Z26 lr, Z27 eps, Z28 lr*wd.
#define ADAM8_Z(off) \
	VCVTPS2PD off(DX), Z0; \
	VCVTPS2PD off(R8), Z1; \
	VMULPD Z20, Z1, Z1; \
	VMULPD Z21, Z0, Z2; \
	VADDPD Z2, Z1, Z1; \
	VCVTPD2PS Z1, Y1; \
	VMOVUPS Y1, off(R8); \
	VCVTPS2PD Y1, Z1; \
	VCVTPS2PD off(R9), Z3; \
	VMULPD Z22, Z3, Z3; \
	VMULPD Z23, Z0, Z2; \
	VMULPD Z0, Z2, Z2; \
	VADDPD Z2, Z3, Z3; \
	VCVTPD2PS Z3, Y3; \
	VMOVUPS Y3, off(R9); \
	VCVTPS2PD Y3, Z3; \
	VDIVPD Z24, Z1, Z1; \
	VMULPD Z26, Z1, Z1; \
	VDIVPD Z25, Z3, Z3; \
	VSQRTPD Z3, Z3; \
	VADDPD Z27, Z3, Z3; \
	VDIVPD Z3, Z1, Z1; \
	VCVTPS2PD off(SI), Z4; \
	VMULPD Z28, Z4, Z5; \
	VADDPD Z5, Z1, Z1; \
	VSUBPD Z1, Z4, Z4; \
	VCVTPD2PS Z4, Y4; \
	VMOVUPS Y4, off(SI)

// func adamwAVX512(p, grad, m, v []float32, k *adamK)
TEXT ·adamwAVX512(SB), NOSPLIT, $0-104
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ grad_base+24(FP), DX
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ k+96(FP), AX
	VBROADCASTSD 0(AX), Z20
	VBROADCASTSD 8(AX), Z21
	VBROADCASTSD 16(AX), Z22
	VBROADCASTSD 24(AX), Z23
	VBROADCASTSD 32(AX), Z24
	VBROADCASTSD 40(AX), Z25
	VBROADCASTSD 48(AX), Z26
	VBROADCASTSD 56(AX), Z27
	VBROADCASTSD 64(AX), Z28
	SHRQ $4, CX
	JZ done
loop:
	ADAM8_Z(0)
	ADAM8_Z(32)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
