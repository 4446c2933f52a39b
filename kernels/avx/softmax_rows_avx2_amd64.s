//go:build amd64 && !noasm

// AVX2 multi-row softmax: softmaxRowsGo's arithmetic (softmax_exp.go),
// operation for operation, one row at a time over 8-float chunks (the last
// n%8 under a VMASKMOVPS mask from ·vmask8): the row's maximum and NaN
// check, its shift, the exponentials (stored to dst), their float32
// smLanes sum read back in 16-float blocks, 1/sum, and the scale. Sixteen registers
// leave no room for the AVX-512 kernel's four interleaved rows.
//
// Registers: Y15 log2(e), Y14 ln2hi, Y13 ln2lo, Y12 the row's M - k, Y11
// its threshold, Y10 its shift c, Y9 the tail mask (n%8 lanes); the
// minimax coefficients are broadcast from memory at each use.
// General: SI/DI the row, BX rows left, R8 n, R9 whole 8-float chunks,
// R12 n%8.

#include "textflag.h"
#include "vec_amd64.h"

// Byte offsets into ·smConst (softmax_rows.go; TestSoftmaxConstOffsets).
#define SM_C6 0
#define SM_C5 4
#define SM_C4 8
#define SM_C3 12
#define SM_C2 16
#define SM_MAGIC 20
#define SM_LIMIT 24
#define SM_FLUSH 28
#define SM_INF 32
#define SM_NAN 36
#define SM_ONE 40
#define SM_NEGINF 44

#define SMC(off) ·smConst+off(SB)

// HORNER: p = c6*r + c5, ..., p*r + 1, p*r + 1 with r in Y0, p in Y3, the
// coefficients broadcast into Y2.
#define HORNER \
	VBROADCASTSS SMC(SM_C6), Y3; \
	VBROADCASTSS SMC(SM_C5), Y2; \
	VFMADD213PS Y2, Y0, Y3; \
	VBROADCASTSS SMC(SM_C4), Y2; \
	VFMADD213PS Y2, Y0, Y3; \
	VBROADCASTSS SMC(SM_C3), Y2; \
	VFMADD213PS Y2, Y0, Y3; \
	VBROADCASTSS SMC(SM_C2), Y2; \
	VFMADD213PS Y2, Y0, Y3; \
	VBROADCASTSS ·vconst+VC_ONE(SB), Y2; \
	VFMADD213PS Y2, Y0, Y3; \
	VFMADD213PS Y2, Y0, Y3

// EXP8: e for 8 floats x in Y0 (shifted by c here) into Y1, zero where
// x - c < threshold or outside mask m: u = x*log2e + (M-k), t = u - (M-k),
// r = x - t*ln2hi - t*ln2lo, Horner, then u<<23 added to p's bits.
// Clobbers Y0, Y2, Y3, Y4.
#define EXP8(m) \
	VSUBPS Y10, Y0, Y0; \
	VCMPPS $29, Y11, Y0, Y4; \
	VANDPS m, Y4, Y4; \
	VMOVAPS Y12, Y1; \
	VFMADD231PS Y15, Y0, Y1; \
	VSUBPS Y12, Y1, Y2; \
	VFNMADD231PS Y14, Y2, Y0; \
	VFNMADD231PS Y13, Y2, Y0; \
	HORNER; \
	VPSLLD $23, Y1, Y1; \
	VPADDD Y1, Y3, Y1; \
	VANDPS Y4, Y1, Y1

// func softmaxRowsAVX2(dst, x []float32, n int)
TEXT ·softmaxRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), AX
	MOVQ n+48(FP), R8
	TESTQ R8, R8
	JZ done
	XORQ DX, DX
	DIVQ R8
	MOVQ AX, BX            // rows
	MOVQ R8, R9
	SHRQ $3, R9            // whole 8-float chunks per row
	MOVQ R8, R12
	ANDQ $7, R12           // tail length
	MOVQ $8, AX
	SUBQ R12, AX
	LEAQ ·vmask8(SB), R11
	VMOVDQU (R11)(AX*4), Y9
	VBROADCASTSS ·vconst+VC_LOG2E(SB), Y15
	VBROADCASTSS ·vconst+VC_LN2HI(SB), Y14
	VBROADCASTSS ·vconst+VC_LN2LO(SB), Y13
	TESTQ BX, BX
	JZ done

row:
	// maximum (Y5) and NaN check (Y6: unsigned max of |x| bits)
	VBROADCASTSS SMC(SM_NEGINF), Y5
	VPXOR Y6, Y6, Y6
	VBROADCASTSS ·vconst+VC_ABS(SB), Y7
	MOVQ SI, DX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ mtail
mloop:
	VMOVUPS (DX), Y0
	VMAXPS Y0, Y5, Y5
	VPAND Y7, Y0, Y0
	VPMAXUD Y0, Y6, Y6
	ADDQ $32, DX
	DECQ CX
	JNZ mloop
mtail:
	TESTQ R12, R12
	JZ mred
	VMASKMOVPS (DX), Y9, Y0
	VPAND Y7, Y0, Y1
	VPMAXUD Y1, Y6, Y6
	VBLENDVPS Y9, Y0, Y5, Y0   // masked-off lanes: keep the running maximum
	VMAXPS Y0, Y5, Y5
mred:
	VBROADCASTSS SMC(SM_INF), Y1
	VPCMPGTD Y1, Y6, Y6
	VMOVMSKPS Y6, AX
	TESTL AX, AX
	JNZ nanrow
	VEXTRACTF128 $1, Y5, X1
	VMAXPS X1, X5, X5
	VPSHUFD $0x4e, X5, X1
	VMAXPS X1, X5, X5
	VPSHUFD $0xb1, X5, X1
	VMAXPS X1, X5, X5
	VBROADCASTSS X5, Y5
	VANDPS Y7, Y5, Y6
	VUCOMISS SMC(SM_INF), X6
	JEQ nanrow             // |m| = Inf
	VUCOMISS SMC(SM_LIMIT), X6
	JHI huge
	// c = 0, M - k with k = round(m*log2e), threshold m - 86
	VXORPS Y10, Y10, Y10
	VMULPS Y15, Y5, Y0
	VROUNDPS $0, Y0, Y0
	VBROADCASTSS SMC(SM_MAGIC), Y12
	VSUBPS Y0, Y12, Y12
	VBROADCASTSS SMC(SM_FLUSH), Y0
	VSUBPS Y0, Y5, Y11
	JMP exps
huge:
	// c = m, k = 0, threshold -86
	VMOVAPS Y5, Y10
	VBROADCASTSS SMC(SM_MAGIC), Y12
	VBROADCASTSS SMC(SM_FLUSH), Y0
	VXORPS Y11, Y11, Y11
	VSUBPS Y0, Y11, Y11
exps:
	// exponentials to dst
	VPCMPEQD Y8, Y8, Y8    // all lanes
	MOVQ SI, DX
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ etail
eloop:
	VMOVUPS (DX), Y0
	EXP8(Y8)
	VMOVUPS Y1, (AX)
	ADDQ $32, DX
	ADDQ $32, AX
	DECQ CX
	JNZ eloop
etail:
	TESTQ R12, R12
	JZ sums
	VMASKMOVPS (DX), Y9, Y0
	EXP8(Y9)
	VMASKMOVPS Y1, Y9, (AX)
sums:
	// smLanes: Y5 lanes 0-7 += e[0:8], Y6 lanes 8-15 += e[8:16], per
	// 16-float block (zeros past the row).
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	MOVQ DI, AX
	MOVQ R8, CX
sloop:
	CMPQ CX, $16
	JLT stail
	VADDPS (AX), Y5, Y5
	VADDPS 32(AX), Y6, Y6
	ADDQ $64, AX
	SUBQ $16, CX
	JMP sloop
stail:
	TESTQ CX, CX
	JZ tree
	// the last CX < 16 floats: two masked halves
	LEAQ ·vmask8(SB), R11
	MOVQ CX, R10
	CMPQ R10, $8
	JLE 2(PC)
	MOVQ $8, R10
	MOVQ $8, DX
	SUBQ R10, DX
	VMOVDQU (R11)(DX*4), Y7
	VMASKMOVPS (AX), Y7, Y0
	MOVQ CX, R10
	SUBQ $8, R10
	JGE 2(PC)
	XORQ R10, R10
	MOVQ $8, DX
	SUBQ R10, DX
	VMOVDQU (R11)(DX*4), Y7
	VMASKMOVPS 32(AX), Y7, Y2
	VADDPS Y0, Y5, Y5
	VADDPS Y2, Y6, Y6
tree:
	// smLanes.tree: l + l+8, l + l+4, l + l+2, 0 + 1; then 1/sum.
	VADDPS Y6, Y5, Y5
	VEXTRACTF128 $1, Y5, X6
	VADDPS X6, X5, X5
	VPERMILPS $0x4e, X5, X6
	VADDPS X6, X5, X5
	VPERMILPS $0xb1, X5, X6
	VADDSS X6, X5, X5
	VMOVSS SMC(SM_ONE), X6
	VDIVSS X5, X6, X5
	VBROADCASTSS X5, Y5
	// scale
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ sctail
scloop:
	VMULPS (AX), Y5, Y0
	VMOVUPS Y0, (AX)
	ADDQ $32, AX
	DECQ CX
	JNZ scloop
sctail:
	TESTQ R12, R12
	JZ next
	VMASKMOVPS (AX), Y9, Y0
	VMULPS Y5, Y0, Y0
	VMASKMOVPS Y0, Y9, (AX)
	JMP next
nanrow:
	VBROADCASTSS SMC(SM_NAN), Y0
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ ntail
nloop:
	VMOVUPS Y0, (AX)
	ADDQ $32, AX
	DECQ CX
	JNZ nloop
ntail:
	TESTQ R12, R12
	JZ next
	VMASKMOVPS Y0, Y9, (AX)
next:
	LEAQ (SI)(R8*4), SI
	LEAQ (DI)(R8*4), DI
	DECQ BX
	JNZ row
done:
	VZEROUPPER
	RET
