//go:build amd64 && !noasm

// AVX-512 multi-row softmax: softmaxRowsGo's arithmetic (softmax_exp.go),
// operation for operation, for whole rows of any n >= 1 (the last n%16 of a
// row under mask K1).
//
// Rows go in blocks of up to 32 (a multiple of 4; at most about 8 KiB of
// x unless n > 512: 8 KiB measured faster than 16 in DRAM, as the block,
// its dst and the next block's prefetched x and dst then fit L1) through
// three sweeps, each over groups of 4 rows, so that every sweep is a
// stream of independent work instead of each row waiting on its own
// reductions (the exponential's dependency chain is ~40 cycles long, so
// the out-of-order window must see several rows at once):
//  1. maxima, and sums of x as a cheap non-finite check (NaN or +-Inf in
//     the row, or an overflowing sum: then the group takes the single-row
//     path, which tells these apart), then per row M - k and the flush
//     threshold;
//  2. exponentials e_j, four rows interleaved instruction by instruction,
//     each row's 16 float32 smLanes sums added from the registers (one
//     VADDPS per block); per group the four trees and 1/sum;
//  3. dst *= 1/sum.
// Sweeps 2 and 3 prefetch the next block's x and dst (the same rows of the
// next block, line for line), so that in DRAM the loads overlap the
// arithmetic instead of each block's first sweep waiting on them.
// A group holding a row whose maximum is NaN, infinite or beyond 2^21, and
// the last rows%4 rows of the call, go one row at a time through the
// general single-row path (the shift by c, NaN rows).
//
// Registers: Z16 log2(e), Z17 ln2hi, Z18 ln2lo, Z19..Z23 the minimax
// coefficients c6..c2, Z24 1.0, Z25 the sign bit, Z27..Z30 the lane sums
// of a group's rows in sweep 2 (1/sum in sweep 3).
// Frame: per block row r, M - k at 4r(SP), the threshold at 128+4r(SP),
// 1/sum at 256+4r(SP); per group g a special-row flag at
// 512+4g(SP); the single-row path's c, M - k, threshold, mode and saved
// registers from 544(SP) (F_* below).

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
#define SM_IDX4 48

#define SMC(off) ·smConst+off(SB)

// Frame offsets.
#define F_MK 0
#define F_THR 128
#define F_INV 256
#define F_FLAG 512
#define F_C1 544
#define F_MK1 548
#define F_THR1 552
#define F_MODE 556
#define F_SAVESI 560
#define F_SAVEDI 568
#define F_SAVER11 576
#define F_BROWS 584

// EXP4A+EXP4B compute e_j for one 16-float block of four rows, x at DX + r*R8,
// e to AX + r*R8 (EXP4T: the last n%16 floats, mask K1, zeros beyond),
// e added to the rows' smLanes sums in Z27..Z30; mk and thr are
// the frame offsets of the rows' M - k and thresholds (row r at +4r, the
// group's first row at R11). The four rows' steps are interleaved; row i
// keeps x/r in Z(4i), u in Z(4i+1), t in Z(4i+2), p in Z(4i+3), its mask in
// K(3+i). The steps are SMEXP's (below).
//
// Whole blocks are software-pipelined in two stages (the exponential's
// chain is longer than the out-of-order window can cover at full rate):
// EXP4A (loads, masks, u, t, r) of block q+1 follows EXP4B (polynomial,
// exponent, stores, sums) of block q in program order, so B reads the
// r, u and masks that A then overwrites.
#define EXP4A(mk, thr) \
	VMOVUPS (DX), Z0; VMOVUPS (DX)(R8*1), Z4; VMOVUPS (DX)(R8*2), Z8; VMOVUPS (DX)(R10*1), Z12; \
	VCMPPS.BCST $29, thr+0(SP)(R11*4), Z0, K3; VCMPPS.BCST $29, thr+4(SP)(R11*4), Z4, K4; \
	VCMPPS.BCST $29, thr+8(SP)(R11*4), Z8, K5; VCMPPS.BCST $29, thr+12(SP)(R11*4), Z12, K6; \
	EXPA(mk)

#define EXP4B \
	EXPB; \
	VMOVUPS Z1, (AX); VMOVUPS Z5, (AX)(R8*1); VMOVUPS Z9, (AX)(R8*2); VMOVUPS Z13, (AX)(R10*1); \
	VADDPS Z1, Z27, Z27; VADDPS Z5, Z28, Z28; VADDPS Z9, Z29, Z29; VADDPS Z13, Z30, Z30

#define EXP4T(mk, thr) \
	VMOVUPS.Z (DX), K1, Z0; VMOVUPS.Z (DX)(R8*1), K1, Z4; VMOVUPS.Z (DX)(R8*2), K1, Z8; VMOVUPS.Z (DX)(R10*1), K1, Z12; \
	VCMPPS.BCST $29, thr+0(SP)(R11*4), Z0, K1, K3; VCMPPS.BCST $29, thr+4(SP)(R11*4), Z4, K1, K4; \
	VCMPPS.BCST $29, thr+8(SP)(R11*4), Z8, K1, K5; VCMPPS.BCST $29, thr+12(SP)(R11*4), Z12, K1, K6; \
	EXPA(mk); \
	EXPB; \
	VMOVUPS Z1, K1, (AX); VMOVUPS Z5, K1, (AX)(R8*1); VMOVUPS Z9, K1, (AX)(R8*2); VMOVUPS Z13, K1, (AX)(R10*1); \
	VADDPS Z1, Z27, Z27; VADDPS Z5, Z28, Z28; VADDPS Z9, Z29, Z29; VADDPS Z13, Z30, Z30

#define EXPA(mk) \
	VBROADCASTSS mk+0(SP)(R11*4), Z1; VBROADCASTSS mk+4(SP)(R11*4), Z5; \
	VBROADCASTSS mk+8(SP)(R11*4), Z9; VBROADCASTSS mk+12(SP)(R11*4), Z13; \
	VFMADD231PS Z16, Z0, Z1; VFMADD231PS Z16, Z4, Z5; VFMADD231PS Z16, Z8, Z9; VFMADD231PS Z16, Z12, Z13; \
	VSUBPS.BCST mk+0(SP)(R11*4), Z1, Z2; VSUBPS.BCST mk+4(SP)(R11*4), Z5, Z6; \
	VSUBPS.BCST mk+8(SP)(R11*4), Z9, Z10; VSUBPS.BCST mk+12(SP)(R11*4), Z13, Z14; \
	VFNMADD231PS Z17, Z2, Z0; VFNMADD231PS Z17, Z6, Z4; VFNMADD231PS Z17, Z10, Z8; VFNMADD231PS Z17, Z14, Z12; \
	VFNMADD231PS Z18, Z2, Z0; VFNMADD231PS Z18, Z6, Z4; VFNMADD231PS Z18, Z10, Z8; VFNMADD231PS Z18, Z14, Z12

#define EXPB \
	VMOVAPS Z19, Z3; VMOVAPS Z19, Z7; VMOVAPS Z19, Z11; VMOVAPS Z19, Z15; \
	VFMADD213PS Z20, Z0, Z3; VFMADD213PS Z20, Z4, Z7; VFMADD213PS Z20, Z8, Z11; VFMADD213PS Z20, Z12, Z15; \
	VFMADD213PS Z21, Z0, Z3; VFMADD213PS Z21, Z4, Z7; VFMADD213PS Z21, Z8, Z11; VFMADD213PS Z21, Z12, Z15; \
	VFMADD213PS Z22, Z0, Z3; VFMADD213PS Z22, Z4, Z7; VFMADD213PS Z22, Z8, Z11; VFMADD213PS Z22, Z12, Z15; \
	VFMADD213PS Z23, Z0, Z3; VFMADD213PS Z23, Z4, Z7; VFMADD213PS Z23, Z8, Z11; VFMADD213PS Z23, Z12, Z15; \
	VFMADD213PS Z24, Z0, Z3; VFMADD213PS Z24, Z4, Z7; VFMADD213PS Z24, Z8, Z11; VFMADD213PS Z24, Z12, Z15; \
	VFMADD213PS Z24, Z0, Z3; VFMADD213PS Z24, Z4, Z7; VFMADD213PS Z24, Z8, Z11; VFMADD213PS Z24, Z12, Z15; \
	VPSLLD $23, Z1, Z1; VPSLLD $23, Z5, Z5; VPSLLD $23, Z9, Z9; VPSLLD $23, Z13, Z13; \
	VPADDD.Z Z1, Z3, K3, Z1; VPADDD.Z Z5, Z7, K4, Z5; VPADDD.Z Z9, Z11, K5, Z9; VPADDD.Z Z13, Z15, K6, Z13

// SMEXP (single-row path): from x in Z0 (already shifted by c), e =
// p(r)*2^(t-k) in Z4 under mask K3 (zero elsewhere): u = x*log2e + (M-k)
// in Z1, t = u - (M-k) in Z2, r = x - t*ln2hi - t*ln2lo in Z0, p in Z3
// (Horner), then the integer add of u<<23 to p's bits.
#define SMEXP(mk) \
	VBROADCASTSS mk, Z1; \
	VFMADD231PS Z16, Z0, Z1; \
	VSUBPS.BCST mk, Z1, Z2; \
	VFNMADD231PS Z17, Z2, Z0; \
	VFNMADD231PS Z18, Z2, Z0; \
	VMOVAPS Z19, Z3; \
	VFMADD213PS Z20, Z0, Z3; \
	VFMADD213PS Z21, Z0, Z3; \
	VFMADD213PS Z22, Z0, Z3; \
	VFMADD213PS Z23, Z0, Z3; \
	VFMADD213PS Z24, Z0, Z3; \
	VFMADD213PS Z24, Z0, Z3; \
	VPSLLD $23, Z1, Z1; \
	VPADDD.Z Z1, Z3, K3, Z4

// SMACC adds the 16 floats of Z4 to the smLanes sums in acc.
#define SMACC(acc) \
	VADDPS Z4, acc, acc

// EXPF: a whole 16-float block, x (shifted) in Z0.
#define EXPF(dst, mk, thr, acc) \
	VCMPPS.BCST $29, thr, Z0, K3; \
	SMEXP(mk); \
	VMOVUPS Z4, dst; \
	SMACC(acc)

// EXPT: the last n%16 floats (mask K1), x (shifted, zero beyond) in Z0.
#define EXPT(dst, mk, thr, acc) \
	VCMPPS.BCST $29, thr, Z0, K1, K3; \
	SMEXP(mk); \
	VMOVUPS Z4, K1, dst; \
	SMACC(acc)

// MAX4: the maxima of 4 rows' blocks into Z0..Z3, and their sums into
// Z4..Z7. (VMAXPS returns its second operand when either is NaN, so a NaN
// met early can be dropped from the maximum, and VRANGEPS ignores quiet
// NaNs; the sum keeps any NaN or infinity: one add instead of the two
// integer operations of a bitwise check.)
#define MAX4(a0, a1, a2, a3) \
	VMAXPS a0, Z0, Z0; \
	VADDPS a0, Z4, Z4; \
	VMAXPS a1, Z1, Z1; \
	VADDPS a1, Z5, Z5; \
	VMAXPS a2, Z2, Z2; \
	VADDPS a2, Z6, Z6; \
	VMAXPS a3, Z3, Z3; \
	VADDPS a3, Z7, Z7

// MAXR: as MAX4's step for the last n%16 floats of one row (mask K1).
#define MAXR(a, z, zs) \
	VMAXPS a, z, K1, z; \
	VADDPS a, zs, K1, zs

// MAXT (single-row path): VMAXPS for the last n%16 floats of one row (mask
// K1), with the NaN check of the unsigned maximum of |x| bits in Z7.
#define MAXT(a, z) \
	VMAXPS a, z, K1, z; \
	VPANDND.Z a, Z25, K1, Z4; \
	VPMAXUD Z4, Z7, Z7

// SCALE: dst block *= inv.
#define SCALE(addr, inv, tmp) \
	VMULPS addr, inv, tmp; \
	VMOVUPS tmp, addr

// SCALET: the last n%16 floats of a row *= inv.
#define SCALET(addr, inv, tmp) \
	VMOVUPS.Z addr, K1, tmp; \
	VMULPS inv, tmp, tmp; \
	VMOVUPS tmp, K1, addr

// func softmaxRowsAVX512(dst, x []float32, n int)
TEXT ·softmaxRowsAVX512(SB), NOSPLIT, $592-56
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), AX
	MOVQ n+48(FP), R8
	TESTQ R8, R8
	JZ done
	XORQ DX, DX
	DIVQ R8
	MOVQ AX, BX            // rows
	MOVQ $2048, AX         // block rows: 2048/n, a multiple of 4 in [4, 32]
	XORQ DX, DX
	DIVQ R8
	ANDQ $-4, AX
	CMPQ AX, $32
	JLE 2(PC)
	MOVQ $32, AX
	CMPQ AX, $4
	JGE 2(PC)
	MOVQ $4, AX
	MOVQ AX, F_BROWS(SP)
	MOVQ R8, R9
	SHRQ $4, R9            // whole blocks per row
	MOVQ R8, R12
	ANDQ $15, R12          // tail length
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	SHLQ $2, R8            // row stride in bytes
	LEAQ (R8)(R8*2), R10   // 3 strides
	VBROADCASTSS ·vconst+VC_LOG2E(SB), Z16
	VBROADCASTSS ·vconst+VC_LN2HI(SB), Z17
	VBROADCASTSS ·vconst+VC_LN2LO(SB), Z18
	VBROADCASTSS SMC(SM_C6), Z19
	VBROADCASTSS SMC(SM_C5), Z20
	VBROADCASTSS SMC(SM_C4), Z21
	VBROADCASTSS SMC(SM_C3), Z22
	VBROADCASTSS SMC(SM_C2), Z23
	VBROADCASTSS ·vconst+VC_ONE(SB), Z24
	VBROADCASTSS ·vconst+VC_SIGN(SB), Z25

block:
	CMPQ BX, $4
	JLT rest
	MOVQ BX, R14
	ANDQ $-4, R14
	CMPQ R14, F_BROWS(SP)
	JLE 2(PC)
	MOVQ F_BROWS(SP), R14  // rows in this block (a multiple of 4)

	// Sweep 1: maxima, NaN checks, M - k and thresholds per row; a flag
	// per group with a special row.
	XORQ R11, R11          // the group's first row in the block
s1group:
	VBROADCASTSS SMC(SM_NEGINF), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	MOVQ R11, DX
	IMULQ R8, DX
	ADDQ SI, DX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ s1tail
s1loop:
	MAX4((DX), (DX)(R8*1), (DX)(R8*2), (DX)(R10*1))
	ADDQ $64, DX
	DECQ CX
	JNZ s1loop
s1tail:
	TESTQ R12, R12
	JZ s1red
	MAXR((DX), Z0, Z4)
	MAXR((DX)(R8*1), Z1, Z5)
	MAXR((DX)(R8*2), Z2, Z6)
	MAXR((DX)(R10*1), Z3, Z7)
s1red:
	// Non-finite check: NaN or +-Inf in any lane of the four rows' sums
	// (VFPCLASSPS $0x99: QNaN, +Inf, -Inf, SNaN) into K3.
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z6, Z4, Z4
	VFPCLASSPSZ $0x99, Z4, K3
	// Transposed reduction: 128-bit lane r of Z0 ends as row r's maximum
	// in all four elements; then one element per row (VPERMPS) in X0.
	VSHUFF32X4 $0x44, Z1, Z0, Z4
	VSHUFF32X4 $0xee, Z1, Z0, Z5
	VMAXPS Z5, Z4, Z4
	VSHUFF32X4 $0x44, Z3, Z2, Z0
	VSHUFF32X4 $0xee, Z3, Z2, Z1
	VMAXPS Z1, Z0, Z0
	VSHUFF32X4 $0x88, Z0, Z4, Z1
	VSHUFF32X4 $0xdd, Z0, Z4, Z2
	VMAXPS Z2, Z1, Z0
	VPERMILPS $0x4e, Z0, Z1
	VMAXPS Z1, Z0, Z0
	VPERMILPS $0xb1, Z0, Z1
	VMAXPS Z1, Z0, Z0
	VMOVDQU32 SMC(SM_IDX4), X1
	VPERMPS Z0, Z1, Z0
	// A non-finite row, or one whose maximum is beyond 2^21 (|m| > 2^21
	// or unordered: NLE_UQ): flag the group.
	VPANDND X0, X25, X5
	VCMPPS.BCST $22, SMC(SM_LIMIT), X5, K2
	KORW K3, K2, K2
	KMOVW K2, AX
	MOVL AX, F_FLAG(SP)(R11*1)
	// M - k, k = round(m*log2e), and the thresholds m - 86.
	VMULPS X16, X0, X6
	VRNDSCALEPS $0, X6, X6
	VBROADCASTSS SMC(SM_MAGIC), X7
	VSUBPS X6, X7, X7
	VMOVUPS X7, F_MK(SP)(R11*4)
	VSUBPS.BCST SMC(SM_FLUSH), X0, X7
	VMOVUPS X7, F_THR(SP)(R11*4)
	ADDQ $4, R11
	CMPQ R11, R14
	JLT s1group

	// Sweep 2: exponentials of the groups without a special row.
	XORQ R11, R11
s2group:
	CMPL F_FLAG(SP)(R11*1), $0
	JNE s2next
	MOVQ R11, DX
	IMULQ R8, DX
	LEAQ (DI)(DX*1), AX
	ADDQ SI, DX
	VXORPS Z27, Z27, Z27
	VXORPS Z28, Z28, Z28
	VXORPS Z29, Z29, Z29
	VXORPS Z30, Z30, Z30
	MOVQ R14, R13          // R13: the same rows of the next block (prefetch)
	IMULQ R8, R13
	ADDQ DX, R13
	MOVQ R9, CX
	TESTQ CX, CX
	JZ s2tail
	EXP4A(F_MK, F_THR)
	ADDQ $64, DX
	DECQ CX
	JZ s2last
s2loop:
	PREFETCHT0 (R13)
	PREFETCHT0 (R13)(R8*1)
	PREFETCHT0 (R13)(R8*2)
	PREFETCHT0 (R13)(R10*1)
	ADDQ $64, R13
	EXP4B
	ADDQ $64, AX
	EXP4A(F_MK, F_THR)
	ADDQ $64, DX
	DECQ CX
	JNZ s2loop
s2last:
	PREFETCHT0 (R13)
	PREFETCHT0 (R13)(R8*1)
	PREFETCHT0 (R13)(R8*2)
	PREFETCHT0 (R13)(R10*1)
	EXP4B
	ADDQ $64, AX
s2tail:
	TESTQ R12, R12
	JZ s2tree
	EXP4T(F_MK, F_THR)
s2tree:
	// The four rows' smLanes trees, transposed (128-bit lanes 0+2 and 1+3
	// are smLanes.tree's l + l+8, then l + l+4, l + l+2, l + l+1), leaving
	// row r's sum in 128-bit lane r; then 1/sum of the four.
	VSHUFF32X4 $0x44, Z28, Z27, Z0
	VSHUFF32X4 $0xee, Z28, Z27, Z1
	VADDPS Z1, Z0, Z0
	VSHUFF32X4 $0x44, Z30, Z29, Z2
	VSHUFF32X4 $0xee, Z30, Z29, Z3
	VADDPS Z3, Z2, Z2
	VSHUFF32X4 $0x88, Z2, Z0, Z1
	VSHUFF32X4 $0xdd, Z2, Z0, Z3
	VADDPS Z3, Z1, Z1
	VPERMILPS $0x4e, Z1, Z2
	VADDPS Z2, Z1, Z1
	VPERMILPS $0xb1, Z1, Z2
	VADDPS Z2, Z1, Z1
	VMOVDQU32 SMC(SM_IDX4), X2
	VPERMPS Z1, Z2, Z1
	VBROADCASTSS SMC(SM_ONE), X3
	VDIVPS X1, X3, X1
	VMOVUPS X1, F_INV(SP)(R11*4)
s2next:
	ADDQ $4, R11
	CMPQ R11, R14
	JLT s2group

	// Sweep 3: dst *= 1/sum.
	XORQ R11, R11
s4group:
	CMPL F_FLAG(SP)(R11*1), $0
	JNE s4next
	MOVQ R11, AX
	IMULQ R8, AX
	ADDQ DI, AX
	VBROADCASTSS F_INV+0(SP)(R11*4), Z27
	VBROADCASTSS F_INV+4(SP)(R11*4), Z28
	VBROADCASTSS F_INV+8(SP)(R11*4), Z29
	VBROADCASTSS F_INV+12(SP)(R11*4), Z30
	MOVQ R14, R13          // R13: the same rows of the next block (prefetch)
	IMULQ R8, R13
	ADDQ AX, R13
	MOVQ R9, CX
	TESTQ CX, CX
	JZ s4tail
s4loop:
	PREFETCHT0 (R13)
	PREFETCHT0 (R13)(R8*1)
	PREFETCHT0 (R13)(R8*2)
	PREFETCHT0 (R13)(R10*1)
	ADDQ $64, R13
	SCALE((AX), Z27, Z0)
	SCALE((AX)(R8*1), Z28, Z1)
	SCALE((AX)(R8*2), Z29, Z2)
	SCALE((AX)(R10*1), Z30, Z3)
	ADDQ $64, AX
	DECQ CX
	JNZ s4loop
s4tail:
	TESTQ R12, R12
	JZ s4next
	SCALET((AX), Z27, Z0)
	SCALET((AX)(R8*1), Z28, Z1)
	SCALET((AX)(R8*2), Z29, Z2)
	SCALET((AX)(R10*1), Z30, Z3)
s4next:
	ADDQ $4, R11
	CMPQ R11, R14
	JLT s4group

	// The groups with a special row, one row at a time.
	XORQ R11, R11
spgroup:
	CMPQ R11, R14
	JGE bnext
	CMPL F_FLAG(SP)(R11*1), $0
	JEQ spnext
	MOVQ SI, F_SAVESI(SP)
	MOVQ DI, F_SAVEDI(SP)
	MOVQ R11, F_SAVER11(SP)
	MOVQ R11, DX
	IMULQ R8, DX
	ADDQ DX, SI
	ADDQ DX, DI
	MOVL $1, F_MODE(SP)
	MOVQ $4, R11
	JMP srow
spret:
	MOVQ F_SAVESI(SP), SI
	MOVQ F_SAVEDI(SP), DI
	MOVQ F_SAVER11(SP), R11
spnext:
	ADDQ $4, R11
	JMP spgroup
bnext:
	MOVQ R14, DX
	IMULQ R8, DX
	ADDQ DX, SI
	ADDQ DX, DI
	SUBQ R14, BX
	JMP block

rest:
	MOVL $0, F_MODE(SP)
	MOVQ BX, R11
	TESTQ R11, R11
	JZ done

	// One row at SI -> DI, R11 rows; then back to spret (mode 1) or done.
srow:
	VBROADCASTSS SMC(SM_NEGINF), Z0
	VPXORD Z7, Z7, Z7
	MOVQ SI, DX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ smtail
smloop:
	VMAXPS (DX), Z0, Z0
	VPANDND (DX), Z25, Z4
	VPMAXUD Z4, Z7, Z7
	ADDQ $64, DX
	DECQ CX
	JNZ smloop
smtail:
	TESTQ R12, R12
	JZ smred
	MAXT((DX), Z0)
smred:
	VPCMPUD.BCST $6, SMC(SM_INF), Z7, K3
	KORTESTW K3, K3
	JNZ snan               // a NaN element
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VBROADCASTSS X0, Z0
	VPANDND Z0, Z25, Z5
	VUCOMISS SMC(SM_INF), X5
	JEQ snan               // |m| = Inf
	VUCOMISS SMC(SM_LIMIT), X5
	JHI shuge
	// c = 0, M - k, threshold m - 86
	MOVL $0, F_C1(SP)
	VMULPS Z16, Z0, Z6
	VRNDSCALEPS $0, Z6, Z6
	VBROADCASTSS SMC(SM_MAGIC), Z7
	VSUBPS Z6, Z7, Z7
	VMOVSS X7, F_MK1(SP)
	VSUBPS.BCST SMC(SM_FLUSH), Z0, Z7
	VMOVSS X7, F_THR1(SP)
	JMP sexp
shuge:
	// c = m, k = 0, threshold -86
	VMOVSS X0, F_C1(SP)
	MOVL SMC(SM_MAGIC), AX
	MOVL AX, F_MK1(SP)
	MOVL $0xc2ac0000, F_THR1(SP)
sexp:
	VXORPS Z8, Z8, Z8
	MOVQ SI, DX
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ setail
seloop:
	VMOVUPS (DX), Z0
	VSUBPS.BCST F_C1(SP), Z0, Z0
	EXPF((AX), F_MK1(SP), F_THR1(SP), Z8)
	ADDQ $64, DX
	ADDQ $64, AX
	DECQ CX
	JNZ seloop
setail:
	TESTQ R12, R12
	JZ stree
	VMOVUPS.Z (DX), K1, Z0
	VSUBPS.BCST F_C1(SP), Z0, Z0
	EXPT((AX), F_MK1(SP), F_THR1(SP), Z8)
stree:
	// smLanes.tree: l + l+8, l + l+4, l + l+2, 0 + 1; then 1/sum.
	VEXTRACTF64X4 $1, Z8, Y9
	VADDPS Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VPERMILPS $0x4e, X8, X9
	VADDPS X9, X8, X8
	VPERMILPS $0xb1, X8, X9
	VADDSS X9, X8, X8
	VDIVSS X8, X24, X8
	VBROADCASTSS X8, Z27
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ sstail
ssloop:
	SCALE((AX), Z27, Z0)
	ADDQ $64, AX
	DECQ CX
	JNZ ssloop
sstail:
	TESTQ R12, R12
	JZ snext
	SCALET((AX), Z27, Z0)
	JMP snext
snan:
	VBROADCASTSS SMC(SM_NAN), Z0
	MOVQ DI, AX
	MOVQ R9, CX
	TESTQ CX, CX
	JZ sntail
snloop:
	VMOVUPS Z0, (AX)
	ADDQ $64, AX
	DECQ CX
	JNZ snloop
sntail:
	TESTQ R12, R12
	JZ snext
	VMOVUPS Z0, K1, (AX)
snext:
	ADDQ R8, SI
	ADDQ R8, DI
	DECQ R11
	JNZ srow
	CMPL F_MODE(SP), $0
	JNE spret

done:
	VZEROUPPER
	RET
