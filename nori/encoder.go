package nori

// In-model normalisation of the raw table (host side, no parameters) and the
// per-scalar features the value encoder consumes. Everything here is computed
// in float64 and depends on the context rows only, so a query row's encoding
// depends on nothing but itself and the context: query rows are independent
// and can be processed in any chunks.
//
// Choices where the reference leaves a detail open or behaves badly:
//   - Means for filling NaN/±inf use the finite context values only (the
//     reference's nan-mean lets an infinity through and fills with inf/NaN).
//     A column without any finite context value is filled with 0. The
//     z-score's mean is that same fill value (mathematically the mean of the
//     filled column), so filled cells normalise to exactly 0.
//   - A feature counts as constant for the group scale sqrt(GroupSize/k) when
//     its (filled) context values are all equal; the reference also looks at
//     the query rows, which would make one query's encoding depend on the
//     others and break chunked inference.
//   - The decimal exponent is floor(log10|v|) corrected so that exact powers
//     of ten get their own decade (|v| = 100 has mantissa 1, exponent 2)
//     whatever the rounding of log10.
//   - Only NaN is "missing" (learned vector); ±inf is filled with the
//     context mean like in the reference, without an embedding of its own.
//   - Non-finite context targets are replaced by the finite context mean in
//     the target token (indicator -2 for NaN, 2 for +inf, 4 for -inf, as the
//     reference's NanEncoder) and in the y-aware embedding.

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// In-model normalisation constants of the reference.
const (
	normStdEps   = 1e-20 // added to the context standard deviation
	normClip     = 100   // z-scores are clipped to +-normClip
	maxExponent  = 9     // decimal exponents are clamped to [-9, 9]
	rbfCenterMax = 10.0  // RBF centres are spread evenly on [0, rbfCenterMax]
	filmCodes    = 2 * 2 * 10
	yIndMissing  = -2.0 // target indicator of a missing (or query) target
	yIndPosInf   = 2.0
	yIndNegInf   = 4.0
)

// tableInput is a batch of B tables after in-model normalisation.
type tableInput struct {
	B, N, F, nctx int
	gs, Fp, G     int           // group size, padded feature count (G*gs), groups
	vals          []float64     // [B, N, Fp] normalised, group-scaled values (0 where missing or padding)
	miss          []bool        // [B, N, Fp] NaN inputs (nil unless the missing embedding is on)
	yVal, yInd    []float64     // [B, N] target token inputs
	yCtx          []float64     // [B, nctx] finite context targets (y-aware embedding)
	dev           tensor.Device // where the model runs: the constant inputs are built there
}

// prepareInput validates x [B, N, F] and y [B, nctx] and normalises x with
// context statistics.
func prepareInput(cfg Config, x, y *tensor.Tensor, nctx int) (*tableInput, error) {
	if x == nil || y == nil {
		return nil, fmt.Errorf("nori: model input: x and y must not be nil")
	}
	xs, ys := x.Shape(), y.Shape()
	if len(xs) != 3 || xs[0] < 1 || xs[1] < 2 || xs[2] < 1 {
		return nil, fmt.Errorf("nori: model input: x has shape %v, want [B, N, F] with B, F >= 1 and N >= 2", xs)
	}
	B, N, F := xs[0], xs[1], xs[2]
	if nctx < 1 || nctx >= N {
		return nil, fmt.Errorf("nori: model input: %d context rows of %d: want 1 <= nctx < N (at least one context and one query row)", nctx, N)
	}
	if len(ys) != 2 || ys[0] != B || ys[1] != nctx {
		return nil, fmt.Errorf("nori: model input: y has shape %v, want [%d %d] (one target per context row)", ys, B, nctx)
	}
	xv, yv := x.Float64s(), y.Float64s()
	gs := cfg.GroupSize
	G := (F + gs - 1) / gs
	in := &tableInput{B: B, N: N, F: F, nctx: nctx, gs: gs, Fp: G * gs, G: G, dev: tensor.CPU}
	Fp := in.Fp
	in.vals = make([]float64, B*N*Fp)
	if cfg.MissingEmbedding {
		in.miss = make([]bool, B*N*Fp)
	}
	for b := 0; b < B; b++ {
		scale := make([]float64, Fp)
		for f := 0; f < F; f++ {
			at := func(n int) float64 { return xv[(b*N+n)*F+f] }
			// Fill value: mean of the finite context values.
			sum, cnt := 0.0, 0
			for n := 0; n < nctx; n++ {
				if v := at(n); !math.IsNaN(v) && !math.IsInf(v, 0) {
					sum += v
					cnt++
				}
			}
			fill := 0.0
			if cnt > 0 {
				fill = sum / float64(cnt)
			}
			filled := func(n int) float64 {
				if v := at(n); !math.IsNaN(v) && !math.IsInf(v, 0) {
					return v
				}
				return fill
			}
			mean, std := 0.0, 1.0
			if cfg.NormalizeX {
				// The mean of the filled context column equals the fill
				// value; using it exactly makes every filled cell exactly 0
				// (recomputing it would leave rounding noise of either
				// sign, and the sign feeds the FiLM sign embedding).
				mean = fill
				if nctx > 1 {
					ss := 0.0
					for n := 0; n < nctx; n++ {
						d := filled(n) - mean
						ss += d * d
					}
					std = math.Sqrt(ss/float64(nctx-1)) + normStdEps
				}
			}
			constant := true
			for n := 1; n < nctx; n++ {
				if filled(n) != filled(0) {
					constant = false
					break
				}
			}
			if !constant {
				scale[f] = 1 // marks a non-constant feature; replaced below
			}
			for n := 0; n < N; n++ {
				i := (b*N+n)*Fp + f
				if in.miss != nil && math.IsNaN(at(n)) {
					in.miss[i] = true
					continue
				}
				v := filled(n)
				if cfg.NormalizeX {
					v = math.Min(math.Max((v-mean)/std, -normClip), normClip)
				}
				in.vals[i] = v
			}
		}
		// Group scale sqrt(gs/k), k = non-constant features of the group.
		for g := 0; g < G; g++ {
			s := 1.0
			if cfg.GroupScale {
				k := 0
				for j := 0; j < gs; j++ {
					if scale[g*gs+j] != 0 {
						k++
					}
				}
				s = math.Sqrt(float64(gs) / float64(max(k, 1)))
			}
			for j := 0; j < gs; j++ {
				scale[g*gs+j] = s
			}
		}
		for n := 0; n < N; n++ {
			row := in.vals[(b*N+n)*Fp : (b*N+n+1)*Fp]
			for f := range row {
				row[f] *= scale[f]
			}
		}
	}
	in.yVal = make([]float64, B*N)
	in.yInd = make([]float64, B*N)
	in.yCtx = make([]float64, B*nctx)
	for b := 0; b < B; b++ {
		sum, cnt := 0.0, 0
		for n := 0; n < nctx; n++ {
			if v := yv[b*nctx+n]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				sum += v
				cnt++
			}
		}
		mean := 0.0
		if cnt > 0 {
			mean = sum / float64(cnt)
		}
		for n := 0; n < N; n++ {
			val, ind := mean, yIndMissing
			if n < nctx {
				switch v := yv[b*nctx+n]; {
				case math.IsInf(v, 1):
					ind = yIndPosInf
				case math.IsInf(v, -1):
					ind = yIndNegInf
				case !math.IsNaN(v):
					val, ind = v, 0
				}
				in.yCtx[b*nctx+n] = val
			}
			in.yVal[b*N+n], in.yInd[b*N+n] = val, ind
		}
	}
	return in, nil
}

// mantissaExponent splits |v| into a decimal mantissa and exponent:
// |v| = m * 10^e with e = floor(log10|v|) clamped to [-9, 9] (so m is in
// [1, 10) unless the clamp acted), and m = e = 0 for v = 0.
func mantissaExponent(v float64) (m float64, e int) {
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
	e = min(max(e, -maxExponent), maxExponent)
	return a / math.Pow10(e), e
}

// filmCode returns the FiLM conditioning code of v in [0, 40):
// sign*20 + exponentSign*10 + |exponent|.
func filmCode(v float64, e int) int {
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

// scalarFeatures returns, for rows [r0, r1) of every table, the RBF features
// [S, K] of each padded scalar (S = B*(r1-r0)*Fp, order [b][row][feature]),
// its FiLM code and whether it is missing (nil when none is).
func (in *tableInput) scalarFeatures(cfg Config, r0, r1 int) (rbf []float64, codes []int, miss []bool) {
	K := cfg.RBFCenters
	nr := r1 - r0
	S := in.B * nr * in.Fp
	rbf = make([]float64, S*K)
	codes = make([]int, S)
	centers := make([]float64, K)
	for k := range centers {
		centers[k] = rbfCenterMax * float64(k) / float64(K-1)
	}
	inv := 1 / (2 * cfg.RBFSigma * cfg.RBFSigma)
	anyMiss := false
	for b := 0; b < in.B; b++ {
		for n := 0; n < nr; n++ {
			src := (b*in.N + r0 + n) * in.Fp
			dst := (b*nr + n) * in.Fp
			for f := 0; f < in.Fp; f++ {
				s := dst + f
				if in.miss != nil && in.miss[src+f] {
					if miss == nil {
						miss = make([]bool, S)
					}
					miss[s], anyMiss = true, true
					continue // encoded by the missing vector; features stay 0
				}
				v := in.vals[src+f]
				m, e := mantissaExponent(v)
				codes[s] = filmCode(v, e)
				out := rbf[s*K : (s+1)*K]
				for k, c := range centers {
					d := m - c
					out[k] = math.Exp(-d * d * inv)
				}
			}
		}
	}
	if !anyMiss {
		miss = nil
	}
	return rbf, codes, miss
}

// constTensor returns a tensor on dev of the given dtype holding vals (built
// on the host, uploaded when dev is not the CPU).
func constTensor(dev tensor.Device, dt tensor.DType, vals []float64, shape ...int) *tensor.Tensor {
	var t *tensor.Tensor
	if dt == tensor.Float64 {
		t = tensor.FromFloat64s(vals, shape...)
	} else {
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		t = tensor.FromSlice(f, shape...)
	}
	if dev == nil || dev == tensor.CPU {
		return t
	}
	d := t.To(dev, dt)
	t.Release()
	return d
}
