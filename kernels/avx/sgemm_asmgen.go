//go:build ignore

// sgemm_asmgen.go writes sgemm_kernel_amd64.s, the register-blocked float32
// GEMM micro-kernels. The kernels are long runs of the same few instructions
// (one FMA per accumulator per k step), so they are generated rather than
// typed; the output is committed and reviewed like hand-written assembly.
// Regenerate with:
//
//	go run sgemm_asmgen.go > sgemm_kernel_amd64.s
//	go run sgemm_asmgen.go pack > pack_avx512_amd64.s
//
// It is a plain text generator with no dependencies (avo would add a module
// for what amounts to a few printf loops).
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&out, "%s:\n", l) }

// kernel emits one micro-kernel computing an mr x (vecs*width) tile:
//
//	acc = sum over k of A[:, k] (broadcast) times B[k, :] (vectors)
//	C   = alpha*acc + beta*C   (flags != 0)  or  C = alpha*acc  (flags == 0)
//
// A is read as mr consecutive floats per k step, advanced by aStride bytes
// (MR-packed panels, or a transposed A read in place); B as vecs vectors per
// k step, advanced by bStride bytes (NR-packed panels, or a row-major B read
// in place). reg names the vector registers ("Z" or "Y"), width the floats
// per vector.
//
// With rowA set the kernel reads A in place from a row-major A instead: row
// r of the tile at a + r*aStride, advancing 4 bytes per k step (no packing
// of A). Row addresses are formed from three base pointers (rows 0, 5, 10)
// and the index registers aStride and 3*aStride, scaled by 1, 2, 4 or 8, so
// up to 14 rows need no extra registers.
func kernel(name string, mr, vecs int, reg string, width int, zero string, rowA bool) {
	nacc := mr * vecs
	bReg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	tReg := func(r int) string { return fmt.Sprintf("%s%d", reg, nacc+vecs+r%2) }
	acc := func(r, v int) string { return fmt.Sprintf("%s%d", reg, r*vecs+v) }
	vbytes := width * 4

	fmt.Fprintf(&out, "\n// func %s(k int, a *float32, aStride int, b *float32, bStride int, c *float32, ldc int, alpha, beta float32, flags int)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-72\n", name)
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), AX")
	p("MOVQ aStride+16(FP), R8")
	p("MOVQ b+24(FP), BX")
	p("MOVQ bStride+32(FP), R9")
	p("MOVQ c+40(FP), DX")
	p("MOVQ ldc+48(FP), R10")
	p("MOVQ flags+64(FP), R11")
	for r := 0; r < mr; r++ {
		for v := 0; v < vecs; v++ {
			p("%s %s, %s, %s", zero, acc(r, v), acc(r, v), acc(r, v))
		}
	}
	// Touch the C tile so its lines arrive while the k loop runs.
	p("MOVQ DX, R12")
	for r := 0; r < mr; r++ {
		p("PREFETCHT0 (R12)")
		if vecs*vbytes > 64 {
			p("PREFETCHT0 %d(R12)", vecs*vbytes-4)
		}
		p("ADDQ R10, R12")
	}
	if rowA {
		// R13 = row stride L, R12 = 3L, SI = row 5, DI = row 10.
		p("MOVQ R8, R13")
		p("LEAQ (R8)(R8*2), R12")
		p("LEAQ (AX)(R8*4), SI")
		p("ADDQ R8, SI")
		p("LEAQ (SI)(R8*4), DI")
		p("ADDQ R8, DI")
	}
	p("TESTQ CX, CX")
	p("JZ %s_epilogue", name)
	label(name + "_loop")
	for v := 0; v < vecs; v++ {
		p("VMOVUPS %d(BX), %s", v*vbytes, bReg(v))
	}
	for r := 0; r < mr; r++ {
		if rowA {
			p("VBROADCASTSS %s, %s", rowAddr[r], tReg(r))
		} else {
			p("VBROADCASTSS %d(AX), %s", 4*r, tReg(r))
		}
		for v := 0; v < vecs; v++ {
			p("VFMADD231PS %s, %s, %s", bReg(v), tReg(r), acc(r, v))
		}
	}
	if rowA {
		p("ADDQ $4, AX")
		if mr > 5 {
			p("ADDQ $4, SI")
		}
		if mr > 10 {
			p("ADDQ $4, DI")
		}
	} else {
		p("ADDQ R8, AX")
	}
	p("ADDQ R9, BX")
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_epilogue")
	alpha, beta := bReg(0), bReg(1)
	if vecs < 2 {
		beta = tReg(0)
	}
	p("VBROADCASTSS alpha+56(FP), %s", alpha)
	p("VBROADCASTSS beta+60(FP), %s", beta)
	p("TESTQ R11, R11")
	p("JZ %s_overwrite", name)
	// C = alpha*acc + beta*C: one rounding for alpha*acc, one for the FMA.
	for r := 0; r < mr; r++ {
		for v := 0; v < vecs; v++ {
			p("VMULPS %s, %s, %s", alpha, acc(r, v), acc(r, v))
			p("VFMADD231PS %d(DX), %s, %s", v*vbytes, beta, acc(r, v))
			p("VMOVUPS %s, %d(DX)", acc(r, v), v*vbytes)
		}
		p("ADDQ R10, DX")
	}
	p("VZEROUPPER")
	p("RET")
	// beta == 0: C is overwritten and never read (NaN in C does not leak).
	label(name + "_overwrite")
	for r := 0; r < mr; r++ {
		for v := 0; v < vecs; v++ {
			p("VMULPS %s, %s, %s", alpha, acc(r, v), acc(r, v))
			p("VMOVUPS %s, %d(DX)", acc(r, v), v*vbytes)
		}
		p("ADDQ R10, DX")
	}
	p("VZEROUPPER")
	p("RET")
}

// rowAddr is the address of row r of an in-place A (rowA kernels): AX is
// row 0, SI row 5, DI row 10, R13 the row stride L and R12 3L.
var rowAddr = [14]string{"(AX)", "(AX)(R13*1)", "(AX)(R13*2)", "(AX)(R12*1)", "(AX)(R13*4)", "(SI)",
	"(AX)(R12*2)", "(SI)(R13*2)", "(AX)(R13*8)", "(SI)(R13*4)", "(DI)", "(DI)(R13*1)", "(AX)(R12*4)",
	"(SI)(R13*8)"}

// transposePack emits a packing routine that copies rows x 16 blocks of a
// row-major matrix into k-major panels (the transposing copy of packA for a
// row-major A and of packB for a transposed B):
//
//	dst[l*dstFloats + r] = src[r*srcStride + l]   r < rows, l < 16*blocks
//
// dstFloats is fixed per routine (the panel width, so the 16 stores of a
// block use constant offsets); each k step stores rows floats (a masked
// store), so nothing past them is written. Per block of 16 k steps: rows
// 64-byte loads, a 16x16 in-register transpose (16 VUNPCK[LH]PS, 16
// VUNPCK[LH]PD, 32 VSHUFF32X4; missing rows read as a zero register) and 16
// masked stores.
func transposePack(name string, rows, dstFloats int) {
	S := 4 * dstFloats
	fmt.Fprintf(&out, "\n// func %s(dst *float32, src *float32, srcStride int, blocks int)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	p("MOVQ dst+0(FP), DX")
	p("MOVQ src+8(FP), AX")
	p("MOVQ srcStride+16(FP), R13")
	p("MOVQ blocks+24(FP), CX")
	p("MOVL $%#x, R10", (1<<rows)-1)
	p("KMOVW R10, K1")
	// Registers: rows in Z0..Z(rows-1); missing rows and their unpacked
	// pairs are Z31 (zero); stage-1 results t in Z16..Z31; stage-2 results
	// u back in Z0..Z15; stage-3 temporaries Z16..Z23.
	zero := "Z31"
	row := func(r int) string {
		if r >= rows {
			return zero
		}
		return fmt.Sprintf("Z%d", r)
	}
	t := func(i int) string {
		if 2*(i/2) >= rows { // both rows of the pair are missing
			return zero
		}
		return fmt.Sprintf("Z%d", 16+i)
	}
	if rows < 16 {
		if rows%2 != 0 || rows > 14 {
			panic("transposePack: rows must be even and at most 14 (Z31 holds zero), or 16")
		}
		p("VPXORD %s, %s, %s", zero, zero, zero)
	}
	p("TESTQ CX, CX")
	p("JZ %s_done", name)
	label(name + "_loop")
	p("MOVQ AX, R10")
	for r := 0; r < rows; r++ {
		p("VMOVUPS (R10), %s", row(r))
		if r < rows-1 {
			p("ADDQ R13, R10")
		}
	}
	// Stage 1: t(2q) = unpcklps(r(2q), r(2q+1)), t(2q+1) = unpckhps(...):
	// in each 128-bit lane, rows 2q, 2q+1 interleaved.
	for q := 0; q < 8; q++ {
		if 2*q >= rows {
			continue
		}
		p("VUNPCKLPS %s, %s, %s", row(2*q+1), row(2*q), t(2*q))
		p("VUNPCKHPS %s, %s, %s", row(2*q+1), row(2*q), t(2*q+1))
	}
	// Stage 2: u(4g+j) holds rows 4g..4g+3 at k = j, j+4, j+8, j+12 (one
	// per 128-bit lane).
	u := func(i int) string { return fmt.Sprintf("Z%d", i) }
	for g := 0; g < 4; g++ {
		p("VUNPCKLPD %s, %s, %s", t(4*g+2), t(4*g), u(4*g))
		p("VUNPCKHPD %s, %s, %s", t(4*g+2), t(4*g), u(4*g+1))
		p("VUNPCKLPD %s, %s, %s", t(4*g+3), t(4*g+1), u(4*g+2))
		p("VUNPCKHPD %s, %s, %s", t(4*g+3), t(4*g+1), u(4*g+3))
	}
	// Stage 3: gather lane q of u(j), u(4+j), u(8+j), u(12+j) into the
	// vector of k = j+4q, and store its first rows floats.
	for j := 0; j < 4; j++ {
		p("VSHUFF32X4 $0x44, %s, %s, Z16", u(4+j), u(j))
		p("VSHUFF32X4 $0xEE, %s, %s, Z17", u(4+j), u(j))
		p("VSHUFF32X4 $0x44, %s, %s, Z18", u(12+j), u(8+j))
		p("VSHUFF32X4 $0xEE, %s, %s, Z19", u(12+j), u(8+j))
		p("VSHUFF32X4 $0x88, Z18, Z16, Z20")
		p("VSHUFF32X4 $0xDD, Z18, Z16, Z21")
		p("VSHUFF32X4 $0x88, Z19, Z17, Z22")
		p("VSHUFF32X4 $0xDD, Z19, Z17, Z23")
		for q := 0; q < 4; q++ {
			p("VMOVUPS Z%d, K1, %d(DX)", 20+q, (j+4*q)*S)
		}
	}
	p("ADDQ $64, AX")
	p("ADDQ $%d, DX", 16*S)
	p("DECQ CX")
	p("JNZ %s_loop", name)
	label(name + "_done")
	p("VZEROUPPER")
	p("RET")
}

func main() {
	out.WriteString("// Code generated by sgemm_asmgen.go; DO NOT EDIT.\n\n")
	out.WriteString("//go:build amd64 && !noasm\n\n")
	out.WriteString("#include \"textflag.h\"\n")
	if len(os.Args) > 1 && os.Args[1] == "pack" {
		// packA of the AVX-512 level: 14-row micro-panels (mr = 14).
		transposePack("packT14AVX512", mrAVX512, mrAVX512)
		// packB of a transposed B at the AVX-512 level (nr = 32): two
		// calls per panel, rows 0-15 and 16-31 of the 32-float steps.
		transposePack("packT16x32AVX512", 16, 32)
		os.Stdout.WriteString(out.String())
		return
	}
	// AVX-512: 14 rows x 2 zmm (32 floats): 28 accumulators, 2 B vectors and
	// 2 broadcast registers fill the 32 zmm registers.
	kernel("sgemmKernAVX512", mrAVX512, 2, "Z", 16, "VPXORD", false)
	kernel("sgemmKernRowAAVX512", mrAVX512, 2, "Z", 16, "VPXORD", true)
	// AVX2: 6 rows x 2 ymm (16 floats): 12 accumulators, 2 B vectors and 2
	// broadcast registers fill the 16 ymm registers.
	kernel("sgemmKernAVX2", mrAVX2, 2, "Y", 8, "VXORPS", false)
	kernel("sgemmKernRowAAVX2", mrAVX2, 2, "Y", 8, "VXORPS", true)
	os.Stdout.WriteString(out.String())
}

// Keep in step with sgemm_level.go.
const (
	mrAVX512 = 14
	mrAVX2   = 6
)
