//go:build amd64 && !noasm

// AVX-512 bulk kernels of the row normalisations (norm.go): lengths are
// multiples of 16; each 16-element block is converted to two vectors of 8
// doubles (elements 0-7 and 8-15), so the sums keep vecLanes' 16 lanes
// (accumulator lo = lanes 0-7, hi = lanes 8-15, read from and written back
// to the *vecLanes). The arithmetic is that of the Go functions of the same
// name (norm.go), operation for operation.

#include "textflag.h"
#include "vec_amd64.h"

// func sumSqDiffAVX512(acc *vecLanes, x []float32, mu float64)
// acc[l] += (x-mu)^2 (fused).
TEXT ·sumSqDiffAVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), AX
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	VBROADCASTSD mu+32(FP), Z9
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z2, Z3)
	VSUBPD Z9, Z2, Z2
	VSUBPD Z9, Z3, Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
	ADDQ $64, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VZEROUPPER
	RET

// func normOutAVX512(dst, x, gamma, beta []float32, mu, rs float64)
// dst = ((x-mu)*rs)*gamma + beta, rounded once.
TEXT ·normOutAVX512(SB), NOSPLIT, $0-112
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ gamma_base+48(FP), R8
	MOVQ beta_base+72(FP), R9
	VBROADCASTSD mu+96(FP), Z9
	VBROADCASTSD rs+104(FP), Z10
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z0, Z1)
	LD16_Z(R8, Z2, Z3)
	LD16_Z(R9, Z4, Z5)
	VSUBPD Z9, Z0, Z0
	VSUBPD Z9, Z1, Z1
	VMULPD Z10, Z0, Z0
	VMULPD Z10, Z1, Z1
	VMULPD Z2, Z0, Z0
	VMULPD Z3, Z1, Z1
	VADDPD Z4, Z0, Z0
	VADDPD Z5, Z1, Z1
	ST16_Z(Z0, Y0, Z1, Y1, DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func gradSumsAVX512(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64)
// g = dy*gamma, xh = (x-mu)*rs; sg[l] += g; sgx[l] += g*xh (fused).
TEXT ·gradSumsAVX512(SB), NOSPLIT, $0-104
	MOVQ sg+0(FP), AX
	MOVQ sgx+8(FP), BX
	MOVQ dy_base+16(FP), DX
	MOVQ dy_len+24(FP), CX
	MOVQ x_base+40(FP), SI
	MOVQ gamma_base+64(FP), R8
	VBROADCASTSD mu+88(FP), Z9
	VBROADCASTSD rs+96(FP), Z10
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	VMOVUPD (BX), Z5
	VMOVUPD 64(BX), Z6
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(DX, Z2, Z3)
	LD16_Z(R8, Z11, Z12)
	VMULPD Z11, Z2, Z2
	VMULPD Z12, Z3, Z3
	LD16_Z(SI, Z13, Z14)
	VSUBPD Z9, Z13, Z13
	VSUBPD Z9, Z14, Z14
	VMULPD Z10, Z13, Z13
	VMULPD Z10, Z14, Z14
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z1, Z1
	VFMADD231PD Z13, Z2, Z5
	VFMADD231PD Z14, Z3, Z6
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNZ loop
done:
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VMOVUPD Z5, (BX)
	VMOVUPD Z6, 64(BX)
	VZEROUPPER
	RET

// func normGradOutAVX512(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64)
// dx = rs*((dy*gamma - mg) - ((x-mu)*rs)*mgx), each operation rounded.
TEXT ·normGradOutAVX512(SB), NOSPLIT, $0-128
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ dy_base+24(FP), DX
	MOVQ x_base+48(FP), SI
	MOVQ gamma_base+72(FP), R8
	VBROADCASTSD mu+96(FP), Z9
	VBROADCASTSD rs+104(FP), Z10
	VBROADCASTSD mg+112(FP), Z11
	VBROADCASTSD mgx+120(FP), Z12
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(DX, Z0, Z1)
	LD16_Z(R8, Z2, Z3)
	VMULPD Z2, Z0, Z0
	VMULPD Z3, Z1, Z1
	VSUBPD Z11, Z0, Z0
	VSUBPD Z11, Z1, Z1
	LD16_Z(SI, Z4, Z5)
	VSUBPD Z9, Z4, Z4
	VSUBPD Z9, Z5, Z5
	VMULPD Z10, Z4, Z4
	VMULPD Z10, Z5, Z5
	VMULPD Z12, Z4, Z4
	VMULPD Z12, Z5, Z5
	VSUBPD Z4, Z0, Z0
	VSUBPD Z5, Z1, Z1
	VMULPD Z10, Z0, Z0
	VMULPD Z10, Z1, Z1
	ST16_Z(Z0, Y0, Z1, Y1, DI)
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func accumDGAVX512(dg []float64, dy, x []float32, mu, rs float64)
// dg += dy*((x-mu)*rs).
TEXT ·accumDGAVX512(SB), NOSPLIT, $0-88
	MOVQ dg_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ dy_len+32(FP), CX
	MOVQ x_base+48(FP), SI
	VBROADCASTSD mu+72(FP), Z9
	VBROADCASTSD rs+80(FP), Z10
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z0, Z1)
	VSUBPD Z9, Z0, Z0
	VSUBPD Z9, Z1, Z1
	VMULPD Z10, Z0, Z0
	VMULPD Z10, Z1, Z1
	LD16_Z(DX, Z2, Z3)
	VMULPD Z2, Z0, Z0
	VMULPD Z3, Z1, Z1
	VADDPD (DI), Z0, Z0
	VADDPD 64(DI), Z1, Z1
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $128, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func accumDBAVX512(db []float64, dy []float32)
// db += dy.
TEXT ·accumDBAVX512(SB), NOSPLIT, $0-48
	MOVQ db_base+0(FP), DI
	MOVQ dy_base+24(FP), DX
	MOVQ dy_len+32(FP), CX
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(DX, Z0, Z1)
	VADDPD (DI), Z0, Z0
	VADDPD 64(DI), Z1, Z1
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	ADDQ $64, DX
	ADDQ $128, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func rmsNormRowsAVX512(dst, rstd, x, gamma []float32, n int, nf, eps float64)
// RMSNorm forward over len(rstd) whole rows of n (any n >= 1; the last
// n%16 of a row under mask K1, zeros beyond the row): per row, the sum of
// squares in vecLanes order (float64, fused), its fixed tree, rs =
// 1/sqrt(ss/nf + eps) in float64, rstd = float32(rs), then dst =
// (x*rs32)*gamma in float32. One call per block of rows: no per-row call
// or Go tree (rmsRowGo is the same arithmetic).
TEXT ·rmsNormRowsAVX512(SB), NOSPLIT, $0-120
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
	MOVQ R9, R12
	ANDQ $15, R12
	MOVQ R9, R11
	SHRQ $4, R11
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	TESTQ BX, BX
	JZ done
row:
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	MOVQ SI, DX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ sstail
ssloop:
	VCVTPS2PD (DX), Z2
	VCVTPS2PD 32(DX), Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
	ADDQ $64, DX
	DECQ CX
	JNZ ssloop
sstail:
	TESTQ R12, R12
	JZ sstree
	VMOVUPS.Z (DX), K1, Z4
	VCVTPS2PD Y4, Z2
	VEXTRACTF32X8 $1, Z4, Y5
	VCVTPS2PD Y5, Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
sstree:
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
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
	VBROADCASTSS X0, Z6
	MOVQ SI, DX
	MOVQ R8, AX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ outtail
outloop:
	VMULPS (DX), Z6, Z2
	VMULPS (AX), Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, DX
	ADDQ $64, AX
	ADDQ $64, DI
	DECQ CX
	JNZ outloop
outtail:
	TESTQ R12, R12
	JZ next
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z (AX), K1, Z3
	VMULPS Z6, Z2, Z2
	VMULPS Z3, Z2, Z2
	VMOVUPS Z2, K1, (DI)
	LEAQ (DI)(R12*4), DI
next:
	LEAQ (SI)(R9*4), SI
	ADDQ $4, R10
	DECQ BX
	JNZ row
done:
	VZEROUPPER
	RET
