package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of the multi-row softmax (softmax_rows*.go/.s, softmax_exp.go):
// every level against the Generic rows bit for bit and against ref within
// the stated bound smOutErr(n), at awkward widths and row counts (4-row groups, blocks
// of up to 32 rows, the last rows%4 rows), with special rows planted: NaN
// of either sign and with payload bits, +-Inf, rows of -Inf, maxima beyond
// 2^21 (the shifted path), elements either side of the flush threshold
// m - 86, subnormal inputs. Outputs are NaN-poisoned first.

var smWidths = []int{1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 128, 200, 1000, 1030}

// smInputs returns rows x n inputs for one case; special selects planted
// rows (every fourth row is left plain).
func smInputs(rng *rand.Rand, rows, n int, special bool) []float32 {
	x := make([]float32, rows*n)
	for r := 0; r < rows; r++ {
		xr := x[r*n : r*n+n]
		scale := []float64{0.01, 1, 3, 30}[r%4]
		shift := []float64{0, 5, -40, 1000, -1000}[r%5]
		for j := range xr {
			xr[j] = float32(shift + scale*rng.NormFloat64())
		}
		if !special || r%4 == 0 {
			continue
		}
		j := rng.IntN(n)
		switch r % 11 {
		case 1:
			xr[j] = float32(math.NaN())
		case 2:
			xr[j] = math.Float32frombits(0xffc00000) // negative NaN
		case 3:
			xr[j] = math.Float32frombits(0x7f800123) // signalling NaN with payload
		case 5:
			xr[j] = float32(math.Inf(1))
		case 6:
			xr[j] = float32(math.Inf(-1))
		case 7:
			for k := range xr {
				xr[k] = float32(math.Inf(-1))
			}
		case 9:
			// maximum beyond 2^21: the shifted path
			for k := range xr {
				xr[k] = float32(3e6 + 40*rng.NormFloat64())
			}
			if r%2 == 1 {
				for k := range xr {
					xr[k] = -xr[k]
				}
			}
		case 10:
			// elements around the flush threshold and subnormal inputs
			m := float32(7)
			for k := range xr {
				xr[k] = m - 86 + float32(rng.NormFloat64()*0.01)
			}
			xr[j] = m
			xr[(j+1)%n] = math.Float32frombits(5)
			xr[(j+2)%n] = 3e38
			xr[(j+2)%n] = m - 86
		}
	}
	return x
}

// TestSoftmaxRowsLevels checks every level's multi-row softmax against the
// Generic rows bit for bit, also in place, for many widths and row counts.
func TestSoftmaxRowsLevels(t *testing.T) {
	for _, n := range smWidths {
		for _, rows := range []int{1, 3, 4, 5, 9, 37, 40} {
			if n >= 1000 && rows > 9 {
				continue
			}
			for _, special := range []bool{false, true} {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(rows)))
				x := smInputs(rng, rows, n, special)
				want := vecNaNs(rows * n)
				softmaxRowsGo(want, x, n)
				vecEachLevel(t, func(t *testing.T, l Level) {
					what := fmt.Sprintf("%v n=%d rows=%d special=%v", l, n, rows, special)
					y := vecNaNs(rows * n)
					Softmax(y, x, n, 0, rows, false)
					vecSameBitsNaN(t, "Softmax "+what, y, want)
					y2 := append([]float32(nil), x...)
					Softmax(y2, y2, n, 0, rows, false)
					vecSameBitsNaN(t, "Softmax in place "+what, y2, want)
				})
			}
		}
	}
}

// TestSoftmaxRowsVsRef checks the multi-row softmax against ref (float64)
// on the special inputs: rows with a NaN or an infinite maximum are NaN
// throughout, elements more than 86 below their row's maximum are 0, every
// other output is within smOutErr(n) (relative; plus 2^-150 absolute for
// subnormal outputs) of ref's float64 value.
func TestSoftmaxRowsVsRef(t *testing.T) {
	for _, n := range smWidths {
		const rows = 23
		rng := rand.New(rand.NewPCG(uint64(n), 99))
		x := smInputs(rng, rows, n, true)
		want := make([]float64, rows*n)
		ref.Softmax(want, vecF64(x), n, 0, rows, false)
		vecEachLevel(t, func(t *testing.T, l Level) {
			y := vecNaNs(rows * n)
			Softmax(y, x, n, 0, rows, false)
			worst, bound := 0.0, smOutErr(n)
			defer func() {
				t.Logf("n=%d: max relative error %.3f units of 2^-24 (bound %.2f)", n, worst/0x1p-24, bound/0x1p-24)
			}()
			for r := 0; r < rows; r++ {
				xr, yr, wr := x[r*n:r*n+n], y[r*n:r*n+n], want[r*n:r*n+n]
				m := rowMaxGo(xr)
				for j := range xr {
					what := fmt.Sprintf("%v n=%d row %d element %d (x=%v, max %v)", l, n, r, j, xr[j], m)
					g, w := float64(yr[j]), wr[j]
					switch {
					case m != m || math.IsInf(float64(m), 0):
						if !math.IsNaN(g) {
							t.Fatalf("%s: %v, want NaN", what, g)
						}
					case xr[j]-m < -smFlush || (math.Abs(float64(m)) <= float64(smLimit) && xr[j] < m-smFlush):
						if g != 0 {
							t.Fatalf("%s: %v, want 0 (flushed; ref %v)", what, g, w)
						}
					default:
						e := math.Abs(g-w) / math.Abs(w)
						if w >= 0x1p-126 {
							worst = max(worst, e)
						}
						if !(math.Abs(g-w) <= bound*w+0x1p-150) {
							t.Fatalf("%s: %v, want %v (%.2f units of 2^-24, bound %.2f)", what, g, w, e/0x1p-24, bound/0x1p-24)
						}
					}
				}
			}
		})
	}
}

// TestSoftmaxConstOffsets checks the SM_* byte offsets of the assembly
// against smConst's indices (softmax_rows.go).
func TestSoftmaxConstOffsets(t *testing.T) {
	idx := map[string]int{"C6": smiC6, "C5": smiC5, "C4": smiC4, "C3": smiC3, "C2": smiC2, "MAGIC": smiMagic,
		"LIMIT": smiLimit, "FLUSH": smiFlush, "INF": smiInf, "NAN": smiNaN, "ONE": smiOne, "NEGINF": smiNegInf,
		"IDX4": smiIdx4}
	for _, f := range []string{"softmax_rows_avx512_amd64.s", "softmax_rows_avx2_amd64.s"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		defs := regexp.MustCompile(`(?m)^#define SM_(\w+) (\d+)$`).FindAllStringSubmatch(string(src), -1)
		if len(defs) < 12 {
			t.Fatalf("%s: %d SM_ offsets", f, len(defs))
		}
		for _, d := range defs {
			i, ok := idx[d[1]]
			off, _ := strconv.Atoi(d[2])
			if !ok || off != 4*i {
				t.Fatalf("%s: SM_%s = %s, want %d", f, d[1], d[2], 4*i)
			}
		}
	}
	if math.Float32frombits(smConst[smiC6]) != smC6 || math.Float32frombits(smConst[smiFlush]) != smFlush ||
		math.Float32frombits(smConst[smiOne]) != 1 {
		t.Fatal("smConst does not hold the Go constants")
	}
}
