//go:build amd64 && !noasm

// AVX2 bulk kernels of the row normalisations (norm.go; see
// norm_avx512_amd64.s): lengths are multiples of 16; each 16-element block
// is four vectors of 4 doubles, so the vecLanes accumulators are four
// registers (lanes 0-3, 4-7, 8-11, 12-15) and every level gives the same
// bits.

#include "textflag.h"
#include "vec_amd64.h"

// func sumSqDiffAVX2(acc *vecLanes, x []float32, mu float64)
TEXT ·sumSqDiffAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), AX
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	VBROADCASTSD mu+32(FP), Y15
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y4, Y5, Y6, Y7)
	VSUBPD Y15, Y4, Y4
	VSUBPD Y15, Y5, Y5
	VSUBPD Y15, Y6, Y6
	VSUBPD Y15, Y7, Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
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

// func normOutAVX2(dst, x, gamma, beta []float32, mu, rs float64)
TEXT ·normOutAVX2(SB), NOSPLIT, $0-112
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ gamma_base+48(FP), R8
	MOVQ beta_base+72(FP), R9
	VBROADCASTSD mu+96(FP), Y14
	VBROADCASTSD rs+104(FP), Y15
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y0, Y1, Y2, Y3)
	LD16_Y(R8, Y4, Y5, Y6, Y7)
	LD16_Y(R9, Y8, Y9, Y10, Y11)
	VSUBPD Y14, Y0, Y0
	VSUBPD Y14, Y1, Y1
	VSUBPD Y14, Y2, Y2
	VSUBPD Y14, Y3, Y3
	VMULPD Y15, Y0, Y0
	VMULPD Y15, Y1, Y1
	VMULPD Y15, Y2, Y2
	VMULPD Y15, Y3, Y3
	VMULPD Y4, Y0, Y0
	VMULPD Y5, Y1, Y1
	VMULPD Y6, Y2, Y2
	VMULPD Y7, Y3, Y3
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	VADDPD Y10, Y2, Y2
	VADDPD Y11, Y3, Y3
	ST16_Y(Y0, X0, Y1, X1, Y2, X2, Y3, X3, DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// GS8: the gradSums step for 8 elements at byte offset off: dy (DX), gamma
// (R8), x (SI) -> sg lanes a, b and sgx lanes c, d.
#define GS8(off, a, b, c, d) \
	VCVTPS2PD off(DX), Y8; \
	VCVTPS2PD off+16(DX), Y9; \
	VCVTPS2PD off(R8), Y10; \
	VCVTPS2PD off+16(R8), Y11; \
	VMULPD Y10, Y8, Y8; \
	VMULPD Y11, Y9, Y9; \
	VCVTPS2PD off(SI), Y12; \
	VCVTPS2PD off+16(SI), Y13; \
	VSUBPD Y14, Y12, Y12; \
	VSUBPD Y14, Y13, Y13; \
	VMULPD Y15, Y12, Y12; \
	VMULPD Y15, Y13, Y13; \
	VADDPD Y8, a, a; \
	VADDPD Y9, b, b; \
	VFMADD231PD Y12, Y8, c; \
	VFMADD231PD Y13, Y9, d

// func gradSumsAVX2(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64)
TEXT ·gradSumsAVX2(SB), NOSPLIT, $0-104
	MOVQ sg+0(FP), AX
	MOVQ sgx+8(FP), BX
	MOVQ dy_base+16(FP), DX
	MOVQ dy_len+24(FP), CX
	MOVQ x_base+40(FP), SI
	MOVQ gamma_base+64(FP), R8
	VBROADCASTSD mu+88(FP), Y14
	VBROADCASTSD rs+96(FP), Y15
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	VMOVUPD (BX), Y4
	VMOVUPD 32(BX), Y5
	VMOVUPD 64(BX), Y6
	VMOVUPD 96(BX), Y7
	SHRQ $4, CX
	JZ done
loop:
	GS8(0, Y0, Y1, Y4, Y5)
	GS8(32, Y2, Y3, Y6, Y7)
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VMOVUPD Y4, (BX)
	VMOVUPD Y5, 32(BX)
	VMOVUPD Y6, 64(BX)
	VMOVUPD Y7, 96(BX)
	VZEROUPPER
	RET

// func normGradOutAVX2(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64)
TEXT ·normGradOutAVX2(SB), NOSPLIT, $0-128
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ dy_base+24(FP), DX
	MOVQ x_base+48(FP), SI
	MOVQ gamma_base+72(FP), R8
	VBROADCASTSD mu+96(FP), Y12
	VBROADCASTSD rs+104(FP), Y13
	VBROADCASTSD mg+112(FP), Y14
	VBROADCASTSD mgx+120(FP), Y15
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(DX, Y0, Y1, Y2, Y3)
	LD16_Y(R8, Y4, Y5, Y6, Y7)
	VMULPD Y4, Y0, Y0
	VMULPD Y5, Y1, Y1
	VMULPD Y6, Y2, Y2
	VMULPD Y7, Y3, Y3
	VSUBPD Y14, Y0, Y0
	VSUBPD Y14, Y1, Y1
	VSUBPD Y14, Y2, Y2
	VSUBPD Y14, Y3, Y3
	LD16_Y(SI, Y8, Y9, Y10, Y11)
	VSUBPD Y12, Y8, Y8
	VSUBPD Y12, Y9, Y9
	VSUBPD Y12, Y10, Y10
	VSUBPD Y12, Y11, Y11
	VMULPD Y13, Y8, Y8
	VMULPD Y13, Y9, Y9
	VMULPD Y13, Y10, Y10
	VMULPD Y13, Y11, Y11
	VMULPD Y15, Y8, Y8
	VMULPD Y15, Y9, Y9
	VMULPD Y15, Y10, Y10
	VMULPD Y15, Y11, Y11
	VSUBPD Y8, Y0, Y0
	VSUBPD Y9, Y1, Y1
	VSUBPD Y10, Y2, Y2
	VSUBPD Y11, Y3, Y3
	VMULPD Y13, Y0, Y0
	VMULPD Y13, Y1, Y1
	VMULPD Y13, Y2, Y2
	VMULPD Y13, Y3, Y3
	ST16_Y(Y0, X0, Y1, X1, Y2, X2, Y3, X3, DI)
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func accumDGAVX2(dg []float64, dy, x []float32, mu, rs float64)
TEXT ·accumDGAVX2(SB), NOSPLIT, $0-88
	MOVQ dg_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ dy_len+32(FP), CX
	MOVQ x_base+48(FP), SI
	VBROADCASTSD mu+72(FP), Y14
	VBROADCASTSD rs+80(FP), Y15
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y0, Y1, Y2, Y3)
	VSUBPD Y14, Y0, Y0
	VSUBPD Y14, Y1, Y1
	VSUBPD Y14, Y2, Y2
	VSUBPD Y14, Y3, Y3
	VMULPD Y15, Y0, Y0
	VMULPD Y15, Y1, Y1
	VMULPD Y15, Y2, Y2
	VMULPD Y15, Y3, Y3
	LD16_Y(DX, Y4, Y5, Y6, Y7)
	VMULPD Y4, Y0, Y0
	VMULPD Y5, Y1, Y1
	VMULPD Y6, Y2, Y2
	VMULPD Y7, Y3, Y3
	VADDPD (DI), Y0, Y0
	VADDPD 32(DI), Y1, Y1
	VADDPD 64(DI), Y2, Y2
	VADDPD 96(DI), Y3, Y3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $128, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func accumDBAVX2(db []float64, dy []float32)
TEXT ·accumDBAVX2(SB), NOSPLIT, $0-48
	MOVQ db_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ dy_len+32(FP), CX
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(DX, Y0, Y1, Y2, Y3)
	VADDPD (DI), Y0, Y0
	VADDPD 32(DI), Y1, Y1
	VADDPD 64(DI), Y2, Y2
	VADDPD 96(DI), Y3, Y3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ $64, DX
	ADDQ $128, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func rmsNormRowsAVX2(dst, rstd, x, gamma []float32, n int, nf, eps float64)
// rmsNormRowsAVX512 for n a multiple of 16 (the Go driver checks): the
// vecLanes sums in four registers (lanes 0-3, 4-7, 8-11, 12-15), the same
// tree ((0-3 + 8-11) + (4-7 + 12-15), then halves), the same float32
// output products.
TEXT ·rmsNormRowsAVX2(SB), NOSPLIT, $0-120
	MOVQ dst_base+0(FP), DI
	MOVQ rstd_base+24(FP), R10
	MOVQ rstd_len+32(FP), BX
	MOVQ x_base+48(FP), SI
	MOVQ gamma_base+72(FP), R8
	MOVQ n+96(FP), R9
	VMOVSD nf+104(FP), X15
	VMOVSD eps+112(FP), X14
	MOVQ $0x3ff0000000000000, AX
	VMOVQ AX, X13
	MOVQ R9, R11
	SHRQ $4, R11
	TESTQ BX, BX
	JZ done
	TESTQ R11, R11
	JZ done
row:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ SI, DX
	MOVQ R11, CX
ssloop:
	LD16_Y(DX, Y4, Y5, Y6, Y7)
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ $64, DX
	DECQ CX
	JNZ ssloop
	VADDPD Y2, Y0, Y0
	VADDPD Y3, Y1, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VDIVSD X15, X0, X0
	VADDSD X14, X0, X0
	VSQRTSD X0, X0, X0
	VDIVSD X0, X13, X0
	VCVTSD2SS X0, X0, X0
	VMOVSS X0, (R10)
	VBROADCASTSS X0, Y12
	MOVQ SI, DX
	MOVQ R8, AX
	MOVQ R11, CX
outloop:
	VMULPS (DX), Y12, Y4
	VMULPS 32(DX), Y12, Y5
	VMULPS (AX), Y4, Y4
	VMULPS 32(AX), Y5, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, DX
	ADDQ $64, AX
	ADDQ $64, DI
	DECQ CX
	JNZ outloop
	LEAQ (SI)(R9*4), SI
	ADDQ $4, R10
	DECQ BX
	JNZ row
done:
	VZEROUPPER
	RET
