package avx

// Register tiles of the micro-kernels (rows of A broadcast x columns of B
// in vectors). AVX-512: 14x32, i.e. 28 zmm accumulators plus 2 B vectors and
// 2 broadcast registers, all 32 zmm registers. Zen 4 executes a 512-bit FMA
// as two 256-bit halves (same FLOP/cycle as AVX2), so the gain over AVX2 is
// half the instructions and twice the registers: the 14x32 tile loads 2 B
// vectors and 14 broadcasts for 28 FMAs (1.75 FMA per load, against 1.5 for
// 12x32), and 28 independent accumulators cover the FMA latency (4 cycles x
// 2 pipes) several times over. AVX2: 6x16, the largest tile that fits 16 ymm
// registers (12 accumulators). Generic: a 4x8 tile in plain Go. Keep mrAVX*
// in step with sgemm_asmgen.go.
const (
	mrAVX512, nrAVX512   = 14, 32
	mrAVX2, nrAVX2       = 6, 16
	mrGeneric, nrGeneric = 4, 8
)

// gemmKern computes one mr x nr tile: C = alpha*A·B + beta*C over k steps,
// or C = alpha*A·B when loadC is false (C not read). A holds mr floats per k
// step, as apart; B nr floats per k step, bs apart; C rows are ldc apart
// (all in elements).
type gemmKern func(k int, a []float32, as int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, loadC bool)

// gemmLevel is the Sgemm configuration of one dispatch level. kernRowA is
// the same kernel reading A in place from a row-major (not transposed) A:
// its "as" argument is A's leading dimension, row r of the tile at a[r*as:],
// one element per k step. It computes the same bits as kern on packed A.
type gemmLevel struct {
	mr, nr   int
	kern     gemmKern
	kernRowA gemmKern
}

// levels holds the configuration per Level; entries for levels this build
// has no assembly for stay nil (sgemm_kernel_amd64.go fills them).
var levels = [3]*gemmLevel{Generic: {mr: mrGeneric, nr: nrGeneric, kern: kernGeneric, kernRowA: kernRowAGeneric}}

// gemmLevelNow returns the configuration of the current level (the highest
// one filled in at or below Current()).
func gemmLevelNow() *gemmLevel {
	for l := Current(); l > Generic; l-- {
		if levels[l] != nil {
			return levels[l]
		}
	}
	return levels[Generic]
}
