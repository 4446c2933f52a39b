//go:build amd64 && !noasm

#include "textflag.h"

// Elementwise float32 kernels, AVX2 (ymm). They move three streams per
// element and are memory-bound, so 512-bit vectors would not help; the
// AVX-512 level uses them too. Each covers the largest multiple of 8 (the
// float64 ones: 4) of n and leaves the tail to the Go caller (binary.go).
// An IEEE single add, subtract or multiply rounds the same in every lane as
// in Go, so the results equal the reference ref.Binary bit for bit; dst may
// be a or b (in place), not a shifted view of them.

// Each kernel is one of three loops, stamped out by a macro per shape.

// VEC(name, op): dst = a op b, 32 floats per iteration, then 8.
#define VEC(name, op) \
TEXT name(SB), NOSPLIT, $0-32 \
	MOVQ n+0(FP), CX \
	MOVQ dst+8(FP), DI \
	MOVQ a+16(FP), SI \
	MOVQ b+24(FP), DX \
loop32: \
	CMPQ CX, $32 \
	JL   loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	op (DX), Y0, Y0 \
	op 32(DX), Y1, Y1 \
	op 64(DX), Y2, Y2 \
	op 96(DX), Y3, Y3 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DX \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JL   done \
	VMOVUPS (SI), Y0 \
	op (DX), Y0, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DX \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
done: \
	VZEROUPPER \
	RET

// SCALAR(name, op): dst = a op s, s broadcast to every lane.
#define SCALAR(name, op) \
TEXT name(SB), NOSPLIT, $0-28 \
	MOVQ n+0(FP), CX \
	MOVQ dst+8(FP), DI \
	MOVQ a+16(FP), SI \
	VBROADCASTSS s+24(FP), Y4 \
loop32: \
	CMPQ CX, $32 \
	JL   loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	op Y4, Y0, Y0 \
	op Y4, Y1, Y1 \
	op Y4, Y2, Y2 \
	op Y4, Y3, Y3 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JL   done \
	VMOVUPS (SI), Y0 \
	op Y4, Y0, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
done: \
	VZEROUPPER \
	RET

// WIDE(name, op): dst = float32(float64(a) op p), 4 lanes widened to
// float64 per ymm, rounded once on the way back (16 floats, then 4).
#define WIDE(name, op) \
TEXT name(SB), NOSPLIT, $0-32 \
	MOVQ n+0(FP), CX \
	MOVQ dst+8(FP), DI \
	MOVQ a+16(FP), SI \
	VBROADCASTSD p+24(FP), Y4 \
loop16: \
	CMPQ CX, $16 \
	JL   loop4 \
	VCVTPS2PD (SI), Y0 \
	VCVTPS2PD 16(SI), Y1 \
	VCVTPS2PD 32(SI), Y2 \
	VCVTPS2PD 48(SI), Y3 \
	op Y4, Y0, Y0 \
	op Y4, Y1, Y1 \
	op Y4, Y2, Y2 \
	op Y4, Y3, Y3 \
	VCVTPD2PSY Y0, X0 \
	VCVTPD2PSY Y1, X1 \
	VCVTPD2PSY Y2, X2 \
	VCVTPD2PSY Y3, X3 \
	VMOVUPS X0, (DI) \
	VMOVUPS X1, 16(DI) \
	VMOVUPS X2, 32(DI) \
	VMOVUPS X3, 48(DI) \
	ADDQ $64, SI \
	ADDQ $64, DI \
	SUBQ $16, CX \
	JMP  loop16 \
loop4: \
	CMPQ CX, $4 \
	JL   done \
	VCVTPS2PD (SI), Y0 \
	op Y4, Y0, Y0 \
	VCVTPD2PSY Y0, X0 \
	VMOVUPS X0, (DI) \
	ADDQ $16, SI \
	ADDQ $16, DI \
	SUBQ $4, CX \
	JMP  loop4 \
done: \
	VZEROUPPER \
	RET

// func addAVX2(n int, dst, a, b *float32)
VEC(·addAVX2, VADDPS)

// func subAVX2(n int, dst, a, b *float32): VSUBPS m, y, y is y - m, so a - b
VEC(·subAVX2, VSUBPS)

// func mulAVX2(n int, dst, a, b *float32)
VEC(·mulAVX2, VMULPS)

// func addScalarAVX2(n int, dst, a *float32, s float32)
SCALAR(·addScalarAVX2, VADDPS)

// func subScalarAVX2(n int, dst, a *float32, s float32)
SCALAR(·subScalarAVX2, VSUBPS)

// func mulScalarAVX2(n int, dst, a *float32, s float32)
SCALAR(·mulScalarAVX2, VMULPS)

// func scale64AVX2(n int, dst, a *float32, p float64): p * x
WIDE(·scale64AVX2, VMULPD)

// func addScalar64AVX2(n int, dst, a *float32, p float64): x + p
WIDE(·addScalar64AVX2, VADDPD)
