//go:build cuda

package cuda

import (
	"fmt"
	"math"
)

// Act is the activation a GEMM applies in its epilogue.
type Act int

const (
	ActNone     Act = iota // identity
	ActReLU                // max(v, 0)
	ActSiLU                // v * sigmoid(v)
	ActGELUTanh            // 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))), as kernels/ref's OpGELUTanh
)

func (a Act) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	case ActSiLU:
		return "silu"
	case ActGELUTanh:
		return "gelu_tanh"
	}
	return fmt.Sprintf("Act(%d)", int(a))
}

// Precision selects the GEMM's arithmetic and the type of A and B.
type Precision int

const (
	// PrecFP32: float32 A and B, SIMT fused multiply-adds in float32 in k
	// order (the result of a plain float32 loop up to the FMA rounding).
	PrecFP32 Precision = iota
	// PrecTF32: float32 A and B, each element rounded to tf32 (10-bit
	// mantissa, nearest with ties away) on the tensor cores (mma.sync
	// m16n8k8), float32 accumulation.
	PrecTF32
	// PrecBF16: A and B stored as bf16 (uint16 bit patterns), tensor cores
	// (mma.sync m16n8k16), float32 accumulation.
	PrecBF16
)

func (p Precision) String() string {
	switch p {
	case PrecFP32:
		return "fp32"
	case PrecTF32:
		return "tf32"
	case PrecBF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// Gemm describes one (batched) matrix product with a fused epilogue:
//
//	v = Alpha * op(A) op(B) + Beta * C_old + Bias[n]
//	v = Act(v)
//	C = v + ResidualScale * R
//
// op(A) is M×K and op(B) is K×N. A is stored row-major M×K with leading
// dimension LdA (>= K), or K×M (>= M) when TransA; B is K×N (LdB >= N), or
// N×K (LdB >= K) when TransB; C is M×N with LdC >= N. A leading dimension of
// 0 means the tight one (K, M, N, K or N). Batch 0 is taken as 1; batch i
// reads A + i*StrideA, B + i*StrideB and writes C + i*StrideC (elements of
// each operand's type); a stride of 0 broadcasts A or B to every batch.
//
// C_old is read only when Beta != 0 (so C may hold garbage, NaN included,
// when Beta == 0). Bias is an optional [N] float32 vector (0: none). The
// residual R is optional float32 in C's layout (LdC, StrideC; 0: none); it
// may be the same buffer as a float32 C (each element is read, then written,
// by the same thread) but must not overlap C otherwise, nor may Bias. C is
// float32, or bf16 (rounded to nearest even) when OutBF16, which requires
// Beta == 0. C must not overlap A or B.
type Gemm struct {
	M, N, K                   int
	TransA, TransB            bool
	LdA, LdB, LdC             int
	Batch                     int
	StrideA, StrideB, StrideC int64
	Alpha, Beta               float32
	Bias                      Ptr
	Residual                  Ptr
	ResidualScale             float32
	Act                       Act
	Prec                      Precision
	OutBF16                   bool
}

// Kernel flags (the last kernel argument); keep in step with gemm.cu.
const (
	gemmFlagOutBF16 = 1 << iota // C is bf16
	gemmFlagAVec                // A's rows start 16-byte aligned: cp.async 16-byte chunks
	gemmFlagBVec                // same for B
	gemmFlagCVec                // C, R and bias allow 4-column accesses (16 bytes of float32, 8 of bf16)
)

// Tile shapes of the tensor-core kernels (gemm.cu): "l" 128×128 with eight
// warps of 64×32, "s" 64×128 with eight warps of 32×32. The k-slice is 64
// bytes (32 bf16 or 16 tf32), four stages.
const (
	gemmTileLM, gemmTileLN = 128, 128
	gemmTileSM, gemmTileSN = 64, 128
	gemmStages             = 4
	gemmThreads            = 256
)

// gemmMaxDim bounds M, N and K (32-bit indices in the kernels, with room for
// a tile past the last row).
const gemmMaxDim = 1 << 30

// gemmTileOverride forces the tensor-core tile ("l" or "s") when not empty,
// so that the tests cover both kernels at small sizes.
var gemmTileOverride string

// gemmSharedBytes is the dynamic shared memory of a tensor-core kernel with
// bm×bn tiles: the larger of the pipeline (per stage, each operand is either
// bm (bn) rows of 64 bytes when k is contiguous, A not transposed or B
// transposed, or 64/elem rows of bm (bn) elements padded by 8 elements; see
// gemm.cu's SmemTile) and the epilogue's bm×(bn+8) float32 tile.
func gemmSharedBytes(bm, bn, elem int, transA, transB bool) int {
	tile := func(rows int, kContig bool) int {
		if kContig {
			return rows * 64
		}
		return (64 / elem) * (rows + 8) * elem
	}
	return max(gemmStages*(tile(bm, !transA)+tile(bn, transB)), bm*(bn+8)*4)
}

// GemmRun computes g on the runtime's stream: c, a and b are the device
// addresses of C, A and B (A and B bf16 for PrecBF16, float32 otherwise).
// It checks the description and returns an error naming the problem instead
// of launching a kernel that would read or write out of bounds.
func (r *Runtime) GemmRun(g Gemm, c, a, b Ptr) error {
	if err := g.normalize(); err != nil {
		return err
	}
	if c == 0 || a == 0 || b == 0 {
		return fmt.Errorf("cuda: gemm: null pointer (c=%#x a=%#x b=%#x)", uint64(c), uint64(a), uint64(b))
	}
	if g.Residual != 0 && g.Residual == c && g.OutBF16 {
		return fmt.Errorf("cuda: gemm: the residual is float32 and cannot alias a bf16 C")
	}
	elem := 4
	if g.Prec == PrecBF16 {
		elem = 2
	}
	outElem := 4
	if g.OutBF16 {
		outElem = 2
	}
	for _, p := range []struct {
		name  string
		p     Ptr
		align uint64
	}{{"C", c, uint64(outElem)}, {"A", a, uint64(elem)}, {"B", b, uint64(elem)}, {"Bias", g.Bias, 4}, {"Residual", g.Residual, 4}} {
		if uint64(p.p)%p.align != 0 {
			return fmt.Errorf("cuda: gemm: %s at %#x is not aligned to its %d-byte elements", p.name, uint64(p.p), p.align)
		}
	}
	cSpan := g.footprint(g.M, g.N, g.LdC, g.StrideC)
	if overlaps(c, cSpan*int64(outElem), a, g.footprintA()*int64(elem)) ||
		overlaps(c, cSpan*int64(outElem), b, g.footprintB()*int64(elem)) {
		return fmt.Errorf("cuda: gemm: C overlaps A or B")
	}
	// The epilogue reads R[m,n] and Bias[n] in the thread that writes
	// C[m,n]: a residual that is C itself is fine, any other overlap with C
	// would read elements other threads are writing.
	if g.Residual != 0 && g.Residual != c && overlaps(c, cSpan*int64(outElem), g.Residual, cSpan*4) {
		return fmt.Errorf("cuda: gemm: the residual at %#x overlaps C at %#x without being C itself", uint64(g.Residual), uint64(c))
	}
	if g.Bias != 0 && overlaps(c, cSpan*int64(outElem), g.Bias, int64(g.N)*4) {
		return fmt.Errorf("cuda: gemm: Bias overlaps C")
	}

	flags := 0
	if g.OutBF16 {
		flags |= gemmFlagOutBF16
	}
	vec16 := func(p Ptr, ld int, stride int64) bool {
		return uint64(p)%16 == 0 && (ld*elem)%16 == 0 && (g.Batch == 1 || (stride*int64(elem))%16 == 0)
	}
	if vec16(a, g.LdA, g.StrideA) {
		flags |= gemmFlagAVec
	}
	if vec16(b, g.LdB, g.StrideB) {
		flags |= gemmFlagBVec
	}
	// Four adjacent columns as one access: C, R, bias and the strides
	// aligned to 4 elements of their type (R and bias are float32).
	cVec := uint64(c)%uint64(4*outElem) == 0 && g.LdC%4 == 0 && (g.Batch == 1 || g.StrideC%4 == 0) &&
		uint64(g.Residual)%16 == 0 && uint64(g.Bias)%16 == 0
	if cVec {
		flags |= gemmFlagCVec
	}

	trans := "n"
	if g.TransA {
		trans = "t"
	}
	if g.TransB {
		trans += "t"
	} else {
		trans += "n"
	}
	var name string
	var bm, bn, shared int
	switch g.Prec {
	case PrecFP32:
		name, bm, bn = "nori_gemm_fp32_"+trans, 128, 128 // static shared memory
	default:
		tile := r.gemmTile(g)
		if tile == "l" {
			bm, bn = gemmTileLM, gemmTileLN
		} else {
			bm, bn = gemmTileSM, gemmTileSN
		}
		name = "nori_gemm_" + g.Prec.String() + "_" + tile + "_" + trans
		shared = gemmSharedBytes(bm, bn, elem, g.TransA, g.TransB)
	}
	// One block per tile, in the grouped order of gemm.cu's raster; batches
	// beyond the grid's z limit are looped over inside the kernel.
	tiles := int64(CeilDiv(g.M, bm)) * int64(CeilDiv(g.N, bn))
	if tiles > math.MaxInt32 {
		return fmt.Errorf("cuda: gemm: M=%d N=%d needs %d tiles (grid limit 2^31-1)", g.M, g.N, tiles)
	}
	grid := D3(int(tiles), 1, min(g.Batch, 65535))
	return r.Launch("gemm", name, grid, D1(gemmThreads), shared,
		c, a, b, g.Bias, g.Residual,
		g.M, g.N, g.K, g.LdA, g.LdB, g.LdC, g.Batch,
		g.StrideA, g.StrideB, g.StrideC,
		g.Alpha, g.Beta, g.ResidualScale, int(g.Act), flags)
}

// gemmTile picks the tensor-core tile. The 64×128 tile is for the
// memory-bound shapes (K <= 512, e.g. the model's M=65536, K=128, N=384 and
// K=384, N=128 projections: its 32 accumulators per thread let two or more
// blocks share an SM and keep more loads in flight) and for products with
// too few 128×128 tiles to fill the GPU; compute-bound products take the
// 128×128 tile (twice the operand reuse per shared-memory byte). This is a
// rule from the shapes, not yet tuned on a GPU.
func (r *Runtime) gemmTile(g Gemm) string {
	if gemmTileOverride != "" {
		return gemmTileOverride
	}
	tiles := CeilDiv(g.M, gemmTileLM) * CeilDiv(g.N, gemmTileLN) * g.Batch
	if g.K <= 512 || tiles < 2*max(r.sms, 1) {
		return "s"
	}
	return "l"
}

// normalize fills the defaults (tight leading dimensions, Batch 1) and
// checks the description.
func (g *Gemm) normalize() error {
	if g.M <= 0 || g.N <= 0 || g.K <= 0 {
		return fmt.Errorf("cuda: gemm: sizes M=%d N=%d K=%d must be positive", g.M, g.N, g.K)
	}
	if g.M > gemmMaxDim || g.N > gemmMaxDim || g.K > gemmMaxDim {
		// The kernels index rows, columns and k with 32-bit ints.
		return fmt.Errorf("cuda: gemm: sizes M=%d N=%d K=%d exceed 2^30", g.M, g.N, g.K)
	}
	if g.Batch < 0 {
		return fmt.Errorf("cuda: gemm: negative batch %d", g.Batch)
	}
	if g.Batch == 0 {
		g.Batch = 1
	}
	if g.Prec < PrecFP32 || g.Prec > PrecBF16 {
		return fmt.Errorf("cuda: gemm: unknown precision %d", int(g.Prec))
	}
	if g.Act < ActNone || g.Act > ActGELUTanh {
		return fmt.Errorf("cuda: gemm: unknown activation %d", int(g.Act))
	}
	// op(A) is M×K: stored M×K (rows of K) or, transposed, K×M (rows of
	// M); op(B) is K×N: stored K×N or N×K.
	aCols, bCols := g.K, g.N
	if g.TransA {
		aCols = g.M
	}
	if g.TransB {
		bCols = g.K
	}
	for _, ld := range []struct {
		name string
		ld   *int
		min  int
		what string
	}{
		{"LdA", &g.LdA, aCols, fmt.Sprintf("A (TransA=%v) has rows of %d", g.TransA, aCols)},
		{"LdB", &g.LdB, bCols, fmt.Sprintf("B (TransB=%v) has rows of %d", g.TransB, bCols)},
		{"LdC", &g.LdC, g.N, fmt.Sprintf("C has rows of %d", g.N)},
	} {
		if *ld.ld == 0 {
			*ld.ld = ld.min
		}
		if *ld.ld < ld.min {
			return fmt.Errorf("cuda: gemm: %s=%d too small: %s elements", ld.name, *ld.ld, ld.what)
		}
	}
	if g.StrideA < 0 || g.StrideB < 0 || g.StrideC < 0 {
		return fmt.Errorf("cuda: gemm: negative batch stride (A %d, B %d, C %d)", g.StrideA, g.StrideB, g.StrideC)
	}
	if g.Batch > 1 {
		if need := int64(g.M-1)*int64(g.LdC) + int64(g.N); g.StrideC < need {
			return fmt.Errorf("cuda: gemm: StrideC=%d with Batch=%d: the batches of C would overlap (each spans %d elements)", g.StrideC, g.Batch, need)
		}
	}
	if g.OutBF16 && g.Beta != 0 {
		return fmt.Errorf("cuda: gemm: OutBF16 needs Beta == 0 (C_old is not read in bf16), have Beta=%g", g.Beta)
	}
	if g.Residual != 0 && g.ResidualScale == 0 {
		return fmt.Errorf("cuda: gemm: Residual given with ResidualScale 0 (use 1 for a plain add, or no residual)")
	}
	if g.Residual == 0 && g.ResidualScale != 0 {
		return fmt.Errorf("cuda: gemm: ResidualScale=%g without a Residual buffer", g.ResidualScale)
	}
	if isNaNOrInf(g.Alpha) || isNaNOrInf(g.Beta) || isNaNOrInf(g.ResidualScale) {
		return fmt.Errorf("cuda: gemm: non-finite scalar (Alpha=%g Beta=%g ResidualScale=%g)", g.Alpha, g.Beta, g.ResidualScale)
	}
	return nil
}

func isNaNOrInf(f float32) bool { return math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) }

// footprint is the number of elements spanned by Batch matrices of rows×cols
// with leading dimension ld and batch stride stride.
func (g *Gemm) footprint(rows, cols, ld int, stride int64) int64 {
	return int64(g.Batch-1)*stride + int64(rows-1)*int64(ld) + int64(cols)
}

func (g *Gemm) footprintA() int64 {
	if g.TransA {
		return g.footprint(g.K, g.M, g.LdA, g.StrideA)
	}
	return g.footprint(g.M, g.K, g.LdA, g.StrideA)
}

func (g *Gemm) footprintB() int64 {
	if g.TransB {
		return g.footprint(g.N, g.K, g.LdB, g.StrideB)
	}
	return g.footprint(g.K, g.N, g.LdB, g.StrideB)
}

// overlaps reports whether the byte ranges [p, p+n) and [q, q+m) intersect.
func overlaps(p Ptr, n int64, q Ptr, m int64) bool {
	return uint64(p) < uint64(q)+uint64(m) && uint64(q) < uint64(p)+uint64(n)
}
