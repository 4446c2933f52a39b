//go:build cuda

package cuda

import "fmt"

// The value encoder of nori (nori/model_embed.go inputEncoder.embed on the
// features of nori/encoder.go scalarFeatures) on the GPU.
//
// What is fused (src/encoder.cu), per scalar s of the normalised, padded
// table values vals [S] (float64, the host's in.vals; NaN where the cell is
// missing, i.e. where nori's in.miss is set):
//
//	mantissa m, decimal exponent e and FiLM code of the value (mantissaExponent, filmCode)
//	rbf_k = exp(-(m - c_k)^2 / (2 sigma^2)), c_k = 10k/(K-1), rounded to float32
//	h_k   = rbf_k * gamma[code, k] + beta[code, k]       (float32, as the CPU's Mul and Add)
//	out_k = LayerNorm(h)_k * lnw_k + lnb_k                (value_norm; kernels/ref.LayerNorm)
//
// RBFEncodeFwd writes out [S, K] and the LayerNorm statistics; RBFEncodeBwd
// takes dout [S, K] and returns the gradients of the FiLM tables gamma and
// beta [40, K] and of lnw, lnb [K] (deterministic: per-block float64
// partials added in a fixed order, no atomics). The RBF centres and width are
// constants in nori (not learned) and the values are data, so nothing else
// on this side has a gradient. Missing scalars use code 0 and rbf = 0 as on
// the CPU; their out rows are computed but replaced below, and they receive
// no gradient.
//
// What the caller composes around it:
//
//	forward:  gamma, beta = sigmoid, tanh of the FiLM MLP on the 40 codes (40 rows: ordinary ops)
//	          h = RBFEncodeFwd(vals, gamma, beta, value_norm)                   [S, K]
//	          v = h Wout^T + bout  (GemmRun, value_out)                          [S, E]
//	          RBFMissingFwd(v, vals, missing)   (rows of missing cells <- the missing vector)
//	backward: RBFMissingBwd(dmissing, dv, vals) (dmissing = sum of those rows; the rows of dv zeroed)
//	          dWout = dv^T h, dbout = column sums of dv, dh = dv Wout         (GemmRun / reductions)
//	          RBFEncodeBwd(dgamma, dbeta, dlnw, dlnb, dh, ...)
//	          dgamma, dbeta back through sigmoid/tanh and the FiLM MLP (40 rows)
//
// Gradients are written (not accumulated); add them to existing gradients
// in the caller. With FiLM off pass gamma = beta = 0 (h = rbf) and
// dgamma = dbeta = 0. NaN in vals means "missing": only pass NaN when the
// model has its missing embedding (nori fills missing cells otherwise).
//
// Agreement with the CPU: rbf equals the CPU's float32 value except where
// CUDA's and Go's float64 exp differ in the last bit across a float32
// rounding boundary; the LayerNorm sums run in a warp tree instead of in
// order; out agrees to about 1 float32 ulp of its magnitude. Measured speed:
// not yet run on a GPU.

// Limits of encoder.cu: K <= 32*ENC_MAXJ (registers per lane), 32-scalar
// backward tiles, at most encMaxBlocks backward blocks (bounds the partials
// to encMaxBlocks*82K float64).
const (
	encMaxK      = 128
	encTile      = 32
	encCodes     = 40
	encMaxBlocks = 384 // ~3 resident blocks per SM on an H100 at K = 64
)

func checkEncoder(op string, S, K int, sigma float64) error {
	if S < 0 {
		return fmt.Errorf("cuda: %s: %d scalars", op, S)
	}
	if K < 2 || K > encMaxK {
		return fmt.Errorf("cuda: %s: %d RBF centres; the kernel supports 2..%d", op, K, encMaxK)
	}
	if !(sigma > 0) {
		return fmt.Errorf("cuda: %s: RBF sigma %g; want > 0", op, sigma)
	}
	return nil
}

// RBFEncodeFwd computes out [S, K] = LayerNorm(FiLM(RBF(vals))) for the S
// float64 values at vals (NaN: missing) with K centres of width sigma, the
// FiLM tables gamma, beta [40, K] (both 0: FiLM off) and the LayerNorm
// weight lnw and bias lnb [K] (0: none) with epsilon eps. mean and rstd [S]
// receive the float32 LayerNorm statistics RBFEncodeBwd needs (both 0: not
// saved, for inference).
func (r *Runtime) RBFEncodeFwd(out, mean, rstd, vals, gamma, beta, lnw, lnb Ptr, S, K int, sigma, eps float64) error {
	if err := checkEncoder("RBFEncodeFwd", S, K, sigma); err != nil {
		return err
	}
	if (gamma == 0) != (beta == 0) || (mean == 0) != (rstd == 0) {
		return fmt.Errorf("cuda: RBFEncodeFwd: gamma and beta (and mean and rstd) must be given together")
	}
	if !(eps > 0) {
		return fmt.Errorf("cuda: RBFEncodeFwd: LayerNorm eps %g; want > 0", eps)
	}
	if S == 0 {
		return nil
	}
	if out == 0 || vals == 0 {
		return fmt.Errorf("cuda: RBFEncodeFwd: null out or vals")
	}
	inv := 1 / (2 * sigma * sigma) // nori's expression, same bits
	return r.Launch("encoder", "nori_encoder_fwd", r.elementwiseGrid(S, 8), D1(256), 0,
		out, mean, rstd, vals, gamma, beta, lnw, lnb, S, K, inv, eps)
}

// RBFEncodeBwd writes the gradients of RBFEncodeFwd's parameters given
// dout [S, K]: dgamma and dbeta [40, K] (the FiLM tables; required when
// gamma is given, must be 0 when it is not), dlnw and dlnb [K] (each 0 to
// skip). vals, gamma, beta, lnw and sigma are the forward's inputs, mean and
// rstd its saved statistics. Missing scalars (NaN) contribute nothing.
// The sums are float64, per block of 32-scalar tiles then over blocks in a
// fixed order (the split depends on S only): deterministic on every GPU.
func (r *Runtime) RBFEncodeBwd(dgamma, dbeta, dlnw, dlnb, dout, vals, gamma, beta, lnw, mean, rstd Ptr, S, K int, sigma float64) (err error) {
	if err := checkEncoder("RBFEncodeBwd", S, K, sigma); err != nil {
		return err
	}
	film := gamma != 0
	if (gamma == 0) != (beta == 0) {
		return fmt.Errorf("cuda: RBFEncodeBwd: gamma and beta must be given together")
	}
	if film != (dgamma != 0) || film != (dbeta != 0) {
		return fmt.Errorf("cuda: RBFEncodeBwd: dgamma and dbeta are required with FiLM tables and must be 0 without")
	}
	if S == 0 {
		for _, o := range []struct {
			p Ptr
			n int
		}{{dgamma, encCodes * K}, {dbeta, encCodes * K}, {dlnw, K}, {dlnb, K}} {
			if o.p == 0 {
				continue
			}
			if err := r.Memset32(o.p, 0, int64(o.n)); err != nil {
				return err
			}
		}
		return nil
	}
	if dout == 0 || vals == 0 || mean == 0 || rstd == 0 {
		return fmt.Errorf("cuda: RBFEncodeBwd: null dout, vals, mean or rstd")
	}
	ntiles := CeilDiv(S, encTile)
	nb := min(ntiles, encMaxBlocks)
	tpb := CeilDiv(ntiles, nb)
	nb = CeilDiv(ntiles, tpb)
	accN, rec := 0, 2*K
	if film {
		accN, rec = encCodes*K, 82*K
	}
	part, err := r.Alloc(int64(8 * nb * rec))
	if err != nil {
		return err
	}
	defer func() {
		if ferr := r.Free(part); err == nil {
			err = ferr
		}
	}()
	shared := 2*accN*8 + 2*encTile*K*4 + encTile*4
	inv := 1 / (2 * sigma * sigma)
	if err := r.Launch("encoder", "nori_encoder_bwd", D1(nb), D1(256), shared,
		part, dout, vals, gamma, beta, lnw, mean, rstd, S, K, inv, tpb); err != nil {
		return err
	}
	for _, o := range []struct {
		p          Ptr
		off, width int
	}{{dgamma, 0, accN}, {dbeta, accN, accN}, {dlnw, 2 * accN, K}, {dlnb, 2*accN + K, K}} {
		if o.p == 0 {
			continue
		}
		if err := r.Launch("encoder", "nori_encoder_colsum", D1(CeilDiv(o.width, 256)), D1(256), 0,
			o.p, part, nb, rec, o.off, o.width); err != nil {
			return err
		}
	}
	return nil
}

// RBFMissingFwd replaces the rows s of v [S, E] whose value vals[s] is NaN
// by the missing vector [E] (nori's Where(miss, missing, v)).
func (r *Runtime) RBFMissingFwd(v, vals, missing Ptr, S, E int) error {
	if S < 0 || E < 1 {
		return fmt.Errorf("cuda: RBFMissingFwd: v is [%d, %d]", S, E)
	}
	if S == 0 {
		return nil
	}
	if v == 0 || vals == 0 || missing == 0 {
		return fmt.Errorf("cuda: RBFMissingFwd: null pointer")
	}
	return r.Launch("encoder", "nori_encoder_missing_fwd", r.elementwiseGrid(S, 8), D1(256), 0, v, vals, missing, S, E)
}

// RBFMissingBwd is the Where's backward: dmissing [E] = the sum of the rows
// of dv [S, E] whose value is NaN (float64, in row order per block of rows,
// blocks added in order: deterministic), and those rows of dv are set to 0
// in place, leaving the gradient that flows to value_out. dmissing may be 0
// (only zero the rows).
func (r *Runtime) RBFMissingBwd(dmissing, dv, vals Ptr, S, E int) (err error) {
	if S < 0 || E < 1 {
		return fmt.Errorf("cuda: RBFMissingBwd: dv is [%d, %d]", S, E)
	}
	if S == 0 {
		if dmissing != 0 {
			return r.Memset32(dmissing, 0, int64(E))
		}
		return nil
	}
	if dv == 0 || vals == 0 {
		return fmt.Errorf("cuda: RBFMissingBwd: null pointer")
	}
	nbx := min(CeilDiv(S, 256), 1024)
	rpb := CeilDiv(S, nbx)
	nbx = CeilDiv(S, rpb)
	part, err := r.Alloc(int64(8 * nbx * E))
	if err != nil {
		return err
	}
	defer func() {
		if ferr := r.Free(part); err == nil {
			err = ferr
		}
	}()
	if err := r.Launch("encoder", "nori_encoder_missing_bwd", D2(nbx, CeilDiv(E, 256)), D1(256), 0,
		part, dv, vals, S, E, rpb); err != nil {
		return err
	}
	if dmissing == 0 {
		return nil
	}
	return r.Launch("encoder", "nori_encoder_colsum", D1(CeilDiv(E, 256)), D1(256), 0, dmissing, part, nbx, E, 0, E)
}
