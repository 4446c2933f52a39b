//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// GEMM tests: every precision, transpose, tile and epilogue against a float64
// loop on random inputs at sizes that are not multiples of the tiles, with
// padded and unaligned leading dimensions (both the cp.async and the
// element-wise load paths), batches with broadcast operands and gaps between
// the batches of C. Every element of C's buffer is checked: inside the
// matrices against the reference, outside (row padding, batch gaps) for the
// poison still being there.
//
// Tolerance per element, with S = sum_k |a_ik||b_kj| of the values the kernel
// multiplies (bf16 inputs as stored, tf32-rounded inputs for tf32):
//
//	|C - ref| <= 1.13*(acc*|alpha|*S + 2^-20*(|alpha|S + |beta*C_old| + |bias|))
//	             + 2^-18*(|act(v)| + |rs*R|) [+ 2^-8*|ref| for bf16 output]
//
// acc is 1.01*K*2^-24 for fp32 (float32 FMAs in k order) and 8*K*2^-24 for
// the tensor cores (their internal additions truncate: a few ulps per mma);
// 1.13 bounds the slope of SiLU and GELU. Against the unrounded float32
// inputs, tf32 adds 2^-10*S and bf16 2^-7*S (see gemm.cu); the tests compare
// with the rounded inputs, which is the sharper check of the kernel.

// gemmCase is one product to test: g without pointers, and which optional
// operands to create.
type gemmCase struct {
	g        Gemm
	bias     bool
	residual bool
	inPlace  bool // the residual is C itself (C holds the residual on entry)
	padLd    int  // added to every tight leading dimension
	offset   int  // elements added to the base addresses of A, B and C (views: not 16-byte aligned)
}

func (tc gemmCase) String() string {
	g := tc.g
	tr := map[bool]string{false: "n", true: "t"}
	s := fmt.Sprintf("%v %s%s M=%d N=%d K=%d", g.Prec, tr[g.TransA], tr[g.TransB], g.M, g.N, g.K)
	if g.Batch > 1 {
		s += fmt.Sprintf(" batch=%d strides=%d/%d/%d", g.Batch, g.StrideA, g.StrideB, g.StrideC)
	}
	s += fmt.Sprintf(" ld=%d/%d/%d alpha=%g beta=%g act=%v", g.LdA, g.LdB, g.LdC, g.Alpha, g.Beta, g.Act)
	if tc.bias {
		s += " bias"
	}
	if tc.residual {
		s += fmt.Sprintf(" residual*%g", g.ResidualScale)
		if tc.inPlace {
			s += "(in place)"
		}
	}
	if g.OutBF16 {
		s += " out=bf16"
	}
	if tc.offset != 0 {
		s += fmt.Sprintf(" offset=%d", tc.offset)
	}
	if gemmTileOverride != "" && g.Prec != PrecFP32 {
		s += " tile=" + gemmTileOverride
	}
	return s
}

// tf32RNA rounds a float32 to tf32 as cvt.rna.tf32.f32 (10 mantissa bits,
// nearest, ties away from zero), keeping it in a float32.
func tf32RNA(f float32) float32 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0x7f800000 {
		return f
	}
	return math.Float32frombits((b + 0x1000) &^ 0x1fff)
}

func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// gemmPoisonBF16 fills n bf16 with NaN (0x7fc1).
func gemmPoisonBF16(t testing.TB, r *Runtime, n int) Ptr {
	t.Helper()
	words := (n + 1) / 2
	p, err := r.Alloc(int64(4 * max(words, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Memset32(p, 0x7fc17fc1, int64(max(words, 1))); err != nil {
		t.Fatal(err)
	}
	return p
}

func gemmAct(v float64, a Act) float64 {
	switch a {
	case ActReLU:
		return math.Max(v, 0)
	case ActSiLU:
		return v / (1 + math.Exp(-v))
	case ActGELUTanh:
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	return v
}

// runGemmCase runs tc on the GPU and checks every element of C's buffer.
func runGemmCase(t *testing.T, r *Runtime, tc gemmCase, seed uint64) {
	t.Helper()
	g := tc.g
	// Tight leading dimensions plus the case's padding, then batch strides
	// of at least one matrix (0 stays 0: broadcast); normalize checks it all.
	tight := func(trans bool, notT, t int) int {
		if trans {
			return t
		}
		return notT
	}
	g.LdA = tight(g.TransA, g.K, g.M) + tc.padLd
	g.LdB = tight(g.TransB, g.N, g.K) + tc.padLd
	g.LdC = g.N + tc.padLd
	if g.Batch > 1 {
		if g.StrideA != 0 {
			g.StrideA = max(g.StrideA, g.footprintOne(true))
		}
		if g.StrideB != 0 {
			g.StrideB = max(g.StrideB, g.footprintOne(false))
		}
		g.StrideC = max(g.StrideC, int64(g.M-1)*int64(g.LdC)+int64(g.N))
	}
	// The residual buffer is uploaded below: validate the shape without it
	// (GemmRun validates the whole call again).
	resScale := g.ResidualScale
	g.ResidualScale = 0
	err := g.normalize()
	g.ResidualScale = resScale
	if err != nil {
		t.Fatalf("%v: %v", tc, err)
	}
	tc.g = g
	nA, nB := g.footprintA(), g.footprintB()
	nC := g.footprint(g.M, g.N, g.LdC, g.StrideC)

	// Inputs: the values the kernel multiplies, as float32. With an offset,
	// each buffer starts with tc.offset NaN elements before the matrices.
	off := tc.offset
	a32 := randn(seed, int(nA))
	b32 := randn(seed+1, int(nB))
	var pa0, pb0 Ptr // the allocations
	elem := 4
	switch g.Prec {
	case PrecBF16:
		elem = 2
		ha, hb := make([]uint16, off+int(nA)), make([]uint16, off+int(nB))
		for i := 0; i < off; i++ {
			ha[i], hb[i] = 0x7fc1, 0x7fc1
		}
		for i := range a32 {
			ha[off+i] = bf16RNE(a32[i])
			a32[i] = bf16ToF32(ha[off+i])
		}
		for i := range b32 {
			hb[off+i] = bf16RNE(b32[i])
			b32[i] = bf16ToF32(hb[off+i])
		}
		pa0, pb0 = uploadBF16(t, r, ha), uploadBF16(t, r, hb)
	default:
		pa0, pb0 = upload(t, r, append(gemmNaNs(off), a32...)), upload(t, r, append(gemmNaNs(off), b32...))
		if g.Prec == PrecTF32 {
			for i := range a32 {
				a32[i] = tf32RNA(a32[i])
			}
			for i := range b32 {
				b32[i] = tf32RNA(b32[i])
			}
		}
	}
	defer freeAll(t, r, pa0, pb0)
	pa, pb := pa0.Add(int64(off*elem)), pb0.Add(int64(off*elem))

	// inside reports whether element i of C's buffer belongs to a matrix,
	// and which (batch, row, column).
	inside := func(i int64) (bz, m, n int, ok bool) {
		bz = 0
		rel := i
		if g.Batch > 1 {
			bz = int(i / g.StrideC)
			if bz >= g.Batch {
				bz = g.Batch - 1
			}
			rel = i - int64(bz)*g.StrideC
		}
		m, n = int(rel/int64(g.LdC)), int(rel%int64(g.LdC))
		return bz, m, n, m < g.M && n < g.N
	}

	// C_old (Beta != 0, or an in-place residual): random inside, NaN outside.
	var cOld []float32
	if g.Beta != 0 || tc.inPlace {
		cOld = randn(seed+2, int(nC))
		for i := range cOld {
			if _, _, _, ok := inside(int64(i)); !ok {
				cOld[i] = float32(math.NaN())
			}
		}
	}
	var pc0 Ptr
	outElem := 4
	if g.OutBF16 {
		outElem = 2
	}
	switch {
	case cOld != nil:
		pc0 = upload(t, r, append(gemmNaNs(off), cOld...))
	case g.OutBF16:
		pc0 = gemmPoisonBF16(t, r, off+int(nC))
	default:
		pc0 = poisoned(t, r, off+int(nC))
	}
	defer freeAll(t, r, pc0)
	pc := pc0.Add(int64(off * outElem))
	var bias, res []float32
	if tc.bias {
		bias = randn(seed+3, g.N)
		g.Bias = upload(t, r, bias)
		defer freeAll(t, r, g.Bias)
	}
	if tc.residual {
		if tc.inPlace {
			res = cOld
			g.Residual = pc
		} else {
			res = randn(seed+4, int(nC))
			g.Residual = upload(t, r, res)
			defer freeAll(t, r, g.Residual)
		}
	}

	if err := r.GemmRun(g, pc, pa, pb); err != nil {
		t.Fatalf("%v: %v", tc, err)
	}
	var got []float32
	var gotBits []uint32
	if g.OutBF16 {
		h := downloadBF16(t, r, pc0, off+int(nC))
		got = make([]float32, off+int(nC))
		for i := range h {
			got[i] = bf16ToF32(h[i])
		}
	} else {
		got = download(t, r, pc0, off+int(nC))
	}
	for i := 0; i < off; i++ {
		if !math.IsNaN(float64(got[i])) {
			t.Errorf("%v: element %d before C's base address was written: %g", tc, i-off, got[i])
		}
	}
	got = got[off:]
	if !g.OutBF16 {
		gotBits = make([]uint32, nC)
		for i, v := range got {
			gotBits[i] = math.Float32bits(v)
		}
	}

	opA := func(bz, m, k int) float64 {
		base := int64(bz) * g.StrideA
		if g.TransA {
			return float64(a32[base+int64(k)*int64(g.LdA)+int64(m)])
		}
		return float64(a32[base+int64(m)*int64(g.LdA)+int64(k)])
	}
	opB := func(bz, k, n int) float64 {
		base := int64(bz) * g.StrideB
		if g.TransB {
			return float64(b32[base+int64(n)*int64(g.LdB)+int64(k)])
		}
		return float64(b32[base+int64(k)*int64(g.LdB)+int64(n)])
	}
	accRel := 8 * float64(g.K) * 0x1p-24
	if g.Prec == PrecFP32 {
		accRel = 1.01 * float64(g.K) * 0x1p-24
	}
	alpha, beta, rs := float64(g.Alpha), float64(g.Beta), float64(g.ResidualScale)
	bad := 0
	var worst float64
	for i := int64(0); i < nC; i++ {
		bz, m, n, ok := inside(i)
		if !ok {
			// Untouched: still the poison (or the NaN placed around C_old).
			if !math.IsNaN(float64(got[i])) {
				if bad++; bad <= 5 {
					t.Errorf("%v: element %d outside C (batch %d row %d col %d) was written: %g", tc, i, bz, m, n, got[i])
				}
			}
			continue
		}
		var acc, s float64
		for k := 0; k < g.K; k++ {
			p := opA(bz, m, k) * opB(bz, k, n)
			acc += p
			s += math.Abs(p)
		}
		v := alpha * acc
		pre := math.Abs(alpha) * s
		if beta != 0 {
			v += beta * float64(cOld[i])
			pre += math.Abs(beta * float64(cOld[i]))
		}
		if bias != nil {
			v += float64(bias[n])
			pre += math.Abs(float64(bias[n]))
		}
		v = gemmAct(v, g.Act)
		post := math.Abs(v)
		if res != nil {
			v += rs * float64(res[i])
			post += math.Abs(rs * float64(res[i]))
		}
		tol := 1.13*(accRel*math.Abs(alpha)*s+0x1p-20*pre) + 0x1p-18*post + 1e-30
		if g.OutBF16 {
			tol += 0x1p-8 * math.Abs(v)
		}
		d := math.Abs(float64(got[i]) - v)
		if !(d <= tol) {
			if bad++; bad <= 5 {
				t.Errorf("%v: C[batch %d][%d][%d] = %g, want %g (diff %.3g, tolerance %.3g)", tc, bz, m, n, got[i], v, d, tol)
			}
		}
		if tol > 0 && d/tol > worst {
			worst = d / tol
		}
	}
	if bad > 5 {
		t.Errorf("%v: %d bad elements in all", tc, bad)
	}
	if testing.Verbose() {
		t.Logf("%v: worst error %.3f of the tolerance", tc, worst)
	}

	// Deterministic: the same launch again gives the same bits (float32 C
	// without an in-place residual or Beta, whose inputs the first run changed).
	if gotBits != nil && cOld == nil {
		if err := r.GemmRun(g, pc, pa, pb); err != nil {
			t.Fatal(err)
		}
		again := download(t, r, pc0, off+int(nC))[off:]
		for i, v := range again {
			if math.Float32bits(v) != gotBits[i] {
				t.Fatalf("%v: second run differs at element %d: %g vs %g", tc, i, v, got[i])
			}
		}
	}
}

// gemmNaNs returns n float32 NaNs.
func gemmNaNs(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// footprintOne is the element span of one matrix of A (a) or B (!a).
func (g *Gemm) footprintOne(a bool) int64 {
	one := *g
	one.Batch = 1
	if a {
		return one.footprintA()
	}
	return one.footprintB()
}

var gemmPrecisions = []Precision{PrecFP32, PrecTF32, PrecBF16}

// gemmEpilogues cycles through the epilogue variants.
func gemmEpilogue(i int, tc gemmCase) gemmCase {
	g := &tc.g
	g.Alpha = 1
	switch i % 7 {
	case 0: // plain product
	case 1:
		g.Alpha, g.Beta = 0.75, -0.5
		tc.bias = true
	case 2:
		g.Act = ActReLU
		tc.bias = true
	case 3:
		g.Act, g.ResidualScale = ActSiLU, 0.3
		tc.residual = true
	case 4:
		g.Act, g.Alpha, g.Beta, g.ResidualScale = ActGELUTanh, 1.5, 0.25, -1
		tc.bias, tc.residual = true, true
	case 5:
		g.Act, g.OutBF16, g.ResidualScale = ActGELUTanh, true, 2
		tc.bias, tc.residual = true, true
	case 6:
		g.Act, g.ResidualScale = ActNone, 1
		tc.residual, tc.inPlace = true, true
	}
	return tc
}

// TestGemm sweeps precisions, transposes, awkward sizes, leading-dimension
// paddings (tight, +8 elements, +3: the last two keep or break 16-byte row
// alignment), base addresses one element past 16-byte alignment (views) and
// both tensor-core tiles, with a different epilogue per case.
func TestGemm(t *testing.T) {
	r := testRuntime(t)
	sizes := [][3]int{{1, 1, 1}, {7, 7, 7}, {63, 65, 127}, {129, 127, 65}, {1000, 129, 63}, {65, 1000, 8}, {127, 63, 1000}, {128, 128, 64}, {1100, 260, 40}}
	defer func() { gemmTileOverride = "" }()
	i := 0
	for _, tile := range []string{"l", "s"} {
		gemmTileOverride = tile
		for _, prec := range gemmPrecisions {
			if prec == PrecFP32 && tile == "s" {
				continue // one SIMT kernel
			}
			for tr := 0; tr < 4; tr++ {
				for si, sz := range sizes {
					pad := []int{0, 8, 3}[(si+tr)%3]
					tc := gemmCase{g: Gemm{M: sz[0], N: sz[1], K: sz[2], TransA: tr&1 != 0, TransB: tr&2 != 0, Prec: prec}, padLd: pad, offset: si % 3 / 2}
					tc = gemmEpilogue(i, tc)
					i++
					runGemmCase(t, r, tc, uint64(1000*i))
				}
			}
		}
	}
}

// TestGemmEpilogues runs every epilogue on every precision and transpose at
// two awkward sizes.
func TestGemmEpilogues(t *testing.T) {
	r := testRuntime(t)
	for _, prec := range gemmPrecisions {
		for tr := 0; tr < 4; tr++ {
			for e := 0; e < 7; e++ {
				// N=68: C rows 16-byte aligned (4-column accesses); N=67: element by element.
				for _, n := range []int{67, 68} {
					tc := gemmCase{g: Gemm{M: 131, N: n, K: 100, TransA: tr&1 != 0, TransB: tr&2 != 0, Prec: prec}}
					runGemmCase(t, r, gemmEpilogue(e, tc), uint64(7919*(e+1)+tr+n))
				}
			}
		}
	}
}

// TestGemmNaNPropagates checks that a NaN in A reaches its row of C through
// every activation (ReLU included: kernels/ref's max(v, 0) keeps a NaN) on
// every precision, and stays in that row.
func TestGemmNaNPropagates(t *testing.T) {
	r := testRuntime(t)
	const m, n, k = 3, 5, 4
	for _, prec := range gemmPrecisions {
		for act := ActNone; act <= ActGELUTanh; act++ {
			x, y := randn(11, m*k), randn(12, k*n)
			x[k+1] = float32(math.NaN()) // A[1][1]
			pa, pb := gemmUploadOperands(t, r, prec, x, y)
			pc := poisoned(t, r, m*n)
			g := Gemm{M: m, N: n, K: k, Alpha: 1, Act: act, Prec: prec}
			if err := r.GemmRun(g, pc, pa, pb); err != nil {
				t.Fatal(err)
			}
			for i, v := range download(t, r, pc, m*n) {
				if nan := math.IsNaN(float64(v)); nan != (i/n == 1) {
					t.Errorf("%v act %v: C[%d][%d] = %g (row 1 must be NaN, the others finite)", prec, act, i/n, i%n, v)
				}
			}
			freeAll(t, r, pa, pb, pc)
		}
	}
}

// TestGemmBatched covers batch strides: both operands strided, A or B
// broadcast (stride 0), gaps between the batches of C, and more batches than
// the grid's z limit (the kernels loop over the rest).
func TestGemmBatched(t *testing.T) {
	r := testRuntime(t)
	for _, prec := range gemmPrecisions {
		for tr := 0; tr < 4; tr++ {
			for v := 0; v < 3; v++ {
				g := Gemm{M: 65, N: 33, K: 47, TransA: tr&1 != 0, TransB: tr&2 != 0, Prec: prec, Batch: 3,
					StrideA: 1, StrideB: 1, StrideC: 1} // strides 1: grown to the matrix size by runGemmCase
				switch v {
				case 1:
					g.StrideA = 0
					g.StrideC = 3001 // gaps between the batches of C (each spans at most 2657)
				case 2:
					g.StrideB = 0
				}
				tc := gemmEpilogue(v+tr, gemmCase{g: g, padLd: 8 * (v % 2)})
				runGemmCase(t, r, tc, uint64(31*v+tr+1))
			}
		}
		// 65537 batches of 3x5x2: grid z is 65535, so two blocks do two.
		tc := gemmCase{g: Gemm{M: 3, N: 5, K: 2, Prec: prec, Batch: 65537, StrideA: 1, StrideB: 1, StrideC: 1}, bias: true}
		tc.g.Alpha = 1
		runGemmCase(t, r, tc, 99)
	}
}

// TestGemmErrors checks that bad descriptions are refused with an error
// naming the problem (before any launch).
func TestGemmErrors(t *testing.T) {
	ok := Gemm{M: 4, N: 5, K: 6, Alpha: 1}
	cases := []struct {
		mod  func(g *Gemm)
		want string
	}{
		{func(g *Gemm) { g.M = 0 }, "must be positive"},
		{func(g *Gemm) { g.K = -1 }, "must be positive"},
		{func(g *Gemm) { g.LdA = 5 }, "LdA=5 too small"},
		{func(g *Gemm) { g.TransA, g.LdA = true, 3 }, "LdA=3 too small"},
		{func(g *Gemm) { g.LdB = 4 }, "LdB=4 too small"},
		{func(g *Gemm) { g.TransB, g.LdB = true, 5 }, "LdB=5 too small"},
		{func(g *Gemm) { g.LdC = 4 }, "LdC=4 too small"},
		{func(g *Gemm) { g.Batch = -1 }, "negative batch"},
		{func(g *Gemm) { g.Batch, g.StrideC = 2, 19 }, "would overlap"},
		{func(g *Gemm) { g.StrideA = -1 }, "negative batch stride"},
		{func(g *Gemm) { g.OutBF16, g.Beta = true, 1 }, "OutBF16 needs Beta == 0"},
		{func(g *Gemm) { g.Residual = 1 << 30 }, "ResidualScale 0"},
		{func(g *Gemm) { g.ResidualScale = 1 }, "without a Residual"},
		{func(g *Gemm) { g.Act = 7 }, "unknown activation"},
		{func(g *Gemm) { g.Prec = 5 }, "unknown precision"},
		{func(g *Gemm) { g.Alpha = float32(math.NaN()) }, "non-finite"},
	}
	for i, c := range cases {
		g := ok
		c.mod(&g)
		err := g.normalize()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want one containing %q", i, err, c.want)
		}
	}
	g := ok
	if err := g.normalize(); err != nil {
		t.Fatalf("valid description refused: %v", err)
	}
	if g.LdA != 6 || g.LdB != 5 || g.LdC != 5 || g.Batch != 1 {
		t.Errorf("defaults: LdA %d LdB %d LdC %d Batch %d, want 6 5 5 1", g.LdA, g.LdB, g.LdC, g.Batch)
	}

	// Pointer checks in GemmRun, also before any launch.
	r := testRuntime(t)
	if err := r.GemmRun(ok, 0, 1<<20, 2<<20); err == nil || !strings.Contains(err.Error(), "null pointer") {
		t.Errorf("null C: %v", err)
	}
	if err := r.GemmRun(ok, 1<<20, 1<<20+8, 2<<20); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("C overlapping A: %v", err)
	}
	if err := r.GemmRun(ok, 1<<20+2, 2<<20, 3<<20); err == nil || !strings.Contains(err.Error(), "not aligned") {
		t.Errorf("misaligned float32 C: %v", err)
	}
	shifted := ok
	shifted.Residual, shifted.ResidualScale = 1<<20+4, 1
	if err := r.GemmRun(shifted, 1<<20, 2<<20, 3<<20); err == nil || !strings.Contains(err.Error(), "without being C itself") {
		t.Errorf("residual overlapping C: %v", err)
	}
	biased := ok
	biased.Bias = 1<<20 + 16
	if err := r.GemmRun(biased, 1<<20, 2<<20, 3<<20); err == nil || !strings.Contains(err.Error(), "Bias overlaps C") {
		t.Errorf("bias inside C: %v", err)
	}
	bf := ok
	bf.OutBF16, bf.Residual, bf.ResidualScale = true, 1<<20, 1
	if err := r.GemmRun(bf, 1<<20, 2<<20, 3<<20); err == nil || !strings.Contains(err.Error(), "cannot alias") {
		t.Errorf("bf16 C as residual: %v", err)
	}
}

// gemmBenchShape is one benchmarked product (row-major, no transposes).
type gemmBenchShape struct {
	name    string
	m, n, k int
}

var gemmBenchShapes = []gemmBenchShape{
	{"4096^3", 4096, 4096, 4096},
	{"M65536_K128_N384", 65536, 384, 128},
	{"M65536_K384_N128", 65536, 128, 384},
}

// gemmBenchPrecs are the benchmarked arithmetics: bf16 with float32 or bf16
// output, tf32, and the SIMT fp32 path (square shape only: it is slow).
var gemmBenchPrecs = []struct {
	name    string
	prec    Precision
	outBF16 bool
}{
	{"bf16", PrecBF16, false},
	{"bf16out", PrecBF16, true},
	{"tf32", PrecTF32, false},
	{"fp32", PrecFP32, false},
}

// gemmBenchBuffers allocates A, B (random, in the input type) and C for a
// shape, once per benchmark.
func gemmBenchBuffers(b *testing.B, r *Runtime, s gemmBenchShape, prec Precision) (a, bm, c Ptr) {
	b.Helper()
	x := randn(1, s.m*s.k)
	y := randn(2, s.k*s.n)
	a, bm = gemmUploadOperands(b, r, prec, x, y)
	c, err := r.Alloc(int64(4 * s.m * s.n))
	if err != nil {
		b.Fatal(err)
	}
	return a, bm, c
}

// gemmTimeMs runs f n times between GPU events and returns ms per call.
func gemmTimeMs(b *testing.B, r *Runtime, n int, f func() error) float64 {
	b.Helper()
	if err := f(); err != nil { // warm-up (module JIT, allocator, caches)
		b.Fatal(err)
	}
	ms, err := r.Time(func() error {
		for i := 0; i < n; i++ {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ms / float64(n)
}

// BenchmarkGemm reports TFLOP/s (2MNK per product) of GemmRun on the square
// and the model's skinny shapes. The ratio to cuBLAS comes from
// BenchmarkGemmCuBLAS (-tags cuda,cublas) or bench/reference/gemm_torch.py.
func BenchmarkGemm(b *testing.B) {
	r := testRuntime(b)
	for _, s := range gemmBenchShapes {
		for _, p := range gemmBenchPrecs {
			if p.prec == PrecFP32 && s.k < 4096 {
				continue
			}
			b.Run(s.name+"/"+p.name, func(b *testing.B) {
				a, bm, c := gemmBenchBuffers(b, r, s, p.prec)
				defer freeAll(b, r, a, bm, c)
				g := Gemm{M: s.m, N: s.n, K: s.k, Alpha: 1, Prec: p.prec, OutBF16: p.outBF16}
				b.ResetTimer()
				ms := gemmTimeMs(b, r, b.N, func() error { return r.GemmRun(g, c, a, bm) })
				b.StopTimer()
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)/(ms*1e9), "TFLOP/s")
				b.ReportMetric(ms*1e3, "us/op")
			})
		}
	}
}

// gemmUploadOperands uploads A and B in prec's input type: bf16 (rounded to
// nearest even) for PrecBF16, float32 otherwise.
func gemmUploadOperands(tb testing.TB, r *Runtime, prec Precision, x, y []float32) (Ptr, Ptr) {
	tb.Helper()
	if prec != PrecBF16 {
		return upload(tb, r, x), upload(tb, r, y)
	}
	toBF16 := func(v []float32) []uint16 {
		h := make([]uint16, len(v))
		for i := range v {
			h[i] = bf16RNE(v[i])
		}
		return h
	}
	return uploadBF16(tb, r, toBF16(x)), uploadBF16(tb, r, toBF16(y))
}
