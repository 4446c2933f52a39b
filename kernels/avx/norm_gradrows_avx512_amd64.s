//go:build amd64 && !noasm

#include "textflag.h"
#include "vec_amd64.h"

// func rmsNormGradRowsAVX512(dx []float32, dg []float64, dy, x, rstd, gamma []float32, n int, nf float64)
// RMSNorm backward over len(rstd) whole rows of n (n a multiple of 16, the
// Go driver checks), one call per block of rows. Per row, rs =
// float64(rstd): pass 1 sums g*xh (g = dy*gamma, xh = x*rs, float64,
// fused) in vecLanes order and reduces them with vecLanes' tree, mgx =
// sum/nf; pass 2 writes dx = float32(rs*(g - xh*mgx)) and, when len(dg) >
// 0, adds dy*xh to dg. The arithmetic of normRowGrad (norm.go) with mean
// 0 and no mean(g) term, operation for operation, so the bits are the
// Generic level's.
TEXT ·rmsNormGradRowsAVX512(SB), NOSPLIT, $0-160
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
	VBROADCASTSD X9, Z9
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	MOVQ SI, AX
	MOVQ DX, R13
	MOVQ gamma_base+120(FP), R8
	MOVQ R11, CX
sumloop:
	VCVTPS2PD (R13), Z2
	VCVTPS2PD 32(R13), Z3
	VCVTPS2PD (R8), Z4
	VCVTPS2PD 32(R8), Z5
	VCVTPS2PD (AX), Z6
	VCVTPS2PD 32(AX), Z7
	VMULPD Z4, Z2, Z2
	VMULPD Z5, Z3, Z3
	VMULPD Z9, Z6, Z6
	VMULPD Z9, Z7, Z7
	VFMADD231PD Z6, Z2, Z0
	VFMADD231PD Z7, Z3, Z1
	ADDQ $64, R13
	ADDQ $64, R8
	ADDQ $64, AX
	DECQ CX
	JNZ sumloop
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VDIVSD X15, X0, X0
	VBROADCASTSD X0, Z8
	MOVQ SI, AX
	MOVQ DX, R13
	MOVQ gamma_base+120(FP), R8
	MOVQ R11, CX
	MOVQ dg_base+24(FP), R14
	CMPQ dg_len+32(FP), $0
	JEQ outloop
outdg:
	VCVTPS2PD (R13), Z12
	VCVTPS2PD 32(R13), Z13
	VCVTPS2PD (R8), Z4
	VCVTPS2PD 32(R8), Z5
	VCVTPS2PD (AX), Z6
	VCVTPS2PD 32(AX), Z7
	VMULPD Z4, Z12, Z2
	VMULPD Z5, Z13, Z3
	VMULPD Z9, Z6, Z6
	VMULPD Z9, Z7, Z7
	VMULPD Z8, Z6, Z10
	VMULPD Z8, Z7, Z11
	VSUBPD Z10, Z2, Z2
	VSUBPD Z11, Z3, Z3
	VMULPD Z9, Z2, Z2
	VMULPD Z9, Z3, Z3
	VMULPD Z6, Z12, Z12
	VMULPD Z7, Z13, Z13
	VADDPD (R14), Z12, Z12
	VADDPD 64(R14), Z13, Z13
	VMOVUPD Z12, (R14)
	VMOVUPD Z13, 64(R14)
	ST16_Z(Z2, Y2, Z3, Y3, DI)
	ADDQ $64, R13
	ADDQ $64, R8
	ADDQ $64, AX
	ADDQ $128, R14
	ADDQ $64, DI
	DECQ CX
	JNZ outdg
	JMP next
outloop:
	VCVTPS2PD (R13), Z2
	VCVTPS2PD 32(R13), Z3
	VCVTPS2PD (R8), Z4
	VCVTPS2PD 32(R8), Z5
	VCVTPS2PD (AX), Z6
	VCVTPS2PD 32(AX), Z7
	VMULPD Z4, Z2, Z2
	VMULPD Z5, Z3, Z3
	VMULPD Z9, Z6, Z6
	VMULPD Z9, Z7, Z7
	VMULPD Z8, Z6, Z10
	VMULPD Z8, Z7, Z11
	VSUBPD Z10, Z2, Z2
	VSUBPD Z11, Z3, Z3
	VMULPD Z9, Z2, Z2
	VMULPD Z9, Z3, Z3
	ST16_Z(Z2, Y2, Z3, Y3, DI)
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
