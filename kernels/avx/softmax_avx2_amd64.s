//go:build amd64 && !noasm

// AVX2 row kernels of softmax.go (see softmax_avx512_amd64.s). Float64
// sums keep vecLanes' 16 lanes in four registers of 4 doubles: the kernels
// that sum step through 16 elements as two halves of 8 (lanes 0-7, 8-15).

#include "textflag.h"
#include "exp_amd64.h"

// EXPSUB_Y: Y1 = exp(x - m) for x in Y0, with Y13 = -m and Y14 = m-128
// (see EXPSUB_Z); clobbers Y0, Y2..Y7.
#define EXPSUB_Y \
	VMAXPS Y0, Y14, Y0; \
	VADDPS Y13, Y0, Y2; \
	VSUBPS Y0, Y2, Y3; \
	VSUBPS Y3, Y2, Y4; \
	VSUBPS Y4, Y0, Y4; \
	VSUBPS Y3, Y13, Y3; \
	VADDPS Y3, Y4, Y4; \
	VMOVUPS VCY(VC_LO), Y5; \
	VMAXPS Y2, Y5, Y2; \
	VMOVUPS VCY(VC_HI), Y5; \
	VMINPS Y2, Y5, Y2; \
	VMULPS VCY(VC_LOG2E), Y2, Y5; \
	VROUNDPS $0, Y5, Y5; \
	VFNMADD231PS VCY(VC_LN2HI), Y5, Y2; \
	VFNMADD231PS VCY(VC_LN2LO), Y5, Y2; \
	VADDPS Y4, Y2, Y2; \
	VMOVUPS VCY(VC_C7), Y1; \
	VFMADD213PS VCY(VC_C6), Y2, Y1; \
	VFMADD213PS VCY(VC_C5), Y2, Y1; \
	VFMADD213PS VCY(VC_C4), Y2, Y1; \
	VFMADD213PS VCY(VC_C3), Y2, Y1; \
	VFMADD213PS VCY(VC_C2), Y2, Y1; \
	VFMADD213PS VCY(VC_ONE), Y2, Y1; \
	VFMADD213PS VCY(VC_ONE), Y2, Y1; \
	SCALE_Y(Y1, Y5, Y1, Y6, Y7)

// ACC8_Y adds the 8 floats of Y1 (as doubles) to lane registers a, b.
#define ACC8_Y(a, b) \
	VCVTPS2PD X1, Y2; \
	VEXTRACTF128 $1, Y1, X3; \
	VCVTPS2PD X3, Y3; \
	VADDPD Y2, a, a; \
	VADDPD Y3, b, b

// EXPHALF_Y: exp of the 8 floats at (SI) into (DI) (unless DI is nil) and
// lanes a, b; advances SI and DI by 32 bytes.
#define EXPHALF_Y(a, b) \
	VMOVUPS (SI), Y0; \
	EXPSUB_Y; \
	TESTQ DI, DI; \
	JZ 2(PC); \
	VMOVUPS Y1, (DI); \
	ACC8_Y(a, b); \
	ADDQ $32, SI; \
	ADDQ $32, DI

// MASKHALF_Y: as EXPHALF_Y for the last CX < 8 floats (mask Y15; the
// inactive lanes are zeroed before the sum).
#define MASKHALF_Y(a, b) \
	TAILMASK_Y(Y15); \
	VMASKMOVPS (SI), Y15, Y0; \
	EXPSUB_Y; \
	VANDPS Y15, Y1, Y1; \
	TESTQ DI, DI; \
	JZ 2(PC); \
	VMASKMOVPS Y1, Y15, (DI); \
	ACC8_Y(a, b)

// func expSubSumAVX2(acc *vecLanes, dst, x []float32, m float32)
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-60
	MOVQ acc+0(FP), R10
	MOVQ dst_base+8(FP), DI
	MOVQ x_base+32(FP), SI
	MOVQ x_len+40(FP), CX
	VBROADCASTSS m+56(FP), Y12
	VXORPS VCY(VC_SIGN), Y12, Y13
	VSUBPS VCY(VC_C128), Y12, Y14
	VMOVUPD (R10), Y8
	VMOVUPD 32(R10), Y9
	VMOVUPD 64(R10), Y10
	VMOVUPD 96(R10), Y11
loop:
	CMPQ CX, $16
	JLT tail
	EXPHALF_Y(Y8, Y9)
	EXPHALF_Y(Y10, Y11)
	SUBQ $16, CX
	JMP loop
tail:
	CMPQ CX, $8
	JLT last
	EXPHALF_Y(Y8, Y9)
	SUBQ $8, CX
	JZ done
	MASKHALF_Y(Y10, Y11)
	JMP done
last:
	TESTQ CX, CX
	JZ done
	MASKHALF_Y(Y8, Y9)
done:
	VMOVUPD Y8, (R10)
	VMOVUPD Y9, 32(R10)
	VMOVUPD Y10, 64(R10)
	VMOVUPD Y11, 96(R10)
	VZEROUPPER
	RET

// func rowMaxAVX2(x []float32) float32
TEXT ·rowMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	ADDQ $64, SI
	SHRQ $4, CX
	DECQ CX
	JZ reduce
loop:
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VMAXPS Y2, Y0, Y0
	VMAXPS Y3, Y1, Y1
	ADDQ $64, SI
	DECQ CX
	JNZ loop
reduce:
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

// func sub2F64AVX2(dst, x []float32, a, b float64)
TEXT ·sub2F64AVX2(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSD a+48(FP), Y14
	VBROADCASTSD b+56(FP), Y15
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y0, Y1, Y2, Y3)
	VSUBPD Y14, Y0, Y0
	VSUBPD Y14, Y1, Y1
	VSUBPD Y14, Y2, Y2
	VSUBPD Y14, Y3, Y3
	VSUBPD Y15, Y0, Y0
	VSUBPD Y15, Y1, Y1
	VSUBPD Y15, Y2, Y2
	VSUBPD Y15, Y3, Y3
	ST16_Y(Y0, X0, Y1, X1, Y2, X2, Y3, X3, DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func dotAVX2(acc *vecLanes, a, b []float32)
TEXT ·dotAVX2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ a_base+8(FP), SI
	MOVQ a_len+16(FP), CX
	MOVQ b_base+32(FP), DX
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y4, Y5, Y6, Y7)
	LD16_Y(DX, Y8, Y9, Y10, Y11)
	VFMADD231PD Y8, Y4, Y0
	VFMADD231PD Y9, Y5, Y1
	VFMADD231PD Y10, Y6, Y2
	VFMADD231PD Y11, Y7, Y3
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VZEROUPPER
	RET

// func sumAVX2(acc *vecLanes, x []float32)
TEXT ·sumAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), AX
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y4, Y5, Y6, Y7)
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VADDPD Y6, Y2, Y2
	VADDPD Y7, Y3, Y3
	ADDQ $64, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VZEROUPPER
	RET

// func softmaxGradOutAVX2(dx, y, dy []float32, s float64)
TEXT ·softmaxGradOutAVX2(SB), NOSPLIT, $0-80
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ y_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	VBROADCASTSD s+72(FP), Y15
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(DX, Y0, Y1, Y2, Y3)
	LD16_Y(SI, Y4, Y5, Y6, Y7)
	VSUBPD Y15, Y0, Y0
	VSUBPD Y15, Y1, Y1
	VSUBPD Y15, Y2, Y2
	VSUBPD Y15, Y3, Y3
	VMULPD Y4, Y0, Y0
	VMULPD Y5, Y1, Y1
	VMULPD Y6, Y2, Y2
	VMULPD Y7, Y3, Y3
	ST16_Y(Y0, X0, Y1, X1, Y2, X2, Y3, X3, DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// LSMGRAD_Y: Y1 = float32(dy - double(exp(y))*s) for y in Y0, dy in Y3, s
// in Y9 (doubles); clobbers Y2, Y4..Y7.
#define LSMGRAD_Y \
	EXPP_Y(Y0, Y1, Y2, Y4); \
	SCALE_Y(Y1, Y2, Y1, Y4, Y5); \
	VCVTPS2PD X1, Y4; \
	VEXTRACTF128 $1, Y1, X5; \
	VCVTPS2PD X5, Y5; \
	VCVTPS2PD X3, Y6; \
	VEXTRACTF128 $1, Y3, X7; \
	VCVTPS2PD X7, Y7; \
	VMULPD Y9, Y4, Y4; \
	VMULPD Y9, Y5, Y5; \
	VSUBPD Y4, Y6, Y6; \
	VSUBPD Y5, Y7, Y7; \
	VCVTPD2PSY Y6, X1; \
	VCVTPD2PSY Y7, X7; \
	VINSERTF128 $1, X7, Y1, Y1

// func logSoftmaxGradOutAVX2(dx, y, dy []float32, s float64)
TEXT ·logSoftmaxGradOutAVX2(SB), NOSPLIT, $0-80
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ y_base+24(FP), SI
	MOVQ dy_base+48(FP), DX
	VBROADCASTSD s+72(FP), Y9
loop:
	CMPQ CX, $8
	JLT tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y3
	LSMGRAD_Y
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
	LSMGRAD_Y
	VMASKMOVPS Y1, Y15, (DI)
done:
	VZEROUPPER
	RET
