//go:build amd64 && !noasm

#include "textflag.h"
#include "vec_amd64.h"

// GRADIN loads 4 elements of dy, gamma, x at byte offset off and leaves
// dy (float64) in ydy, g = dy*gamma in yg and xh = x*rs in yxh (rs in Y9).
#define GRADIN(off, ydy, yg, yxh) \
	VCVTPS2PD off(R13), ydy; VCVTPS2PD off(R8), yg; VCVTPS2PD off(AX), yxh; \
	VMULPD yg, ydy, yg; VMULPD Y9, yxh, yxh

// GRADOUT turns g, xh into rs*(g - xh*mgx) (mgx in Y8), in yg; yt is a temporary.
#define GRADOUT(yg, yxh, yt) VMULPD Y8, yxh, yt; VSUBPD yt, yg, yg; VMULPD Y9, yg, yg

// func rmsNormGradRowsAVX2(dx []float32, dg []float64, dy, x, rstd, gamma []float32, n int, nf float64)
// rmsNormGradRowsAVX512 with the vecLanes sums in four registers (lanes
// 0-3, 4-7, 8-11, 12-15) and the same tree: the same bits.
TEXT ·rmsNormGradRowsAVX2(SB), NOSPLIT, $0-160
	MOVQ dx_base+0(FP), DI
	MOVQ dy_base+48(FP), DX
	MOVQ x_base+72(FP), SI
	MOVQ rstd_base+96(FP), R10
	MOVQ rstd_len+104(FP), BX
	MOVQ n+144(FP), R9
	VMOVSD nf+152(FP), X15
	MOVQ R9, R11
	SHRQ $4, R11
	TESTQ BX, BX
	JZ done
	TESTQ R11, R11
	JZ done
row:
	VMOVSS (R10), X9
	VCVTSS2SD X9, X9, X9
	VBROADCASTSD X9, Y9
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ SI, AX
	MOVQ DX, R13
	MOVQ gamma_base+120(FP), R8
	MOVQ R11, CX
sumloop:
	GRADIN(0, Y4, Y5, Y6)
	VFMADD231PD Y6, Y5, Y0
	GRADIN(16, Y4, Y5, Y6)
	VFMADD231PD Y6, Y5, Y1
	GRADIN(32, Y4, Y5, Y6)
	VFMADD231PD Y6, Y5, Y2
	GRADIN(48, Y4, Y5, Y6)
	VFMADD231PD Y6, Y5, Y3
	ADDQ $64, R13
	ADDQ $64, R8
	ADDQ $64, AX
	DECQ CX
	JNZ sumloop
	VADDPD Y2, Y0, Y0
	VADDPD Y3, Y1, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VDIVSD X15, X0, X0
	VBROADCASTSD X0, Y8
	MOVQ SI, AX
	MOVQ DX, R13
	MOVQ gamma_base+120(FP), R8
	MOVQ R11, CX
	MOVQ dg_base+24(FP), R14
	CMPQ dg_len+32(FP), $0
	JEQ outloop
outdg:
	GRADIN(0, Y0, Y1, Y2)
	GRADIN(16, Y3, Y4, Y5)
	GRADOUT(Y1, Y2, Y6)
	GRADOUT(Y4, Y5, Y7)
	VCVTPD2PSY Y1, X1
	VCVTPD2PSY Y4, X4
	VMOVUPS X1, (DI)
	VMOVUPS X4, 16(DI)
	VMULPD Y2, Y0, Y0
	VMULPD Y5, Y3, Y3
	VADDPD (R14), Y0, Y0
	VADDPD 32(R14), Y3, Y3
	VMOVUPD Y0, (R14)
	VMOVUPD Y3, 32(R14)
	GRADIN(32, Y0, Y1, Y2)
	GRADIN(48, Y3, Y4, Y5)
	GRADOUT(Y1, Y2, Y6)
	GRADOUT(Y4, Y5, Y7)
	VCVTPD2PSY Y1, X1
	VCVTPD2PSY Y4, X4
	VMOVUPS X1, 32(DI)
	VMOVUPS X4, 48(DI)
	VMULPD Y2, Y0, Y0
	VMULPD Y5, Y3, Y3
	VADDPD 64(R14), Y0, Y0
	VADDPD 96(R14), Y3, Y3
	VMOVUPD Y0, 64(R14)
	VMOVUPD Y3, 96(R14)
	ADDQ $64, R13
	ADDQ $64, R8
	ADDQ $64, AX
	ADDQ $128, R14
	ADDQ $64, DI
	DECQ CX
	JNZ outdg
	JMP next
outloop:
	GRADIN(0, Y0, Y1, Y2)
	GRADIN(16, Y3, Y4, Y5)
	GRADOUT(Y1, Y2, Y6)
	GRADOUT(Y4, Y5, Y7)
	VCVTPD2PSY Y1, X1
	VCVTPD2PSY Y4, X4
	VMOVUPS X1, (DI)
	VMOVUPS X4, 16(DI)
	GRADIN(32, Y0, Y1, Y2)
	GRADIN(48, Y3, Y4, Y5)
	GRADOUT(Y1, Y2, Y6)
	GRADOUT(Y4, Y5, Y7)
	VCVTPD2PSY Y1, X1
	VCVTPD2PSY Y4, X4
	VMOVUPS X1, 32(DI)
	VMOVUPS X4, 48(DI)
	ADDQ $64, R13
	ADDQ $64, R8
	ADDQ $64, AX
	ADDQ $64, DI
	DECQ CX
	JNZ outloop
next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	ADDQ $4, R10
	DECQ BX
	JNZ row
done:
	VZEROUPPER
	RET
