//go:build amd64 && !noasm

// Attention kernels for AVX-512 (suffix 512) and AVX2+FMA (suffix 256).
// Contracts and the pure-Go equivalents: attn_generic.go. Score tiles are
// stored key-major with query rows across the vector lanes: row j of a
// tile holds 32 floats (128 bytes), one per query row of the block.
// Written by hand (the repetitive register blocks were expanded by a
// throwaway script); Go assembler operand order: sources first, destination last.

#include "textflag.h"

// attnConst: exp constants, 8 copies each (32 bytes, one ymm) at offset 32*i:
// clamp min -87 (below it exp returns 0), log2(e), ln2 split in a high part
// with few mantissa bits and the low rest (Cody-Waite), 1, the Cephes expf
// polynomial c5..c0 and the clamp max 88.
DATA attnConst<>+0(SB)/4, $0xc2ae0000
DATA attnConst<>+4(SB)/4, $0xc2ae0000
DATA attnConst<>+8(SB)/4, $0xc2ae0000
DATA attnConst<>+12(SB)/4, $0xc2ae0000
DATA attnConst<>+16(SB)/4, $0xc2ae0000
DATA attnConst<>+20(SB)/4, $0xc2ae0000
DATA attnConst<>+24(SB)/4, $0xc2ae0000
DATA attnConst<>+28(SB)/4, $0xc2ae0000
DATA attnConst<>+32(SB)/4, $0x3fb8aa3b
DATA attnConst<>+36(SB)/4, $0x3fb8aa3b
DATA attnConst<>+40(SB)/4, $0x3fb8aa3b
DATA attnConst<>+44(SB)/4, $0x3fb8aa3b
DATA attnConst<>+48(SB)/4, $0x3fb8aa3b
DATA attnConst<>+52(SB)/4, $0x3fb8aa3b
DATA attnConst<>+56(SB)/4, $0x3fb8aa3b
DATA attnConst<>+60(SB)/4, $0x3fb8aa3b
DATA attnConst<>+64(SB)/4, $0x3f318000
DATA attnConst<>+68(SB)/4, $0x3f318000
DATA attnConst<>+72(SB)/4, $0x3f318000
DATA attnConst<>+76(SB)/4, $0x3f318000
DATA attnConst<>+80(SB)/4, $0x3f318000
DATA attnConst<>+84(SB)/4, $0x3f318000
DATA attnConst<>+88(SB)/4, $0x3f318000
DATA attnConst<>+92(SB)/4, $0x3f318000
DATA attnConst<>+96(SB)/4, $0xb95e8083
DATA attnConst<>+100(SB)/4, $0xb95e8083
DATA attnConst<>+104(SB)/4, $0xb95e8083
DATA attnConst<>+108(SB)/4, $0xb95e8083
DATA attnConst<>+112(SB)/4, $0xb95e8083
DATA attnConst<>+116(SB)/4, $0xb95e8083
DATA attnConst<>+120(SB)/4, $0xb95e8083
DATA attnConst<>+124(SB)/4, $0xb95e8083
DATA attnConst<>+128(SB)/4, $0x3f800000
DATA attnConst<>+132(SB)/4, $0x3f800000
DATA attnConst<>+136(SB)/4, $0x3f800000
DATA attnConst<>+140(SB)/4, $0x3f800000
DATA attnConst<>+144(SB)/4, $0x3f800000
DATA attnConst<>+148(SB)/4, $0x3f800000
DATA attnConst<>+152(SB)/4, $0x3f800000
DATA attnConst<>+156(SB)/4, $0x3f800000
DATA attnConst<>+160(SB)/4, $0x39506967
DATA attnConst<>+164(SB)/4, $0x39506967
DATA attnConst<>+168(SB)/4, $0x39506967
DATA attnConst<>+172(SB)/4, $0x39506967
DATA attnConst<>+176(SB)/4, $0x39506967
DATA attnConst<>+180(SB)/4, $0x39506967
DATA attnConst<>+184(SB)/4, $0x39506967
DATA attnConst<>+188(SB)/4, $0x39506967
DATA attnConst<>+192(SB)/4, $0x3ab743ce
DATA attnConst<>+196(SB)/4, $0x3ab743ce
DATA attnConst<>+200(SB)/4, $0x3ab743ce
DATA attnConst<>+204(SB)/4, $0x3ab743ce
DATA attnConst<>+208(SB)/4, $0x3ab743ce
DATA attnConst<>+212(SB)/4, $0x3ab743ce
DATA attnConst<>+216(SB)/4, $0x3ab743ce
DATA attnConst<>+220(SB)/4, $0x3ab743ce
DATA attnConst<>+224(SB)/4, $0x3c088908
DATA attnConst<>+228(SB)/4, $0x3c088908
DATA attnConst<>+232(SB)/4, $0x3c088908
DATA attnConst<>+236(SB)/4, $0x3c088908
DATA attnConst<>+240(SB)/4, $0x3c088908
DATA attnConst<>+244(SB)/4, $0x3c088908
DATA attnConst<>+248(SB)/4, $0x3c088908
DATA attnConst<>+252(SB)/4, $0x3c088908
DATA attnConst<>+256(SB)/4, $0x3d2aa9c1
DATA attnConst<>+260(SB)/4, $0x3d2aa9c1
DATA attnConst<>+264(SB)/4, $0x3d2aa9c1
DATA attnConst<>+268(SB)/4, $0x3d2aa9c1
DATA attnConst<>+272(SB)/4, $0x3d2aa9c1
DATA attnConst<>+276(SB)/4, $0x3d2aa9c1
DATA attnConst<>+280(SB)/4, $0x3d2aa9c1
DATA attnConst<>+284(SB)/4, $0x3d2aa9c1
DATA attnConst<>+288(SB)/4, $0x3e2aaaaa
DATA attnConst<>+292(SB)/4, $0x3e2aaaaa
DATA attnConst<>+296(SB)/4, $0x3e2aaaaa
DATA attnConst<>+300(SB)/4, $0x3e2aaaaa
DATA attnConst<>+304(SB)/4, $0x3e2aaaaa
DATA attnConst<>+308(SB)/4, $0x3e2aaaaa
DATA attnConst<>+312(SB)/4, $0x3e2aaaaa
DATA attnConst<>+316(SB)/4, $0x3e2aaaaa
DATA attnConst<>+320(SB)/4, $0x3f000000
DATA attnConst<>+324(SB)/4, $0x3f000000
DATA attnConst<>+328(SB)/4, $0x3f000000
DATA attnConst<>+332(SB)/4, $0x3f000000
DATA attnConst<>+336(SB)/4, $0x3f000000
DATA attnConst<>+340(SB)/4, $0x3f000000
DATA attnConst<>+344(SB)/4, $0x3f000000
DATA attnConst<>+348(SB)/4, $0x3f000000
DATA attnConst<>+352(SB)/4, $0x42b00000
DATA attnConst<>+356(SB)/4, $0x42b00000
DATA attnConst<>+360(SB)/4, $0x42b00000
DATA attnConst<>+364(SB)/4, $0x42b00000
DATA attnConst<>+368(SB)/4, $0x42b00000
DATA attnConst<>+372(SB)/4, $0x42b00000
DATA attnConst<>+376(SB)/4, $0x42b00000
DATA attnConst<>+380(SB)/4, $0x42b00000
GLOBL attnConst<>(SB), RODATA|NOPTR, $384

// EXP512 sets Y = exp(X) on 16 lanes (X is clobbered; T, R are temporaries;
// K1 is clobbered). Needs Z26 = -87, Z27 = log2(e), Z28 = ln2hi, Z29 = ln2lo,
// Z30 = 1. x = n ln2 + r with n = round(x log2 e), |r| <= ln2/2, exp(r) by the
// Cephes degree-7 polynomial (1 + r + r^2 p(r)), scaled by 2^n with VSCALEFPS.
// Lanes with x < -87 give 0 (exp(-87) = 1.6e-38); NaN stays NaN. exp(0) = 1
// exactly. Error: about 1 ulp (attention_test.go measures it).
#define EXP512(X, Y, T, R) \
	VCMPPS $5, Z26, X, K1; \
	VMAXPS X, Z26, X; \
	VMULPS Z27, X, T; \
	VRNDSCALEPS $0, T, T; \
	VFNMADD231PS Z28, T, X; \
	VFNMADD231PS Z29, T, X; \
	VBROADCASTSS attnConst<>+160(SB), Y; \
	VFMADD213PS.BCST attnConst<>+192(SB), X, Y; \
	VFMADD213PS.BCST attnConst<>+224(SB), X, Y; \
	VFMADD213PS.BCST attnConst<>+256(SB), X, Y; \
	VFMADD213PS.BCST attnConst<>+288(SB), X, Y; \
	VFMADD213PS.BCST attnConst<>+320(SB), X, Y; \
	VMULPS X, X, R; \
	VFMADD213PS X, R, Y; \
	VADDPS Z30, Y, Y; \
	VSCALEFPS T, Y, Y; \
	VMOVAPS.Z Y, K1, Y

#define EXP512CONST \
	VBROADCASTSS attnConst<>+0(SB), Z26; \
	VBROADCASTSS attnConst<>+32(SB), Z27; \
	VBROADCASTSS attnConst<>+64(SB), Z28; \
	VBROADCASTSS attnConst<>+96(SB), Z29; \
	VBROADCASTSS attnConst<>+128(SB), Z30

// EXP256 is EXP512 on 8 lanes for AVX2 (X clobbered; T, R, M temporaries):
// 2^n is built in the exponent bits (n >= -126 for x >= -87, so the result
// stays normal), lanes with x < -87 are masked to 0, x is clamped to 88.
#define EXP256(X, Y, T, R, M) \
	VCMPPS $5, attnConst<>+0(SB), X, M; \
	VMOVUPS attnConst<>+0(SB), R; \
	VMAXPS X, R, X; \
	VMOVUPS attnConst<>+352(SB), R; \
	VMINPS X, R, X; \
	VMULPS attnConst<>+32(SB), X, T; \
	VROUNDPS $0, T, T; \
	VFNMADD231PS attnConst<>+64(SB), T, X; \
	VFNMADD231PS attnConst<>+96(SB), T, X; \
	VMOVUPS attnConst<>+160(SB), Y; \
	VFMADD213PS attnConst<>+192(SB), X, Y; \
	VFMADD213PS attnConst<>+224(SB), X, Y; \
	VFMADD213PS attnConst<>+256(SB), X, Y; \
	VFMADD213PS attnConst<>+288(SB), X, Y; \
	VFMADD213PS attnConst<>+320(SB), X, Y; \
	VMULPS X, X, R; \
	VFMADD213PS X, R, Y; \
	VADDPS attnConst<>+128(SB), Y, Y; \
	VCVTPS2DQ T, T; \
	VPSLLD $23, T, T; \
	VPADDD T, Y, Y; \
	VANDPS M, Y, Y

// func attnQK512(dst, qt, k *float32, ks, nt, d int)
// dst[j*32+l] = sum_{c<d} k[j*ks+c] * qt[c*32+l] for j < nt and the 32 lanes l
// from dst/qt: one FMA chain per element in c order (the 8-key blocks and
// the single-key tail give the same bits).
TEXT ·attnQK512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ qt+8(FP), SI
	MOVQ k+16(FP), R8
	MOVQ ks+24(FP), R9
	MOVQ nt+32(FP), CX
	MOVQ d+40(FP), DX
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
qk512blk:
	CMPQ CX, $8
	JLT qk512one
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	MOVQ SI, AX
	MOVQ R8, BX
	LEAQ (R8)(R9*4), R11
	MOVQ DX, R12
	TESTQ R12, R12
	JZ qk512blkstore
qk512blkloop:
	VMOVUPS 0(AX), Z16
	VMOVUPS 64(AX), Z17
	VBROADCASTSS (BX), Z18
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z1
	VBROADCASTSS (BX)(R9*1), Z19
	VFMADD231PS Z19, Z16, Z2
	VFMADD231PS Z19, Z17, Z3
	VBROADCASTSS (BX)(R9*2), Z20
	VFMADD231PS Z20, Z16, Z4
	VFMADD231PS Z20, Z17, Z5
	VBROADCASTSS (BX)(R10*1), Z21
	VFMADD231PS Z21, Z16, Z6
	VFMADD231PS Z21, Z17, Z7
	VBROADCASTSS (R11), Z22
	VFMADD231PS Z22, Z16, Z8
	VFMADD231PS Z22, Z17, Z9
	VBROADCASTSS (R11)(R9*1), Z23
	VFMADD231PS Z23, Z16, Z10
	VFMADD231PS Z23, Z17, Z11
	VBROADCASTSS (R11)(R9*2), Z24
	VFMADD231PS Z24, Z16, Z12
	VFMADD231PS Z24, Z17, Z13
	VBROADCASTSS (R11)(R10*1), Z25
	VFMADD231PS Z25, Z16, Z14
	VFMADD231PS Z25, Z17, Z15
	ADDQ $128, AX
	ADDQ $4, BX
	ADDQ $4, R11
	DECQ R12
	JNZ qk512blkloop
qk512blkstore:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $1024, DI
	LEAQ (R8)(R9*8), R8
	SUBQ $8, CX
	JMP qk512blk
qk512one:
	TESTQ CX, CX
	JZ qk512done
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ DX, R12
	TESTQ R12, R12
	JZ qk512onestore
qk512oneloop:
	VBROADCASTSS (BX), Z4
	VFMADD231PS 0(AX), Z4, Z0
	VFMADD231PS 64(AX), Z4, Z1
	ADDQ $128, AX
	ADDQ $4, BX
	DECQ R12
	JNZ qk512oneloop
qk512onestore:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, DI
	ADDQ R9, R8
	DECQ CX
	JMP qk512one
qk512done:
	VZEROUPPER
	RET

// func attnQK256(dst, qt, k *float32, ks, nt, d int)
// dst[j*32+l] = sum_{c<d} k[j*ks+c] * qt[c*32+l] for j < nt and the 16 lanes l
// from dst/qt: one FMA chain per element in c order (the 4-key blocks and
// the single-key tail give the same bits).
TEXT ·attnQK256(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ qt+8(FP), SI
	MOVQ k+16(FP), R8
	MOVQ ks+24(FP), R9
	MOVQ nt+32(FP), CX
	MOVQ d+40(FP), DX
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
qk256blk:
	CMPQ CX, $4
	JLT qk256one
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ DX, R12
	TESTQ R12, R12
	JZ qk256blkstore
qk256blkloop:
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VBROADCASTSS (BX), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y1
	VBROADCASTSS (BX)(R9*1), Y11
	VFMADD231PS Y11, Y8, Y2
	VFMADD231PS Y11, Y9, Y3
	VBROADCASTSS (BX)(R9*2), Y12
	VFMADD231PS Y12, Y8, Y4
	VFMADD231PS Y12, Y9, Y5
	VBROADCASTSS (BX)(R10*1), Y13
	VFMADD231PS Y13, Y8, Y6
	VFMADD231PS Y13, Y9, Y7
	ADDQ $128, AX
	ADDQ $4, BX
	DECQ R12
	JNZ qk256blkloop
qk256blkstore:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 128(DI)
	VMOVUPS Y3, 160(DI)
	VMOVUPS Y4, 256(DI)
	VMOVUPS Y5, 288(DI)
	VMOVUPS Y6, 384(DI)
	VMOVUPS Y7, 416(DI)
	ADDQ $512, DI
	LEAQ (R8)(R9*4), R8
	SUBQ $4, CX
	JMP qk256blk
qk256one:
	TESTQ CX, CX
	JZ qk256done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ DX, R12
	TESTQ R12, R12
	JZ qk256onestore
qk256oneloop:
	VBROADCASTSS (BX), Y4
	VFMADD231PS 0(AX), Y4, Y0
	VFMADD231PS 32(AX), Y4, Y1
	ADDQ $128, AX
	ADDQ $4, BX
	DECQ R12
	JNZ qk256oneloop
qk256onestore:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $128, DI
	ADDQ R9, R8
	DECQ CX
	JMP qk256one
qk256done:
	VZEROUPPER
	RET

// func attnPV512(acc, p, v *float32, vs, nt, d int)
// acc[c*32+l] += sum_{j<nt} v[j*vs+c] * p[j*32+l] for c < d and the 32 lanes
// l: one FMA chain per element in j order (8 columns at a time, then one).
TEXT ·attnPV512(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ v+16(FP), R8
	MOVQ vs+24(FP), R9
	MOVQ nt+32(FP), CX
	MOVQ d+40(FP), DX
	SHLQ $2, R9
pv512blk:
	CMPQ DX, $8
	JLT pv512one
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	VMOVUPS 512(DI), Z8
	VMOVUPS 576(DI), Z9
	VMOVUPS 640(DI), Z10
	VMOVUPS 704(DI), Z11
	VMOVUPS 768(DI), Z12
	VMOVUPS 832(DI), Z13
	VMOVUPS 896(DI), Z14
	VMOVUPS 960(DI), Z15
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ CX, R12
	TESTQ R12, R12
	JZ pv512blkstore
pv512blkloop:
	VMOVUPS 0(AX), Z16
	VMOVUPS 64(AX), Z17
	VBROADCASTSS 0(BX), Z18
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z1
	VBROADCASTSS 4(BX), Z19
	VFMADD231PS Z19, Z16, Z2
	VFMADD231PS Z19, Z17, Z3
	VBROADCASTSS 8(BX), Z20
	VFMADD231PS Z20, Z16, Z4
	VFMADD231PS Z20, Z17, Z5
	VBROADCASTSS 12(BX), Z21
	VFMADD231PS Z21, Z16, Z6
	VFMADD231PS Z21, Z17, Z7
	VBROADCASTSS 16(BX), Z22
	VFMADD231PS Z22, Z16, Z8
	VFMADD231PS Z22, Z17, Z9
	VBROADCASTSS 20(BX), Z23
	VFMADD231PS Z23, Z16, Z10
	VFMADD231PS Z23, Z17, Z11
	VBROADCASTSS 24(BX), Z24
	VFMADD231PS Z24, Z16, Z12
	VFMADD231PS Z24, Z17, Z13
	VBROADCASTSS 28(BX), Z25
	VFMADD231PS Z25, Z16, Z14
	VFMADD231PS Z25, Z17, Z15
	ADDQ $128, AX
	ADDQ R9, BX
	DECQ R12
	JNZ pv512blkloop
pv512blkstore:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $1024, DI
	ADDQ $32, R8
	SUBQ $8, DX
	JMP pv512blk
pv512one:
	TESTQ DX, DX
	JZ pv512done
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ CX, R12
	TESTQ R12, R12
	JZ pv512onestore
pv512oneloop:
	VBROADCASTSS (BX), Z4
	VFMADD231PS 0(AX), Z4, Z0
	VFMADD231PS 64(AX), Z4, Z1
	ADDQ $128, AX
	ADDQ R9, BX
	DECQ R12
	JNZ pv512oneloop
pv512onestore:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, DI
	ADDQ $4, R8
	DECQ DX
	JMP pv512one
pv512done:
	VZEROUPPER
	RET

// func attnPV256(acc, p, v *float32, vs, nt, d int)
// acc[c*32+l] += sum_{j<nt} v[j*vs+c] * p[j*32+l] for c < d and the 16 lanes
// l: one FMA chain per element in j order (4 columns at a time, then one).
TEXT ·attnPV256(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ v+16(FP), R8
	MOVQ vs+24(FP), R9
	MOVQ nt+32(FP), CX
	MOVQ d+40(FP), DX
	SHLQ $2, R9
pv256blk:
	CMPQ DX, $4
	JLT pv256one
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 128(DI), Y2
	VMOVUPS 160(DI), Y3
	VMOVUPS 256(DI), Y4
	VMOVUPS 288(DI), Y5
	VMOVUPS 384(DI), Y6
	VMOVUPS 416(DI), Y7
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ CX, R12
	TESTQ R12, R12
	JZ pv256blkstore
pv256blkloop:
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VBROADCASTSS 0(BX), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y1
	VBROADCASTSS 4(BX), Y11
	VFMADD231PS Y11, Y8, Y2
	VFMADD231PS Y11, Y9, Y3
	VBROADCASTSS 8(BX), Y12
	VFMADD231PS Y12, Y8, Y4
	VFMADD231PS Y12, Y9, Y5
	VBROADCASTSS 12(BX), Y13
	VFMADD231PS Y13, Y8, Y6
	VFMADD231PS Y13, Y9, Y7
	ADDQ $128, AX
	ADDQ R9, BX
	DECQ R12
	JNZ pv256blkloop
pv256blkstore:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 128(DI)
	VMOVUPS Y3, 160(DI)
	VMOVUPS Y4, 256(DI)
	VMOVUPS Y5, 288(DI)
	VMOVUPS Y6, 384(DI)
	VMOVUPS Y7, 416(DI)
	ADDQ $512, DI
	ADDQ $16, R8
	SUBQ $4, DX
	JMP pv256blk
pv256one:
	TESTQ DX, DX
	JZ pv256done
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	MOVQ SI, AX
	MOVQ R8, BX
	MOVQ CX, R12
	TESTQ R12, R12
	JZ pv256onestore
pv256oneloop:
	VBROADCASTSS (BX), Y4
	VFMADD231PS 0(AX), Y4, Y0
	VFMADD231PS 32(AX), Y4, Y1
	ADDQ $128, AX
	ADDQ R9, BX
	DECQ R12
	JNZ pv256oneloop
pv256onestore:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $128, DI
	ADDQ $4, R8
	DECQ DX
	JMP pv256one
pv256done:
	VZEROUPPER
	RET

// func attnPTV512(acc, w, x *float32, nb, nt4, dp int)
// acc[j*dp+c] += sum_{i<nb} w[j*32+i] * x[i*dp+c] for j < nt4 (a multiple of 4)
// and c < dp (a multiple of 16): one FMA chain per element in i order, keys
// four at a time, columns 64 at a time then 16.
TEXT ·attnPTV512(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ nb+24(FP), CX
	MOVQ dp+40(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
ptv512keys:
	MOVQ nt4+32(FP), DX
	CMPQ DX, $0
	JLE ptv512done
	SUBQ $4, DX
	MOVQ DX, nt4+32(FP)
	MOVQ DI, R11
	MOVQ R8, R13
	MOVQ R9, BX
ptv512wide:
	CMPQ BX, $256
	JLT ptv512one
	VMOVUPS 0(R11), Z0
	VMOVUPS 64(R11), Z1
	VMOVUPS 128(R11), Z2
	VMOVUPS 192(R11), Z3
	VMOVUPS 0(R11)(R9*1), Z4
	VMOVUPS 64(R11)(R9*1), Z5
	VMOVUPS 128(R11)(R9*1), Z6
	VMOVUPS 192(R11)(R9*1), Z7
	VMOVUPS 0(R11)(R9*2), Z8
	VMOVUPS 64(R11)(R9*2), Z9
	VMOVUPS 128(R11)(R9*2), Z10
	VMOVUPS 192(R11)(R9*2), Z11
	VMOVUPS 0(R11)(R10*1), Z12
	VMOVUPS 64(R11)(R10*1), Z13
	VMOVUPS 128(R11)(R10*1), Z14
	VMOVUPS 192(R11)(R10*1), Z15
	MOVQ SI, AX
	MOVQ R13, R12
	MOVQ CX, DX
	TESTQ DX, DX
	JZ ptv512widestore
ptv512wideloop:
	VMOVUPS 0(R12), Z16
	VMOVUPS 64(R12), Z17
	VMOVUPS 128(R12), Z18
	VMOVUPS 192(R12), Z19
	VBROADCASTSS 0(AX), Z20
	VFMADD231PS Z20, Z16, Z0
	VFMADD231PS Z20, Z17, Z1
	VFMADD231PS Z20, Z18, Z2
	VFMADD231PS Z20, Z19, Z3
	VBROADCASTSS 128(AX), Z21
	VFMADD231PS Z21, Z16, Z4
	VFMADD231PS Z21, Z17, Z5
	VFMADD231PS Z21, Z18, Z6
	VFMADD231PS Z21, Z19, Z7
	VBROADCASTSS 256(AX), Z22
	VFMADD231PS Z22, Z16, Z8
	VFMADD231PS Z22, Z17, Z9
	VFMADD231PS Z22, Z18, Z10
	VFMADD231PS Z22, Z19, Z11
	VBROADCASTSS 384(AX), Z23
	VFMADD231PS Z23, Z16, Z12
	VFMADD231PS Z23, Z17, Z13
	VFMADD231PS Z23, Z18, Z14
	VFMADD231PS Z23, Z19, Z15
	ADDQ $4, AX
	ADDQ R9, R12
	DECQ DX
	JNZ ptv512wideloop
ptv512widestore:
	VMOVUPS Z0, 0(R11)
	VMOVUPS Z1, 64(R11)
	VMOVUPS Z2, 128(R11)
	VMOVUPS Z3, 192(R11)
	VMOVUPS Z4, 0(R11)(R9*1)
	VMOVUPS Z5, 64(R11)(R9*1)
	VMOVUPS Z6, 128(R11)(R9*1)
	VMOVUPS Z7, 192(R11)(R9*1)
	VMOVUPS Z8, 0(R11)(R9*2)
	VMOVUPS Z9, 64(R11)(R9*2)
	VMOVUPS Z10, 128(R11)(R9*2)
	VMOVUPS Z11, 192(R11)(R9*2)
	VMOVUPS Z12, 0(R11)(R10*1)
	VMOVUPS Z13, 64(R11)(R10*1)
	VMOVUPS Z14, 128(R11)(R10*1)
	VMOVUPS Z15, 192(R11)(R10*1)
	ADDQ $256, R11
	ADDQ $256, R13
	SUBQ $256, BX
	JMP ptv512wide
ptv512one:
	CMPQ BX, $64
	JLT ptv512next
	VMOVUPS 0(R11), Z0
	VMOVUPS 0(R11)(R9*1), Z1
	VMOVUPS 0(R11)(R9*2), Z2
	VMOVUPS 0(R11)(R10*1), Z3
	MOVQ SI, AX
	MOVQ R13, R12
	MOVQ CX, DX
	TESTQ DX, DX
	JZ ptv512onestore
ptv512oneloop:
	VMOVUPS 0(R12), Z4
	VFMADD231PS.BCST 0(AX), Z4, Z0
	VFMADD231PS.BCST 128(AX), Z4, Z1
	VFMADD231PS.BCST 256(AX), Z4, Z2
	VFMADD231PS.BCST 384(AX), Z4, Z3
	ADDQ $4, AX
	ADDQ R9, R12
	DECQ DX
	JNZ ptv512oneloop
ptv512onestore:
	VMOVUPS Z0, 0(R11)
	VMOVUPS Z1, 0(R11)(R9*1)
	VMOVUPS Z2, 0(R11)(R9*2)
	VMOVUPS Z3, 0(R11)(R10*1)
	ADDQ $64, R11
	ADDQ $64, R13
	SUBQ $64, BX
	JMP ptv512one
ptv512next:
	LEAQ (DI)(R9*4), DI
	ADDQ $512, SI
	JMP ptv512keys
ptv512done:
	VZEROUPPER
	RET

// func attnPTV256(acc, w, x *float32, nb, nt4, dp int)
// acc[j*dp+c] += sum_{i<nb} w[j*32+i] * x[i*dp+c] for j < nt4 (a multiple of 4)
// and c < dp (a multiple of 16): one FMA chain per element in i order, keys
// four at a time, columns 16 at a time then 16.
TEXT ·attnPTV256(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ nb+24(FP), CX
	MOVQ dp+40(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
ptv256keys:
	MOVQ nt4+32(FP), DX
	CMPQ DX, $0
	JLE ptv256done
	SUBQ $4, DX
	MOVQ DX, nt4+32(FP)
	MOVQ DI, R11
	MOVQ R8, R13
	MOVQ R9, BX
ptv256wide:
	CMPQ BX, $64
	JLT ptv256one
	VMOVUPS 0(R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS 0(R11)(R9*1), Y2
	VMOVUPS 32(R11)(R9*1), Y3
	VMOVUPS 0(R11)(R9*2), Y4
	VMOVUPS 32(R11)(R9*2), Y5
	VMOVUPS 0(R11)(R10*1), Y6
	VMOVUPS 32(R11)(R10*1), Y7
	MOVQ SI, AX
	MOVQ R13, R12
	MOVQ CX, DX
	TESTQ DX, DX
	JZ ptv256widestore
ptv256wideloop:
	VMOVUPS 0(R12), Y8
	VMOVUPS 32(R12), Y9
	VBROADCASTSS 0(AX), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y1
	VBROADCASTSS 128(AX), Y11
	VFMADD231PS Y11, Y8, Y2
	VFMADD231PS Y11, Y9, Y3
	VBROADCASTSS 256(AX), Y12
	VFMADD231PS Y12, Y8, Y4
	VFMADD231PS Y12, Y9, Y5
	VBROADCASTSS 384(AX), Y13
	VFMADD231PS Y13, Y8, Y6
	VFMADD231PS Y13, Y9, Y7
	ADDQ $4, AX
	ADDQ R9, R12
	DECQ DX
	JNZ ptv256wideloop
ptv256widestore:
	VMOVUPS Y0, 0(R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, 0(R11)(R9*1)
	VMOVUPS Y3, 32(R11)(R9*1)
	VMOVUPS Y4, 0(R11)(R9*2)
	VMOVUPS Y5, 32(R11)(R9*2)
	VMOVUPS Y6, 0(R11)(R10*1)
	VMOVUPS Y7, 32(R11)(R10*1)
	ADDQ $64, R11
	ADDQ $64, R13
	SUBQ $64, BX
	JMP ptv256wide
ptv256one:
ptv256next:
	LEAQ (DI)(R9*4), DI
	ADDQ $512, SI
	JMP ptv256keys
ptv256done:
	VZEROUPPER
	RET

// func attnSoftmax512(st *float32, nt int, vec, acc *float32, d int)
// One online-softmax step on 16 lanes (rows of stride 128 bytes): with s, m, l
// the rows 0, 1, 2 of vec and x_j row j of st (j < nt): z_j = s*x_j,
// m' = max(m, max_j z_j), alpha = exp(m - m'), st_j = p_j = exp(z_j - m'),
// l = l*alpha + p_0 + p_1 + ..., m = m', and acc rows c < d scaled by alpha
// (exactly 1 where the maximum did not rise; 0 on the first tile, m = -Inf).
TEXT ·attnSoftmax512(SB), NOSPLIT, $0-40
	MOVQ st+0(FP), SI
	MOVQ nt+8(FP), CX
	MOVQ vec+16(FP), R8
	MOVQ acc+24(FP), DI
	MOVQ d+32(FP), DX
	EXP512CONST
	VMOVUPS (R8), Z0
	VMOVUPS 128(R8), Z1
	VMOVUPS 256(R8), Z2
	VMOVAPS Z1, Z3
	MOVQ SI, AX
	MOVQ CX, BX
	TESTQ BX, BX
	JZ sm512max
sm512scale:
	VMULPS (AX), Z0, Z4
	VMOVUPS Z4, (AX)
	VMAXPS Z4, Z3, Z3
	ADDQ $128, AX
	DECQ BX
	JNZ sm512scale
sm512max:
	VSUBPS Z3, Z1, Z5
	EXP512(Z5, Z6, Z7, Z8)
	VMULPS Z6, Z2, Z2
	MOVQ SI, AX
	MOVQ CX, BX
	TESTQ BX, BX
	JZ sm512store
sm512exp:
	VMOVUPS (AX), Z4
	VSUBPS Z3, Z4, Z4
	EXP512(Z4, Z9, Z10, Z11)
	VADDPS Z9, Z2, Z2
	VMOVUPS Z9, (AX)
	ADDQ $128, AX
	DECQ BX
	JNZ sm512exp
sm512store:
	VMOVUPS Z3, 128(R8)
	VMOVUPS Z2, 256(R8)
	TESTQ DX, DX
	JZ sm512done
sm512rescale:
	VMULPS (DI), Z6, Z4
	VMOVUPS Z4, (DI)
	ADDQ $128, DI
	DECQ DX
	JNZ sm512rescale
sm512done:
	VZEROUPPER
	RET

// func attnSoftmax256(st *float32, nt int, vec, acc *float32, d int)
// attnSoftmax512 on 8 lanes.
TEXT ·attnSoftmax256(SB), NOSPLIT, $0-40
	MOVQ st+0(FP), SI
	MOVQ nt+8(FP), CX
	MOVQ vec+16(FP), R8
	MOVQ acc+24(FP), DI
	MOVQ d+32(FP), DX
	VMOVUPS (R8), Y0
	VMOVUPS 128(R8), Y1
	VMOVUPS 256(R8), Y2
	VMOVAPS Y1, Y3
	MOVQ SI, AX
	MOVQ CX, BX
	TESTQ BX, BX
	JZ sm256max
sm256scale:
	VMULPS (AX), Y0, Y4
	VMOVUPS Y4, (AX)
	VMAXPS Y4, Y3, Y3
	ADDQ $128, AX
	DECQ BX
	JNZ sm256scale
sm256max:
	VSUBPS Y3, Y1, Y5
	EXP256(Y5, Y6, Y7, Y8, Y9)
	VMULPS Y6, Y2, Y2
	MOVQ SI, AX
	MOVQ CX, BX
	TESTQ BX, BX
	JZ sm256store
sm256exp:
	VMOVUPS (AX), Y4
	VSUBPS Y3, Y4, Y4
	EXP256(Y4, Y10, Y11, Y12, Y13)
	VADDPS Y10, Y2, Y2
	VMOVUPS Y10, (AX)
	ADDQ $128, AX
	DECQ BX
	JNZ sm256exp
sm256store:
	VMOVUPS Y3, 128(R8)
	VMOVUPS Y2, 256(R8)
	TESTQ DX, DX
	JZ sm256done
sm256rescale:
	VMULPS (DI), Y6, Y4
	VMOVUPS Y4, (DI)
	ADDQ $128, DI
	DECQ DX
	JNZ sm256rescale
sm256done:
	VZEROUPPER
	RET

// func attnGrad512(st, dp, sds *float32, nt int, vec *float32)
// The backward's elementwise step on 16 lanes (rows of stride 128 bytes): with
// s, lse, D the rows 0, 1, 2 of vec, x_j = st row j (q.k) and dP_j = dp row j
// (dout.v), for j < nt: p = exp(s*x - lse) (one FMA, so s*x is not rounded
// first), dS = p*(dP - D); st_j = p, dp_j = dS, sds_j = s*dS, and the
// dqscale sums rows 3..6 of vec += dS*x, dS, p*x, p.
TEXT ·attnGrad512(SB), NOSPLIT, $0-40
	MOVQ st+0(FP), SI
	MOVQ dp+8(FP), DI
	MOVQ sds+16(FP), DX
	MOVQ nt+24(FP), CX
	MOVQ vec+32(FP), R8
	EXP512CONST
	VMOVUPS 0(R8), Z0
	VMOVUPS 128(R8), Z1
	VMOVUPS 256(R8), Z2
	VMOVUPS 384(R8), Z3
	VMOVUPS 512(R8), Z4
	VMOVUPS 640(R8), Z5
	VMOVUPS 768(R8), Z6
	TESTQ CX, CX
	JZ gr512store
gr512loop:
	VMOVUPS (SI), Z7
	VMOVAPS Z1, Z8
	VFMSUB231PS Z7, Z0, Z8
	EXP512(Z8, Z9, Z10, Z11)
	VMOVUPS (DI), Z10
	VSUBPS Z2, Z10, Z10
	VMULPS Z10, Z9, Z11
	VFMADD231PS Z7, Z11, Z3
	VADDPS Z11, Z4, Z4
	VFMADD231PS Z7, Z9, Z5
	VADDPS Z9, Z6, Z6
	VMOVUPS Z9, (SI)
	VMOVUPS Z11, (DI)
	VMULPS Z11, Z0, Z10
	VMOVUPS Z10, (DX)
	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $128, DX
	DECQ CX
	JNZ gr512loop
gr512store:
	VMOVUPS Z3, 384(R8)
	VMOVUPS Z4, 512(R8)
	VMOVUPS Z5, 640(R8)
	VMOVUPS Z6, 768(R8)
	VZEROUPPER
	RET

// func attnGrad256(st, dp, sds *float32, nt int, vec *float32)
// attnGrad512 on 8 lanes.
TEXT ·attnGrad256(SB), NOSPLIT, $0-40
	MOVQ st+0(FP), SI
	MOVQ dp+8(FP), DI
	MOVQ sds+16(FP), DX
	MOVQ nt+24(FP), CX
	MOVQ vec+32(FP), R8
	VMOVUPS 0(R8), Y0
	VMOVUPS 128(R8), Y1
	VMOVUPS 256(R8), Y2
	VMOVUPS 384(R8), Y3
	VMOVUPS 512(R8), Y4
	VMOVUPS 640(R8), Y5
	VMOVUPS 768(R8), Y6
	TESTQ CX, CX
	JZ gr256store
gr256loop:
	VMOVUPS (SI), Y7
	VMOVAPS Y1, Y8
	VFMSUB231PS Y7, Y0, Y8
	EXP256(Y8, Y9, Y10, Y11, Y12)
	VMOVUPS (DI), Y10
	VSUBPS Y2, Y10, Y10
	VMULPS Y10, Y9, Y11
	VFMADD231PS Y7, Y11, Y3
	VADDPS Y11, Y4, Y4
	VFMADD231PS Y7, Y9, Y5
	VADDPS Y9, Y6, Y6
	VMOVUPS Y9, (SI)
	VMOVUPS Y11, (DI)
	VMULPS Y11, Y0, Y10
	VMOVUPS Y10, (DX)
	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $128, DX
	DECQ CX
	JNZ gr256loop
gr256store:
	VMOVUPS Y3, 384(R8)
	VMOVUPS Y4, 512(R8)
	VMOVUPS Y5, 640(R8)
	VMOVUPS Y6, 768(R8)
	VZEROUPPER
	RET

