//go:build amd64 && !noasm

// AVX-512 multi-row LayerNorm forward (layernorm.go): LayerNorm's row
// arithmetic (norm.go), operation for operation, over whole rows of any n
// >= 1 (the last n%16 of a row under mask K1, split into K2/K3 for its two
// halves of 8 doubles): per row the vecLanes sum of x (float64) and its
// tree, mu = sum/nf, the vecLanes sum of (x-mu)^2 (fused) and its tree,
// rs = 1/sqrt(ss/nf + eps), mean = float32(mu), rstd = float32(rs), then
// dst = float32(((x-mu)*rs)*gamma + beta) in float64. One call per block of
// rows: no per-row calls or Go trees.

#include "textflag.h"
#include "vec_amd64.h"

// LNTREE reduces the vecLanes sums Z0 (lanes 0-7), Z1 (8-15) into X0 in
// vecLanes.tree's order.
#define LNTREE \
	VADDPD Z1, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPD Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD X1, X0, X0; \
	VPERMILPD $1, X0, X1; \
	VADDSD X1, X0, X0

// LNOUT: Z2 (floats 0-7 of the block) and Z3 (8-15) = ((x-mu)*rs)*gamma +
// beta from x in Z2/Z3, gamma in Z4/Z5, beta in Z6/Z7; packed back to 16
// floats in Z2.
#define LNOUT \
	VSUBPD Z9, Z2, Z2; \
	VSUBPD Z9, Z3, Z3; \
	VMULPD Z10, Z2, Z2; \
	VMULPD Z10, Z3, Z3; \
	VMULPD Z4, Z2, Z2; \
	VMULPD Z5, Z3, Z3; \
	VADDPD Z6, Z2, Z2; \
	VADDPD Z7, Z3, Z3; \
	VCVTPD2PS Z2, Y2; \
	VCVTPD2PS Z3, Y3; \
	VINSERTF64X4 $1, Y3, Z2, Z2

// TREE4 reduces four rows' vecLanes sums (Z0/Z1 row 0 lanes 0-7/8-15, Z2/Z3
// row 1, Z4/Z5 row 2, Z6/Z7 row 3) with vecLanes.tree's additions,
// transposed: row r's sum ends in doubles 2r and 2r+1 of Z0.
#define TREE4 \
	VADDPD Z1, Z0, Z0; \
	VADDPD Z3, Z2, Z2; \
	VADDPD Z5, Z4, Z4; \
	VADDPD Z7, Z6, Z6; \
	VSHUFF64X2 $0x44, Z2, Z0, Z1; \
	VSHUFF64X2 $0xee, Z2, Z0, Z3; \
	VADDPD Z3, Z1, Z1; \
	VSHUFF64X2 $0x44, Z6, Z4, Z5; \
	VSHUFF64X2 $0xee, Z6, Z4, Z7; \
	VADDPD Z7, Z5, Z5; \
	VSHUFF64X2 $0x88, Z5, Z1, Z0; \
	VSHUFF64X2 $0xdd, Z5, Z1, Z2; \
	VADDPD Z2, Z0, Z0; \
	VPERMILPD $0x55, Z0, Z1; \
	VADDPD Z1, Z0, Z0

// ZERO8 clears the accumulators Z0..Z7.
#define ZERO8 \
	VXORPD Z0, Z0, Z0; VXORPD Z1, Z1, Z1; VXORPD Z2, Z2, Z2; VXORPD Z3, Z3, Z3; \
	VXORPD Z4, Z4, Z4; VXORPD Z5, Z5, Z5; VXORPD Z6, Z6, Z6; VXORPD Z7, Z7, Z7

// SUM1 adds one row's 16-float block (its two halves at addr, addr32) to
// the row's lanes a, b; SQ1 adds (x - mu)^2 (fused); the T forms take the
// last n%16 floats (K2: floats 0-7, K3: 8-15).
#define SUM1(addr, addr32, a, b) \
	VCVTPS2PD addr, Z8; VCVTPS2PD addr32, Z9; VADDPD Z8, a, a; VADDPD Z9, b, b

#define SUM1T(addr, addr32, a, b) \
	VCVTPS2PD.Z addr, K2, Z8; VCVTPS2PD.Z addr32, K3, Z9; VADDPD Z8, a, a; VADDPD Z9, b, b

#define SQ1(addr, addr32, mu, a, b) \
	VCVTPS2PD addr, Z8; VCVTPS2PD addr32, Z9; VSUBPD mu, Z8, Z8; VSUBPD mu, Z9, Z9; \
	VFMADD231PD Z8, Z8, a; VFMADD231PD Z9, Z9, b

#define SQ1T(addr, addr32, mu, a, b) \
	VCVTPS2PD.Z addr, K2, Z8; VCVTPS2PD.Z addr32, K3, Z9; VSUBPD mu, Z8, Z8; VSUBPD mu, Z9, Z9; \
	VFMADD231PD Z8, Z8, K2, a; VFMADD231PD Z9, Z9, K3, b

// func layerNormRowsAVX512(dst, mean, rstd, x []float32, gb []float64, n int, nf, eps float64)
// gb holds gamma then beta as float64 (2n values; converting them once per
// call keeps 4 of the 10 conversions per 16 floats out of the rows).
TEXT ·layerNormRowsAVX512(SB), NOSPLIT, $144-144
	MOVQ dst_base+0(FP), DI
	MOVQ mean_base+24(FP), R10
	MOVQ rstd_base+48(FP), R13
	MOVQ rstd_len+56(FP), BX
	MOVQ x_base+72(FP), SI
	MOVQ gb_base+96(FP), R8
	MOVQ n+120(FP), R9
	LEAQ (R8)(R9*8), R14
	VMOVSD nf+128(FP), X15
	VMOVSD eps+136(FP), X14
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
	KMOVW AX, K2
	KSHIFTRW $8, K1, K3
	MOVQ R11, 128(SP)      // whole blocks per row
	MOVQ R9, AX
	SHLQ $2, AX
	MOVQ AX, 136(SP)       // row stride in bytes
	VBROADCASTSD X15, Z30  // nf
	VBROADCASTSD X14, Z29  // eps
	VBROADCASTSD X13, Z28  // 1.0

	// Four rows at a time: their sums, then their variances, interleaved
	// (each row's statistics are serial chains); rows%4 go to row below.
group:
	CMPQ BX, $4
	JLT rowsleft
	MOVQ 136(SP), AX
	ZERO8
	MOVQ SI, DX
	LEAQ (SI)(AX*2), R11
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ gstail
gsloop:
	SUM1((DX), 32(DX), Z0, Z1)
	SUM1((DX)(AX*1), 32(DX)(AX*1), Z2, Z3)
	SUM1((R11), 32(R11), Z4, Z5)
	SUM1((R11)(AX*1), 32(R11)(AX*1), Z6, Z7)
	ADDQ $64, DX
	ADDQ $64, R11
	DECQ CX
	JNZ gsloop
gstail:
	TESTQ R12, R12
	JZ gstree
	SUM1T((DX), 32(DX), Z0, Z1)
	SUM1T((DX)(AX*1), 32(DX)(AX*1), Z2, Z3)
	SUM1T((R11), 32(R11), Z4, Z5)
	SUM1T((R11)(AX*1), 32(R11)(AX*1), Z6, Z7)
gstree:
	TREE4
	VDIVPD Z30, Z0, Z0     // mu of row r in doubles 2r, 2r+1
	VMOVUPD Z0, (SP)
	VBROADCASTSD 0(SP), Z16
	VBROADCASTSD 16(SP), Z17
	VBROADCASTSD 32(SP), Z18
	VBROADCASTSD 48(SP), Z19
	ZERO8
	MOVQ SI, DX
	LEAQ (SI)(AX*2), R11
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ gvtail
gvloop:
	SQ1((DX), 32(DX), Z16, Z0, Z1)
	SQ1((DX)(AX*1), 32(DX)(AX*1), Z17, Z2, Z3)
	SQ1((R11), 32(R11), Z18, Z4, Z5)
	SQ1((R11)(AX*1), 32(R11)(AX*1), Z19, Z6, Z7)
	ADDQ $64, DX
	ADDQ $64, R11
	DECQ CX
	JNZ gvloop
gvtail:
	TESTQ R12, R12
	JZ gvtree
	SQ1T((DX), 32(DX), Z16, Z0, Z1)
	SQ1T((DX)(AX*1), 32(DX)(AX*1), Z17, Z2, Z3)
	SQ1T((R11), 32(R11), Z18, Z4, Z5)
	SQ1T((R11)(AX*1), 32(R11)(AX*1), Z19, Z6, Z7)
gvtree:
	TREE4
	VDIVPD Z30, Z0, Z0
	VADDPD Z29, Z0, Z0
	VSQRTPD Z0, Z0
	VDIVPD Z0, Z28, Z0     // rs of row r in doubles 2r, 2r+1
	VMOVUPD Z0, 64(SP)
	// mean, rstd as float32, then the outputs row by row
	// row 0: mean, rstd, outputs
	VCVTSD2SS 0(SP), X8, X8
	VMOVSS X8, 0(R10)
	VCVTSD2SS 64(SP), X8, X8
	VMOVSS X8, 0(R13)
	VMOVAPD Z16, Z9
	VBROADCASTSD 64(SP), Z10
	XORQ AX, AX
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ go0tail
go0loop:
	VCVTPS2PD (SI)(AX*1), Z2
	VCVTPS2PD 32(SI)(AX*1), Z3
	VMOVUPD (R8)(AX*2), Z4
	VMOVUPD 64(R8)(AX*2), Z5
	VMOVUPD (R14)(AX*2), Z6
	VMOVUPD 64(R14)(AX*2), Z7
	LNOUT
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ go0loop
go0tail:
	TESTQ R12, R12
	JZ go0next
	VCVTPS2PD.Z (SI)(AX*1), K2, Z2
	VCVTPS2PD.Z 32(SI)(AX*1), K3, Z3
	VMOVUPD.Z (R8)(AX*2), K2, Z4
	VMOVUPD.Z 64(R8)(AX*2), K3, Z5
	VMOVUPD.Z (R14)(AX*2), K2, Z6
	VMOVUPD.Z 64(R14)(AX*2), K3, Z7
	LNOUT
	VMOVUPS Z2, K1, (DI)(AX*1)
go0next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	// row 1: mean, rstd, outputs
	VCVTSD2SS 16(SP), X8, X8
	VMOVSS X8, 4(R10)
	VCVTSD2SS 80(SP), X8, X8
	VMOVSS X8, 4(R13)
	VMOVAPD Z17, Z9
	VBROADCASTSD 80(SP), Z10
	XORQ AX, AX
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ go1tail
go1loop:
	VCVTPS2PD (SI)(AX*1), Z2
	VCVTPS2PD 32(SI)(AX*1), Z3
	VMOVUPD (R8)(AX*2), Z4
	VMOVUPD 64(R8)(AX*2), Z5
	VMOVUPD (R14)(AX*2), Z6
	VMOVUPD 64(R14)(AX*2), Z7
	LNOUT
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ go1loop
go1tail:
	TESTQ R12, R12
	JZ go1next
	VCVTPS2PD.Z (SI)(AX*1), K2, Z2
	VCVTPS2PD.Z 32(SI)(AX*1), K3, Z3
	VMOVUPD.Z (R8)(AX*2), K2, Z4
	VMOVUPD.Z 64(R8)(AX*2), K3, Z5
	VMOVUPD.Z (R14)(AX*2), K2, Z6
	VMOVUPD.Z 64(R14)(AX*2), K3, Z7
	LNOUT
	VMOVUPS Z2, K1, (DI)(AX*1)
go1next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	// row 2: mean, rstd, outputs
	VCVTSD2SS 32(SP), X8, X8
	VMOVSS X8, 8(R10)
	VCVTSD2SS 96(SP), X8, X8
	VMOVSS X8, 8(R13)
	VMOVAPD Z18, Z9
	VBROADCASTSD 96(SP), Z10
	XORQ AX, AX
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ go2tail
go2loop:
	VCVTPS2PD (SI)(AX*1), Z2
	VCVTPS2PD 32(SI)(AX*1), Z3
	VMOVUPD (R8)(AX*2), Z4
	VMOVUPD 64(R8)(AX*2), Z5
	VMOVUPD (R14)(AX*2), Z6
	VMOVUPD 64(R14)(AX*2), Z7
	LNOUT
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ go2loop
go2tail:
	TESTQ R12, R12
	JZ go2next
	VCVTPS2PD.Z (SI)(AX*1), K2, Z2
	VCVTPS2PD.Z 32(SI)(AX*1), K3, Z3
	VMOVUPD.Z (R8)(AX*2), K2, Z4
	VMOVUPD.Z 64(R8)(AX*2), K3, Z5
	VMOVUPD.Z (R14)(AX*2), K2, Z6
	VMOVUPD.Z 64(R14)(AX*2), K3, Z7
	LNOUT
	VMOVUPS Z2, K1, (DI)(AX*1)
go2next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	// row 3: mean, rstd, outputs
	VCVTSD2SS 48(SP), X8, X8
	VMOVSS X8, 12(R10)
	VCVTSD2SS 112(SP), X8, X8
	VMOVSS X8, 12(R13)
	VMOVAPD Z19, Z9
	VBROADCASTSD 112(SP), Z10
	XORQ AX, AX
	MOVQ 128(SP), CX
	TESTQ CX, CX
	JZ go3tail
go3loop:
	VCVTPS2PD (SI)(AX*1), Z2
	VCVTPS2PD 32(SI)(AX*1), Z3
	VMOVUPD (R8)(AX*2), Z4
	VMOVUPD 64(R8)(AX*2), Z5
	VMOVUPD (R14)(AX*2), Z6
	VMOVUPD 64(R14)(AX*2), Z7
	LNOUT
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ go3loop
go3tail:
	TESTQ R12, R12
	JZ go3next
	VCVTPS2PD.Z (SI)(AX*1), K2, Z2
	VCVTPS2PD.Z 32(SI)(AX*1), K3, Z3
	VMOVUPD.Z (R8)(AX*2), K2, Z4
	VMOVUPD.Z 64(R8)(AX*2), K3, Z5
	VMOVUPD.Z (R14)(AX*2), K2, Z6
	VMOVUPD.Z 64(R14)(AX*2), K3, Z7
	LNOUT
	VMOVUPS Z2, K1, (DI)(AX*1)
go3next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	ADDQ $16, R10
	ADDQ $16, R13
	SUBQ $4, BX
	JMP group
rowsleft:
	MOVQ 128(SP), R11
	TESTQ BX, BX
	JZ done
row:
	// mean
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	MOVQ SI, DX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ stail
sloop:
	VCVTPS2PD (DX), Z2
	VCVTPS2PD 32(DX), Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z1, Z1
	ADDQ $64, DX
	DECQ CX
	JNZ sloop
stail:
	TESTQ R12, R12
	JZ stree
	VCVTPS2PD.Z (DX), K2, Z2
	VCVTPS2PD.Z 32(DX), K3, Z3
	VADDPD Z2, Z0, Z0
	VADDPD Z3, Z1, Z1
stree:
	LNTREE
	VDIVSD X15, X0, X0
	VBROADCASTSD X0, Z9    // mu
	VCVTSD2SS X0, X0, X0
	VMOVSS X0, (R10)
	// variance
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	MOVQ SI, DX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ vtail
vloop:
	VCVTPS2PD (DX), Z2
	VCVTPS2PD 32(DX), Z3
	VSUBPD Z9, Z2, Z2
	VSUBPD Z9, Z3, Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
	ADDQ $64, DX
	DECQ CX
	JNZ vloop
vtail:
	TESTQ R12, R12
	JZ vtree
	VCVTPS2PD.Z (DX), K2, Z2
	VCVTPS2PD.Z 32(DX), K3, Z3
	VSUBPD Z9, Z2, Z2
	VSUBPD Z9, Z3, Z3
	VFMADD231PD Z2, Z2, K2, Z0
	VFMADD231PD Z3, Z3, K3, Z1
vtree:
	LNTREE
	VDIVSD X15, X0, X0
	VADDSD X14, X0, X0
	VSQRTSD X0, X0, X0
	VDIVSD X0, X13, X0
	VBROADCASTSD X0, Z10   // rs
	VCVTSD2SS X0, X0, X0
	VMOVSS X0, (R13)
	// output (AX: byte offset into the row; 2*AX into gamma and beta)
	XORQ AX, AX
	MOVQ R11, CX
	TESTQ CX, CX
	JZ otail
oloop:
	VCVTPS2PD (SI)(AX*1), Z2
	VCVTPS2PD 32(SI)(AX*1), Z3
	VMOVUPD (R8)(AX*2), Z4
	VMOVUPD 64(R8)(AX*2), Z5
	VMOVUPD (R14)(AX*2), Z6
	VMOVUPD 64(R14)(AX*2), Z7
	LNOUT
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ oloop
otail:
	TESTQ R12, R12
	JZ next
	VCVTPS2PD.Z (SI)(AX*1), K2, Z2
	VCVTPS2PD.Z 32(SI)(AX*1), K3, Z3
	VMOVUPD.Z (R8)(AX*2), K2, Z4
	VMOVUPD.Z 64(R8)(AX*2), K3, Z5
	VMOVUPD.Z (R14)(AX*2), K2, Z6
	VMOVUPD.Z 64(R14)(AX*2), K3, Z7
	LNOUT
	VMOVUPS Z2, K1, (DI)(AX*1)
next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	ADDQ $4, R10
	ADDQ $4, R13
	DECQ BX
	JNZ row
done:
	VZEROUPPER
	RET
