//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/nori-ml/nori/kernels/ref"
)

// The CPU reference of the value encoder: nori/encoder.go's
// mantissaExponent, filmCode and scalarFeatures (unexported there, so
// transcribed here line for line), the FiLM Mul/Add as float32 operations
// (what the CPU's float32 tensors compute) and kernels/ref.LayerNorm /
// LayerNormGrad for value_norm.

// encRefMantissaExponent is nori's mantissaExponent.
func encRefMantissaExponent(v float64) (m float64, e int) {
	a := math.Abs(v)
	if a == 0 {
		return 0, 0
	}
	e = int(math.Floor(math.Log10(a)))
	switch {
	case a >= math.Pow10(e+1):
		e++
	case a < math.Pow10(e):
		e--
	}
	e = min(max(e, -9), 9)
	return a / math.Pow10(e), e
}

// encRefCode is nori's filmCode.
func encRefCode(v float64, e int) int {
	c := 0
	if v < 0 {
		c += 20
	}
	if e < 0 {
		c += 10
		e = -e
	}
	return c + e%10
}

type encRef struct {
	out, mean, rstd, h, rbf []float32
	codes                   []int
	miss                    []bool
}

// encRefFwd is the CPU's forward for S values.
func encRefFwd(vals []float64, gtab, btab, lnw, lnb []float32, K int, sigma, eps float64) encRef {
	S := len(vals)
	e := encRef{out: make([]float32, S*K), mean: make([]float32, S), rstd: make([]float32, S), h: make([]float32, S*K),
		rbf: make([]float32, S*K), codes: make([]int, S), miss: make([]bool, S)}
	centers := make([]float64, K)
	for k := range centers {
		centers[k] = 10.0 * float64(k) / float64(K-1)
	}
	inv := 1 / (2 * sigma * sigma)
	for s, v := range vals {
		if math.IsNaN(v) {
			e.miss[s] = true // features 0, code 0
		} else {
			m, ex := encRefMantissaExponent(v)
			e.codes[s] = encRefCode(v, ex)
			for k, c := range centers {
				d := m - c
				e.rbf[s*K+k] = float32(math.Exp(-d * d * inv))
			}
		}
		for k := 0; k < K; k++ {
			h := e.rbf[s*K+k]
			if gtab != nil {
				c := e.codes[s]
				h = float32(float32(h*gtab[c*K+k]) + btab[c*K+k])
			}
			e.h[s*K+k] = h
		}
	}
	ref.LayerNorm(e.out, e.mean, e.rstd, e.h, lnw, lnb, K, 0, S, eps)
	return e
}

// encRefBwd returns the float64 parameter gradients and, per output, the sum
// of the magnitudes of its terms (for the tolerance).
func encRefBwd(e encRef, dy, lnw []float32, K int, film bool) (dg, db, dw, dbias, mg, mb, mw, mbias []float64) {
	S := len(e.mean)
	dg, db, mg, mb = make([]float64, 40*K), make([]float64, 40*K), make([]float64, 40*K), make([]float64, 40*K)
	dw, dbias, mw, mbias = make([]float64, K), make([]float64, K), make([]float64, K), make([]float64, K)
	dh := make([]float32, S*K)
	for s := 0; s < S; s++ {
		if e.miss[s] {
			continue // the Where passes no gradient to missing scalars
		}
		ref.LayerNormGrad(dh, dw, dbias, dy, e.h, e.mean, e.rstd, lnw, K, s, s+1)
		for k := 0; k < K; k++ {
			xh := (float64(e.h[s*K+k]) - float64(e.mean[s])) * float64(e.rstd[s])
			mw[k] += math.Abs(float64(dy[s*K+k]) * xh)
			mbias[k] += math.Abs(float64(dy[s*K+k]))
			if film {
				c, d := e.codes[s]*K+k, float64(dh[s*K+k])
				dg[c] += d * float64(e.rbf[s*K+k])
				db[c] += d
				mg[c] += math.Abs(d * float64(e.rbf[s*K+k]))
				mb[c] += math.Abs(d)
			}
		}
	}
	return
}

// encValues returns S values spanning the decades the encoder must split
// correctly: exact powers of ten and their neighbours, zeros of both signs,
// huge and tiny values (exponent clamp), negatives, and NaN (missing).
func encValues(S int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	special := []float64{1, 10, 100, 0.1, 0.01, 1e-9, 1e9, 1e10, 1e-10, 9.999999999999998, 99.99999999999999,
		0.09999999999999999, 0, math.Copysign(0, -1), -1, -1e-3, 3e-300, -2e300, 5}
	v := make([]float64, S)
	for i := range v {
		switch {
		case i < len(special) && S > 1:
			v[i] = special[i]
		case rng.IntN(10) == 0:
			v[i] = math.NaN()
		default:
			v[i] = rng.NormFloat64() * math.Pow(10, rng.Float64()*24-12)
		}
	}
	return v
}

func uploadF64(t testing.TB, r *Runtime, x []float64) Ptr {
	t.Helper()
	p, err := r.Alloc(int64(8 * max(len(x), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) > 0 {
		if err := r.Upload(p, unsafe.Pointer(&x[0]), int64(8*len(x))); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// encTables returns the FiLM tables (sigmoid and tanh of random logits, as
// the FiLM MLP's outputs) and the LayerNorm affine parameters.
func encTables(K int, seed uint64) (gtab, btab, lnw, lnb []float32) {
	gtab, btab = randn(seed, 40*K), randn(seed+1, 40*K)
	for i := range gtab {
		gtab[i] = float32(1 / (1 + math.Exp(-float64(gtab[i]))))
		btab[i] = float32(math.Tanh(float64(btab[i])))
	}
	lnw, lnb = randn(seed+2, K), randn(seed+3, K)
	for i := range lnw {
		lnw[i] = 1 + 0.2*lnw[i]
		lnb[i] *= 0.1
	}
	return
}

func checkTol(t *testing.T, what string, got []float32, want, mag []float64, rel, abs float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= rel*mag[i]+abs) {
			t.Fatalf("%s[%d] = %g, want %g (diff %g, allowed %g)", what, i, got[i], want[i], d, rel*mag[i]+abs)
		}
	}
}

// TestRBFEncode checks RBFEncodeFwd and RBFEncodeBwd against the CPU
// reference above. Tolerances: out within 1e-5*(1+|want|) (the same float32
// h on both sides except where CUDA's and Go's exp differ in the last bit at
// a rounding boundary; the LayerNorm sums differ in order only); mean and
// rstd 1e-6 relative; the gradients within 1e-5 of the sum of their terms'
// magnitudes. Outputs are NaN-poisoned; the backward is run twice and must
// give the same bits.
func TestRBFEncode(t *testing.T) {
	r := testRuntime(t)
	const sigma, eps = 0.5, 1e-5
	cases := []struct {
		S, K      int
		film, aff bool
	}{
		{1, 64, true, true}, {7, 16, true, true}, {1000, 100, true, true}, {20011, 64, true, true},
		{1000, 128, true, false}, {1000, 64, false, true}, {7, 2, false, false}, {333, 33, true, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("S=%d/K=%d/film=%v/affine=%v", c.S, c.K, c.film, c.aff), func(t *testing.T) {
			S, K := c.S, c.K
			vals := encValues(S, uint64(S*131+K))
			gtab, btab, lnw, lnb := encTables(K, uint64(S+K))
			if !c.film {
				gtab, btab = nil, nil
			}
			if !c.aff {
				lnw, lnb = nil, nil
			}
			want := encRefFwd(vals, gtab, btab, lnw, lnb, K, sigma, eps)

			vd := uploadF64(t, r, vals)
			var gd, bd, wd, bbd Ptr
			if c.film {
				gd, bd = upload(t, r, gtab), upload(t, r, btab)
			}
			if c.aff {
				wd, bbd = upload(t, r, lnw), upload(t, r, lnb)
			}
			out, mean, rstd := poisoned(t, r, S*K), poisoned(t, r, S), poisoned(t, r, S)
			defer freeAll(t, r, vd, gd, bd, wd, bbd, out, mean, rstd)
			if err := r.RBFEncodeFwd(out, mean, rstd, vd, gd, bd, wd, bbd, S, K, sigma, eps); err != nil {
				t.Fatal(err)
			}
			got := download(t, r, out, S*K)
			for i, w := range want.out {
				if d := math.Abs(float64(got[i]) - float64(w)); !(d <= 1e-5*(1+math.Abs(float64(w)))) {
					s := i / K
					t.Fatalf("out[%d, %d] = %g, want %g (value %g, code %d)", s, i%K, got[i], w, vals[s], want.codes[s])
				}
			}
			gm, gr := download(t, r, mean, S), download(t, r, rstd, S)
			for s := range gm {
				if math.Abs(float64(gm[s]-want.mean[s])) > 1e-6*(math.Abs(float64(want.mean[s]))+1e-3) ||
					math.Abs(float64(gr[s]-want.rstd[s])) > 1e-6*math.Abs(float64(want.rstd[s])) {
					t.Fatalf("stats[%d] = (%g, %g), want (%g, %g)", s, gm[s], gr[s], want.mean[s], want.rstd[s])
				}
			}

			dy := randn(uint64(S*K+5), S*K)
			dyd := upload(t, r, dy)
			var dg, db Ptr
			if c.film {
				dg, db = poisoned(t, r, 40*K), poisoned(t, r, 40*K)
			}
			dw, dbias := poisoned(t, r, K), poisoned(t, r, K)
			defer freeAll(t, r, dyd, dg, db, dw, dbias)
			wg, wb, ww, wbias, mg, mb, mw, mbias := encRefBwd(want, dy, lnw, K, c.film)
			var first [][]float32
			for run := 0; run < 2; run++ {
				if err := r.RBFEncodeBwd(dg, db, dw, dbias, dyd, vd, gd, bd, wd, mean, rstd, S, K, sigma); err != nil {
					t.Fatal(err)
				}
				outs := [][]float32{download(t, r, dw, K), download(t, r, dbias, K)}
				if c.film {
					outs = append(outs, download(t, r, dg, 40*K), download(t, r, db, 40*K))
				}
				if run == 0 {
					first = outs
					continue
				}
				for i := range outs {
					for j := range outs[i] {
						if math.Float32bits(outs[i][j]) != math.Float32bits(first[i][j]) {
							t.Fatalf("RBFEncodeBwd not deterministic: output %d element %d %g then %g", i, j, first[i][j], outs[i][j])
						}
					}
				}
			}
			checkTol(t, "dlnw", first[0], ww, mw, 1e-5, 1e-6)
			checkTol(t, "dlnb", first[1], wbias, mbias, 1e-5, 1e-6)
			if c.film {
				checkTol(t, "dgamma", first[2], wg, mg, 1e-5, 1e-6)
				checkTol(t, "dbeta", first[3], wb, mb, 1e-5, 1e-6)
			}
		})
	}
}

// TestRBFMissing checks the missing-vector rows: forward replaces exactly
// the rows of NaN values (others keep their bits), backward sums exactly
// those rows of dv into dmissing (float64 reference, 1e-6 of the sum of
// magnitudes; dmissing poisoned first) and zeroes them in place.
func TestRBFMissing(t *testing.T) {
	r := testRuntime(t)
	for _, c := range [][2]int{{1, 7}, {7, 128}, {1000, 300}, {5003, 64}} {
		S, E := c[0], c[1]
		vals := encValues(S, uint64(S+E))
		if S == 1 {
			vals[0] = math.NaN()
		}
		miss := randn(uint64(E), E)
		v := randn(uint64(S*E), S*E)
		vd, md, xd := uploadF64(t, r, vals), upload(t, r, miss), upload(t, r, v)
		if err := r.RBFMissingFwd(xd, vd, md, S, E); err != nil {
			t.Fatal(err)
		}
		got := download(t, r, xd, S*E)
		for s := 0; s < S; s++ {
			for e := 0; e < E; e++ {
				want := v[s*E+e]
				if math.IsNaN(vals[s]) {
					want = miss[e]
				}
				if math.Float32bits(got[s*E+e]) != math.Float32bits(want) {
					t.Fatalf("S=%d E=%d: v[%d, %d] = %g, want %g", S, E, s, e, got[s*E+e], want)
				}
			}
		}
		dv := randn(uint64(S*E+1), S*E)
		dvd, dmd := upload(t, r, dv), poisoned(t, r, E)
		if err := r.RBFMissingBwd(dmd, dvd, vd, S, E); err != nil {
			t.Fatal(err)
		}
		want, mag := make([]float64, E), make([]float64, E)
		for s := 0; s < S; s++ {
			if math.IsNaN(vals[s]) {
				for e := 0; e < E; e++ {
					want[e] += float64(dv[s*E+e])
					mag[e] += math.Abs(float64(dv[s*E+e]))
					dv[s*E+e] = 0
				}
			}
		}
		checkTol(t, fmt.Sprintf("S=%d E=%d: dmissing", S, E), download(t, r, dmd, E), want, mag, 1e-6, 1e-30)
		gdv := download(t, r, dvd, S*E)
		for i := range dv {
			if math.Float32bits(gdv[i]) != math.Float32bits(dv[i]) {
				t.Fatalf("S=%d E=%d: dv[%d] = %g after the backward, want %g", S, E, i, gdv[i], dv[i])
			}
		}
		freeAll(t, r, vd, md, xd, dvd, dmd)
	}
}

// TestRBFEncodeErrors: unsupported shapes are errors, not launches.
func TestRBFEncodeErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 8)
	defer freeAll(t, r, p)
	if err := r.RBFEncodeFwd(p, p, p, p, 0, 0, 0, 0, 1, 129, 0.5, 1e-5); err == nil {
		t.Fatal("K = 129: no error")
	}
	if err := r.RBFEncodeFwd(p, p, p, p, p, 0, 0, 0, 1, 4, 0.5, 1e-5); err == nil {
		t.Fatal("gamma without beta: no error")
	}
	if err := r.RBFEncodeBwd(0, 0, p, p, p, p, p, p, 0, p, p, 1, 4, 0.5); err == nil {
		t.Fatal("FiLM tables without dgamma/dbeta: no error")
	}
}

// BenchmarkRBFEncode: the default config's K = 64 on 2^20 scalars; traffic
// counts the output (forward) or dout (backward) and the values.
func BenchmarkRBFEncode(b *testing.B) {
	r := testRuntime(b)
	const S, K = 1 << 20, 64
	vals := encValues(S, 1)
	gtab, btab, lnw, lnb := encTables(K, 2)
	vd := uploadF64(b, r, vals)
	gd, bd, wd, bbd := upload(b, r, gtab), upload(b, r, btab), upload(b, r, lnw), upload(b, r, lnb)
	out, mean, rstd := poisoned(b, r, S*K), poisoned(b, r, S), poisoned(b, r, S)
	dg, db, dw, dbias := poisoned(b, r, 40*K), poisoned(b, r, 40*K), poisoned(b, r, K), poisoned(b, r, K)
	defer freeAll(b, r, vd, gd, bd, wd, bbd, out, mean, rstd, dg, db, dw, dbias)
	b.Run("fwd", func(b *testing.B) {
		benchVsCopy(b, r, 4*S*K+16*S, func() error {
			return r.RBFEncodeFwd(out, mean, rstd, vd, gd, bd, wd, bbd, S, K, 0.5, 1e-5)
		})
	})
	b.Run("bwd", func(b *testing.B) {
		benchVsCopy(b, r, 4*S*K+16*S, func() error {
			return r.RBFEncodeBwd(dg, db, dw, dbias, out, vd, gd, bd, wd, mean, rstd, S, K, 0.5)
		})
	})
}
