//go:build cuda

package cuda

import (
	"fmt"
	"math"
)

// Muon on the GPU: nn.Muon's step for one matrix parameter, with the
// elementwise stages in src/optim.cu and Newton-Schulz as GEMMs through
// GemmRun. Measured speed: not yet run on a GPU.

// MuonConfig holds Muon's hyperparameters (nn.MuonConfig's fields) and the
// precision of the Newton-Schulz products.
type MuonConfig struct {
	Momentum    float64 // mu of the momentum buffer B = mu*B + G, in [0, 1)
	Nesterov    bool    // orthogonalise G + mu*B instead of B
	NSSteps     int     // Newton-Schulz iterations (>= 1; nori uses 5)
	WeightDecay float64 // decoupled: W -= lr*WeightDecay*W
	// Prec is the GEMM precision of Newton-Schulz: PrecFP32 (the zero value:
	// float32 FMAs, agrees with nn.Muon to float32 rounding), PrecTF32 or
	// PrecBF16 (tensor cores; the iterate, A and bA+cA^2 are rounded to bf16
	// before each product, ~3 significant digits, which the iteration
	// tolerates since it only needs singular values pushed near 1).
	Prec Precision
}

// Newton-Schulz quintic coefficients (nn's nsA, nsB, nsC).
const (
	muonNSA = 3.4445
	muonNSB = -4.7750
	muonNSC = 2.0315
)

// muonChunks splits n elements into fixed chunks for the sum of squares:
// the split depends on n only, so the norm has the same bits on every GPU.
func muonChunks(n int) (nb, chunk int) {
	nb = min(CeilDiv(n, 4096), 1024)
	chunk = CeilDiv(n, nb)
	return CeilDiv(n, chunk), chunk
}

// nsWork holds the device buffers of one Newton-Schulz run on a
// [rows, cols] matrix: x and y the iterate (ping-pong, [rows, cols] layout),
// a and bb the [m, m] Gram products (m = min(rows, cols)), part the norm's
// partials and, for PrecBF16, the bf16 copies of the operands.
type nsWork struct {
	x, y, a, bb, part Ptr
	xb, ab, bbb       Ptr
}

func (r *Runtime) newNSWork(rows, cols int, prec Precision) (*nsWork, error) {
	n, m := rows*cols, min(rows, cols)
	nb, _ := muonChunks(n)
	w := &nsWork{}
	sizes := []struct {
		p     *Ptr
		bytes int
	}{{&w.x, 4 * n}, {&w.y, 4 * n}, {&w.a, 4 * m * m}, {&w.bb, 4 * m * m}, {&w.part, 8 * nb}}
	if prec == PrecBF16 {
		sizes = append(sizes, []struct {
			p     *Ptr
			bytes int
		}{{&w.xb, 2 * n}, {&w.ab, 2 * m * m}, {&w.bbb, 2 * m * m}}...)
	}
	for _, s := range sizes {
		p, err := r.Alloc(int64(s.bytes))
		if err != nil {
			w.free(r)
			return nil, err
		}
		*s.p = p
	}
	return w, nil
}

func (w *nsWork) free(r *Runtime) error {
	var first error
	for _, p := range []Ptr{w.x, w.y, w.a, w.bb, w.part, w.xb, w.ab, w.bbb} {
		if p != 0 {
			if err := r.Free(p); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func checkMuonShape(op string, rows, cols, steps int, prec Precision) error {
	if rows < 1 || cols < 1 {
		return fmt.Errorf("cuda: %s: matrix [%d, %d]", op, rows, cols)
	}
	if steps < 1 {
		return fmt.Errorf("cuda: %s: %d Newton-Schulz steps; want >= 1", op, steps)
	}
	if prec != PrecFP32 && prec != PrecTF32 && prec != PrecBF16 {
		return fmt.Errorf("cuda: %s: unknown precision %v", op, prec)
	}
	return nil
}

// newtonSchulz runs steps iterations X <- a X + (b A + c A^2) X, A = X X^T,
// from the normalised X0 in w.x ([rows, cols] layout) and returns the buffer
// (w.x or w.y) holding the result in the same layout. When rows > cols it
// iterates on the transpose without forming it (as nn does, so that A is the
// smaller Gram matrix): with U = X^T [rows, cols], A = U^T U and
// X' = a X + BB X becomes U' = a U + U BB^T.
func (r *Runtime) newtonSchulz(w *nsWork, rows, cols, steps int, prec Precision) (Ptr, error) {
	trans := rows > cols
	m, n := min(rows, cols), max(rows, cols)
	x, y := w.x, w.y
	opX, opA, opBB := x, w.a, w.bb // the GEMM operands (bf16 copies for PrecBF16)
	for k := 0; k < steps; k++ {
		if prec == PrecBF16 {
			if err := r.ConvertF32ToBF16(w.xb, x, rows*cols); err != nil {
				return 0, err
			}
			opX, opA, opBB = w.xb, w.ab, w.bbb
		} else {
			opX = x
		}
		// A = X X^T  [m, m]
		ga := Gemm{M: m, N: m, K: n, LdA: n, LdB: n, LdC: m, TransB: true, Alpha: 1, Prec: prec}
		if trans {
			ga = Gemm{M: m, N: m, K: n, LdA: m, LdB: m, LdC: m, TransA: true, Alpha: 1, Prec: prec}
		}
		if err := r.GemmRun(ga, w.a, opX, opX); err != nil {
			return 0, fmt.Errorf("cuda: Newton-Schulz A = X X^T: %w", err)
		}
		if prec == PrecBF16 {
			if err := r.ConvertF32ToBF16(w.ab, w.a, m*m); err != nil {
				return 0, err
			}
		}
		// BB = c A A + b A  [m, m]
		gb := Gemm{M: m, N: m, K: m, LdA: m, LdB: m, LdC: m, Alpha: muonNSC, Residual: w.a, ResidualScale: muonNSB, Prec: prec}
		if err := r.GemmRun(gb, w.bb, opA, opA); err != nil {
			return 0, fmt.Errorf("cuda: Newton-Schulz bA + cA^2: %w", err)
		}
		if prec == PrecBF16 {
			if err := r.ConvertF32ToBF16(w.bbb, w.bb, m*m); err != nil {
				return 0, err
			}
		}
		// Y = BB X + a X, or in the transposed layout Y^T = X^T BB^T + a X^T.
		gy := Gemm{M: m, N: n, K: m, LdA: m, LdB: n, LdC: n, Alpha: 1, Residual: x, ResidualScale: muonNSA, Prec: prec}
		ya, yb := opBB, opX
		if trans {
			gy = Gemm{M: n, N: m, K: m, LdA: m, LdB: m, LdC: m, TransB: true, Alpha: 1, Residual: x, ResidualScale: muonNSA, Prec: prec}
			ya, yb = opX, opBB
		}
		if err := r.GemmRun(gy, y, ya, yb); err != nil {
			return 0, fmt.Errorf("cuda: Newton-Schulz X' = aX + (bA + cA^2)X: %w", err)
		}
		x, y = y, x
	}
	return x, nil
}

// NewtonSchulz writes to out [rows, cols] the approximate orthogonalisation
// of u [rows, cols] that Muon applies (nn.NewtonSchulz): X0 = u/(||u||_F +
// 1e-7), then steps iterations with (a, b, c) = (3.4445, -4.7750, 2.0315).
// u is not modified; out must not overlap it. nn folds the normalisation
// into the first products' scalars; here X0 is formed (a float32 rounding
// per element), so the two agree to float32 rounding, not in bits.
func (r *Runtime) NewtonSchulz(out, u Ptr, rows, cols, steps int, prec Precision) (err error) {
	if err := checkMuonShape("NewtonSchulz", rows, cols, steps, prec); err != nil {
		return err
	}
	if out == 0 || u == 0 {
		return fmt.Errorf("cuda: NewtonSchulz: null pointer")
	}
	w, err := r.newNSWork(rows, cols, prec)
	if err != nil {
		return err
	}
	defer func() {
		if ferr := w.free(r); err == nil {
			err = ferr
		}
	}()
	n := rows * cols
	nb, chunk := muonChunks(n)
	if err := r.Launch("optim", "nori_optim_sumsq", D1(nb), D1(256), 0, w.part, u, n, chunk); err != nil {
		return err
	}
	if err := r.Launch("optim", "nori_optim_muon_normalize", r.elementwiseGrid(n, 256), D1(256), 0, w.x, u, w.part, nb, n); err != nil {
		return err
	}
	res, err := r.newtonSchulz(w, rows, cols, steps, prec)
	if err != nil {
		return err
	}
	return r.CopyDtoD(out, res, int64(4*n))
}

// MuonUpdate applies one step of nn.Muon to the float32 weight param viewed
// as [rows, cols], with its gradient grad and momentum buffer mom (same
// shape; mom is updated in place):
//
//	B  = mu*B + G                          (nori_optim_muon_momentum, ref.Axpby's bits)
//	U  = G + mu*B (Nesterov) or B          (same kernel, with the partial sums of U^2)
//	X0 = U/(||U||_F + 1e-7)                (nori_optim_muon_normalize; no host round trip)
//	O  = NewtonSchulz(X0), c.NSSteps GEMM iterations at c.Prec
//	W  = (1 - lr*wd)*W - lr*s*O,  s = sqrt(max(rows, cols)/min(rows, cols))   (Axpby)
//
// Nothing is downloaded, so steps of many parameters queue without syncs.
// The buffers must not overlap. The scratch (two [rows, cols] and two
// [m, m] float32 buffers) comes from the caching allocator and is returned
// when the call ends (the stream orders its reuse).
func (r *Runtime) MuonUpdate(param, grad, mom Ptr, rows, cols int, lr float64, c MuonConfig) (err error) {
	if err := checkMuonShape("MuonUpdate", rows, cols, c.NSSteps, c.Prec); err != nil {
		return err
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) || !(c.WeightDecay >= 0) {
		return fmt.Errorf("cuda: MuonUpdate: momentum %g (want [0, 1)), weight decay %g (want >= 0)", c.Momentum, c.WeightDecay)
	}
	if param == 0 || grad == 0 || mom == 0 {
		return fmt.Errorf("cuda: MuonUpdate: null pointer")
	}
	w, err := r.newNSWork(rows, cols, c.Prec)
	if err != nil {
		return err
	}
	defer func() {
		if ferr := w.free(r); err == nil {
			err = ferr
		}
	}()
	n := rows * cols
	nb, chunk := muonChunks(n)
	nesterov := 0
	if c.Nesterov {
		nesterov = 1
	}
	if err := r.Launch("optim", "nori_optim_muon_momentum", D1(nb), D1(256), 0,
		w.part, w.x, mom, grad, n, c.Momentum, nesterov, chunk); err != nil {
		return err
	}
	if err := r.Launch("optim", "nori_optim_muon_normalize", r.elementwiseGrid(n, 256), D1(256), 0,
		w.x, w.x, w.part, nb, n); err != nil {
		return err
	}
	o, err := r.newtonSchulz(w, rows, cols, c.NSSteps, c.Prec)
	if err != nil {
		return err
	}
	scale := math.Sqrt(float64(max(rows, cols)) / float64(min(rows, cols))) // nn.MuonScale
	return r.Axpby(param, o, n, 1-lr*c.WeightDecay, -lr*scale)
}
