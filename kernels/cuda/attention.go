//go:build cuda

package cuda

import (
	"fmt"
	"math"
)

// Scaled dot-product attention on the GPU with the semantics of
// tensor.AttentionBackend (kernels/ref/attention.go): for head (b, h), query
// row i and key j, z_ij = s_i q_i . k_j with s_i = scale * qscale[b,h,i]
// (scale alone when qscale is 0), out_i = softmax_j(z_i) V, lse_i = log sum_j
// exp(z_ij); the backward gives dq, dk, dv and, with qscale, dqscale.
//
// Two kernel families: key sets of at most attnShortMaxNk keys whose
// backward fits in shared memory run attention_short.cu (exact float32,
// many sequences per CTA: feature attention); longer ones the flash kernels
// of attention.cu (bf16 tensor cores, fp32 accumulation: row attention). The
// float32 entry points round q, k, v (and dout) to bf16 for the flash path;
// the error that costs is stated in attention.cu (about 1e-2 of the output
// scale). The forward and the backward of one shape always take the same
// path, so the lse the backward reads is the one its recomputation matches.

// AttnShape is the shape of an attention call: q is [B, H, Nq, D], k and v
// [B, H, Nk, D], each with the element strides of its b, h and row axes in
// QStride, KStride, VStride (the last axis has unit stride), so heads can be
// views of a packed QKV projection. Outputs are contiguous.
type AttnShape struct {
	B, H, Nq, Nk, D           int
	QStride, KStride, VStride [3]int64
}

// ContiguousAttnShape returns the shape of contiguous q [B,H,Nq,D] and
// k, v [B,H,Nk,D].
func ContiguousAttnShape(b, h, nq, nk, d int) AttnShape {
	qs := [3]int64{int64(h * nq * d), int64(nq * d), int64(d)}
	ks := [3]int64{int64(h * nk * d), int64(nk * d), int64(d)}
	return AttnShape{B: b, H: h, Nq: nq, Nk: nk, D: d, QStride: qs, KStride: ks, VStride: ks}
}

const (
	attnMaxD       = 128 // flash kernels pad the head dimension to 64 or 128
	attnShortMaxNk = 128 // short kernels hold four keys per lane
	flashBN        = 64  // keys per K/V tile of the flash forward and dq pass
	flashBwdRows   = 64  // keys (dk/dv pass) or queries (dq pass) per backward CTA
	maxGridY       = 65535
)

// Test hooks (package tests only): force the kernel family or the number of
// key splits of the flash forward.
const (
	attnPathAuto = iota
	attnPathFlash
	attnPathShort
)

var (
	attnForcePath  = attnPathAuto
	attnForceSplit = 0 // > 0: split the flash forward's keys this many ways (capped at the number of tiles)
)

// check validates the shape and the scale.
func (s AttnShape) check(op string, scale float64) error {
	if s.B < 0 || s.H < 0 || s.Nq < 0 || s.Nk < 0 {
		return fmt.Errorf("cuda: %s: negative size in shape B=%d H=%d Nq=%d Nk=%d", op, s.B, s.H, s.Nq, s.Nk)
	}
	if s.D < 1 || s.D > attnMaxD {
		return fmt.Errorf("cuda: %s: head dimension %d outside 1..%d", op, s.D, attnMaxD)
	}
	if s.Nk == 0 && s.B*s.H*s.Nq > 0 {
		return fmt.Errorf("cuda: %s: %d query rows attend to an empty key set (Nk = 0)", op, s.Nq)
	}
	if s.H > maxGridY {
		return fmt.Errorf("cuda: %s: %d heads (at most %d)", op, s.H, maxGridY)
	}
	for _, st := range [][3]int64{s.QStride, s.KStride, s.VStride} {
		if st[0] < 0 || st[1] < 0 || st[2] < 0 {
			return fmt.Errorf("cuda: %s: negative stride in %v", op, st)
		}
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) {
		return fmt.Errorf("cuda: %s: scale %v is not finite", op, scale)
	}
	return nil
}

// needPtrs returns an error naming the first zero pointer of name/value pairs.
func needPtrs(op string, nv ...any) error {
	for i := 0; i+1 < len(nv); i += 2 {
		if nv[i+1].(Ptr) == 0 {
			return fmt.Errorf("cuda: %s: %s is a null pointer", op, nv[i])
		}
	}
	return nil
}

// attnUseShort reports whether shape s runs the short-sequence kernels.
func (r *Runtime) attnUseShort(s AttnShape) bool {
	fits := s.Nk <= attnShortMaxNk && shortBwdBytes(1, s.Nk, s.D, shortBwdChunk(s.Nq)) <= shortSmemMax
	switch attnForcePath {
	case attnPathFlash:
		return false
	case attnPathShort:
		return fits
	}
	return fits
}

// AttentionFwd computes out ([B,H,Nq,D] float32, contiguous) and lse
// ([B,H,Nq]) from float32 q, k, v laid out as s says; qscale ([B,H,Nq]
// float32) may be 0.
func (r *Runtime) AttentionFwd(out, lse, q, k, v, qscale Ptr, s AttnShape, scale float64) error {
	const op = "AttentionFwd"
	if err := s.check(op, scale); err != nil {
		return err
	}
	if s.B*s.H*s.Nq == 0 {
		return nil
	}
	if err := needPtrs(op, "out", out, "lse", lse, "q", q, "k", k, "v", v); err != nil {
		return err
	}
	if r.attnUseShort(s) {
		return r.shortFwd(out, lse, q, k, v, qscale, s, scale)
	}
	p, err := r.packQKV(q, k, v, s)
	if err != nil {
		return err
	}
	defer p.free(r)
	return r.flashFwd(out, 0, lse, p.q, p.k, p.v, qscale, p.shape, scale)
}

// AttentionBwd computes dq ([B,H,Nq,D]), dk and dv ([B,H,Nk,D]), all float32
// contiguous and overwritten, and dqscale ([B,H,Nq]) when qscale is given
// (dqscale 0 skips it), from dout (contiguous like out) and the forward's
// out and lse.
func (r *Runtime) AttentionBwd(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse Ptr, s AttnShape, scale float64) error {
	const op = "AttentionBwd"
	if err := s.check(op, scale); err != nil {
		return err
	}
	if dqscale != 0 && qscale == 0 {
		return fmt.Errorf("cuda: %s: dqscale requested without qscale", op)
	}
	if s.B*s.H == 0 {
		return nil
	}
	if err := needPtrs(op, "dk", dk, "dv", dv); err != nil {
		return err
	}
	if s.Nq == 0 { // no query attends: dk and dv are empty sums
		n := int64(s.B * s.H * s.Nk * s.D)
		if err := r.Memset32(dk, 0, n); err != nil {
			return err
		}
		return r.Memset32(dv, 0, n)
	}
	if err := needPtrs(op, "dq", dq, "dout", dout, "q", q, "k", k, "v", v, "out", out, "lse", lse); err != nil {
		return err
	}
	if r.attnUseShort(s) {
		return r.shortBwd(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, s, scale)
	}
	p, err := r.packQKV(q, k, v, s)
	if err != nil {
		return err
	}
	defer p.free(r)
	rows := s.B * s.H * s.Nq
	dp := roundUp8(s.D)
	dob, err := r.Alloc(int64(2 * rows * dp))
	if err != nil {
		return err
	}
	defer r.Free(dob)
	dsum, err := r.Alloc(int64(4 * rows))
	if err != nil {
		return err
	}
	defer r.Free(dsum)
	if err := r.Launch("attention", "nori_attention_bwd_pre_f32", r.elementwiseGrid(32*rows, 256), D1(256), 0,
		dob, dsum, dout, out, rows, s.D, dp); err != nil {
		return err
	}
	g := ContiguousAttnShape(s.B, s.H, s.Nq, s.Nk, s.D)
	return r.flashBwd(flashGrads{dq: dq, dk: dk, dv: dv, dqs: g.QStride, dks: g.KStride, dvs: g.VStride},
		dqscale, dob, int64(dp), dsum, p.q, p.k, p.v, qscale, lse, p.shape, scale)
}

// AttentionFwdBF16 is the forward for bf16 q, k, v (issue 8's bf16 model):
// always the flash kernels, whatever Nk. Rows must be 16-byte aligned: D a
// multiple of 8, every stride a multiple of 8 elements, q, k, v 16-byte
// aligned. out32 (float32) and out16 (bf16), contiguous [B,H,Nq,D], are
// written when non-zero (at least one); lse ([B,H,Nq] float32) always.
func (r *Runtime) AttentionFwdBF16(out32, out16, lse, q, k, v, qscale Ptr, s AttnShape, scale float64) error {
	const op = "AttentionFwdBF16"
	if err := s.check(op, scale); err != nil {
		return err
	}
	if s.B*s.H*s.Nq == 0 {
		return nil
	}
	if err := needPtrs(op, "lse", lse, "q", q, "k", k, "v", v); err != nil {
		return err
	}
	if out32 == 0 && out16 == 0 {
		return fmt.Errorf("cuda: %s: neither out32 nor out16 given", op)
	}
	if err := s.checkBF16Aligned(op, "q", q, "k", k, "v", v); err != nil {
		return err
	}
	return r.flashFwd(out32, out16, lse, q, k, v, qscale, s, scale)
}

// AttentionBwdBF16 is the backward for bf16 inputs: q, k, v as in
// AttentionFwdBF16, dout and out bf16 contiguous [B,H,Nq,D] (16-byte
// aligned), lse from the forward. dq, dk, dv are written with the element
// strides of q, k, v (so a packed dQKV buffer laid out like the packed QKV
// receives all three), as bf16 when gradBF16 and float32 otherwise, and must
// be 16-byte aligned; dqscale as in AttentionBwd.
func (r *Runtime) AttentionBwdBF16(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse Ptr, s AttnShape, scale float64, gradBF16 bool) error {
	const op = "AttentionBwdBF16"
	if err := s.check(op, scale); err != nil {
		return err
	}
	if dqscale != 0 && qscale == 0 {
		return fmt.Errorf("cuda: %s: dqscale requested without qscale", op)
	}
	if s.B*s.H == 0 || (s.Nq == 0 && s.Nk == 0) {
		return nil
	}
	if err := needPtrs(op, "dk", dk, "dv", dv, "k", k, "v", v); err != nil {
		return err
	}
	grads := flashGrads{dq: dq, dk: dk, dv: dv, dqs: s.QStride, dks: s.KStride, dvs: s.VStride, bf16: gradBF16}
	if s.Nq == 0 { // no query attends: dk and dv are empty sums
		if err := s.checkBF16Aligned(op, "k", k, "v", v, "dk", dk, "dv", dv); err != nil {
			return err
		}
		return r.flashZeroKV(grads, k, v, s)
	}
	if err := needPtrs(op, "dq", dq, "dout", dout, "q", q, "out", out, "lse", lse); err != nil {
		return err
	}
	if err := s.checkBF16Aligned(op, "q", q, "k", k, "v", v, "dout", dout, "out", out, "dq", dq, "dk", dk, "dv", dv); err != nil {
		return err
	}
	rows := s.B * s.H * s.Nq
	dsum, err := r.Alloc(int64(4 * rows))
	if err != nil {
		return err
	}
	defer r.Free(dsum)
	if err := r.Launch("attention", "nori_attention_bwd_pre_bf16", r.elementwiseGrid(32*rows, 256), D1(256), 0,
		dsum, dout, out, rows, s.D); err != nil {
		return err
	}
	return r.flashBwd(grads, dqscale, dout, int64(s.D), dsum, q, k, v, qscale, lse, s, scale)
}

// checkBF16Aligned enforces the flash kernels' 16-byte row chunks on
// caller-provided bf16 data.
func (s AttnShape) checkBF16Aligned(op string, nv ...any) error {
	if s.D%8 != 0 {
		return fmt.Errorf("cuda: %s: bf16 inputs need a head dimension that is a multiple of 8 (got %d)", op, s.D)
	}
	for _, st := range [][3]int64{s.QStride, s.KStride, s.VStride} {
		if st[0]%8 != 0 || st[1]%8 != 0 || st[2]%8 != 0 {
			return fmt.Errorf("cuda: %s: bf16 strides %v are not multiples of 8 elements", op, st)
		}
	}
	for i := 0; i+1 < len(nv); i += 2 {
		if p := nv[i+1].(Ptr); p%16 != 0 {
			return fmt.Errorf("cuda: %s: %s (%#x) is not 16-byte aligned", op, nv[i], uint64(p))
		}
	}
	return nil
}

func roundUp8(d int) int { return (d + 7) &^ 7 }

// packed holds bf16 copies of q, k, v: contiguous rows of roundUp8(D)
// elements, zero-padded, as the flash kernels read them.
type packed struct {
	q, k, v Ptr
	shape   AttnShape
}

func (p *packed) free(r *Runtime) {
	for _, x := range []Ptr{p.q, p.k, p.v} {
		if x != 0 {
			r.Free(x)
		}
	}
}

// packQKV rounds q, k, v to bf16 into scratch. Contiguous inputs with D a
// multiple of 8 go through ConvertF32ToBF16; strided views (packed QKV) or
// other head dimensions through the pack kernel, which also pads the rows.
func (r *Runtime) packQKV(q, k, v Ptr, s AttnShape) (*packed, error) {
	dp := roundUp8(s.D)
	p := &packed{}
	p.shape = AttnShape{B: s.B, H: s.H, Nq: s.Nq, Nk: s.Nk, D: s.D,
		QStride: [3]int64{int64(s.H * s.Nq * dp), int64(s.Nq * dp), int64(dp)},
		KStride: [3]int64{int64(s.H * s.Nk * dp), int64(s.Nk * dp), int64(dp)}}
	p.shape.VStride = p.shape.KStride
	one := func(dst *Ptr, src Ptr, n int, st [3]int64) error {
		rows := s.B * s.H * n
		var err error
		if *dst, err = r.Alloc(int64(2 * max(rows*dp, 1))); err != nil {
			return err
		}
		if rows == 0 {
			return nil
		}
		if s.D == dp && st == [3]int64{int64(s.H * n * s.D), int64(n * s.D), int64(s.D)} {
			return r.ConvertF32ToBF16(*dst, src, rows*dp)
		}
		return r.Launch("attention", "nori_attention_pack_bf16", r.elementwiseGrid(32*rows, 256), D1(256), 0,
			*dst, src, s.H, n, s.D, dp, st[0], st[1], st[2], rows)
	}
	if err := one(&p.q, q, s.Nq, s.QStride); err != nil {
		p.free(r)
		return nil, err
	}
	if err := one(&p.k, k, s.Nk, s.KStride); err != nil {
		p.free(r)
		return nil, err
	}
	if err := one(&p.v, v, s.Nk, s.VStride); err != nil {
		p.free(r)
		return nil, err
	}
	return p, nil
}

// flashDP returns the padded head dimension of the flash kernels.
func flashDP(d int) int {
	if d <= 64 {
		return 64
	}
	return 128
}

// flashFwdPlan chooses the query block (128 rows when the grid fills the GPU
// twice over, else 64) and the number of key splits (when even 64-row blocks
// leave fewer than 2 CTAs per SM: enough splits to reach that, each of at
// least two tiles).
func (r *Runtime) flashFwdPlan(s AttnShape) (bm, splits, tilesPerSplit int) {
	bh, target := s.B*s.H, 2*max(r.sms, 1)
	ntiles := CeilDiv(s.Nk, flashBN)
	bm = 128
	if bh*CeilDiv(s.Nq, 128) < target {
		bm = 64
	}
	splits = 1
	if ctas := bh * CeilDiv(s.Nq, bm); attnForceSplit > 0 {
		splits = attnForceSplit
	} else if ctas < target {
		splits = min(CeilDiv(target, ctas), ntiles/2, 32)
	}
	splits = max(1, min(splits, ntiles))
	tilesPerSplit = CeilDiv(ntiles, splits)
	return bm, CeilDiv(ntiles, tilesPerSplit), tilesPerSplit
}

// flashFwdShared returns the dynamic shared memory of the forward.
func flashFwdShared(dp, bm int) int { return (bm + 4*flashBN) * (dp + 8) * 2 }

// flashBwdBQ returns the query block of the dk/dv pass.
func flashBwdBQ(dp int) int {
	if dp == 64 {
		return 64
	}
	return 32
}

func flashBwdKVShared(dp int) int {
	bq := flashBwdBQ(dp)
	return (2*flashBwdRows+4*bq)*(dp+8)*2 + 2*4*bq*4
}

func flashBwdQShared(dp int) int { return (2*flashBwdRows + 4*flashBN) * (dp + 8) * 2 }

// headChunks calls f(bh0, n) for consecutive ranges of at most maxGridY of
// the B*H heads (the heads are the grid's y axis).
func headChunks(bh int, f func(bh0, n int) error) error {
	for bh0 := 0; bh0 < bh; bh0 += maxGridY {
		if err := f(bh0, min(maxGridY, bh-bh0)); err != nil {
			return err
		}
	}
	return nil
}

// flashFwd runs the flash forward on bf16 q, k, v (strides in s, rows
// 16-byte aligned and zero-padded to a multiple of 8).
func (r *Runtime) flashFwd(out32, out16, lse, q, k, v, qscale Ptr, s AttnShape, scale float64) error {
	dp := flashDP(s.D)
	bm, splits, tps := r.flashFwdPlan(s)
	rows := s.B * s.H * s.Nq
	kernel := fmt.Sprintf("nori_attention_fwd_d%d_bm%d", dp, bm)
	smem := flashFwdShared(dp, bm)
	o32, o16, l := out32, out16, lse
	var outSplit, lseSplit int64
	if splits > 1 {
		opart, err := r.Alloc(int64(4 * splits * rows * s.D))
		if err != nil {
			return err
		}
		defer r.Free(opart)
		lpart, err := r.Alloc(int64(4 * splits * rows))
		if err != nil {
			return err
		}
		defer r.Free(lpart)
		o32, o16, l = opart, 0, lpart
		outSplit, lseSplit = int64(rows*s.D), int64(rows)
	}
	err := headChunks(s.B*s.H, func(bh0, n int) error {
		return r.Launch("attention", kernel, D3(CeilDiv(s.Nq, bm), n, splits), D1(2*bm), smem,
			o32, o16, l, q, k, v, qscale, bh0, s.H, s.Nq, s.Nk, s.D,
			s.QStride[0], s.QStride[1], s.QStride[2], s.KStride[0], s.KStride[1], s.KStride[2],
			s.VStride[0], s.VStride[1], s.VStride[2], scale, tps, outSplit, lseSplit)
	})
	if err != nil || splits == 1 {
		return err
	}
	return r.Launch("attention", "nori_attention_combine", r.elementwiseGrid(32*rows, 256), D1(256), 0,
		out32, out16, lse, o32, l, rows, s.D, splits)
}

// flashGrads says where the flash backward writes dq, dk, dv: element
// strides of b, h, row for each, bf16 or float32.
type flashGrads struct {
	dq, dk, dv    Ptr
	dqs, dks, dvs [3]int64
	bf16          bool
}

// flashZeroKV writes dk = dv = 0 for Nq = 0: the dk/dv pass then loops over
// no query block and never reads q, dout, lse or D.
func (r *Runtime) flashZeroKV(g flashGrads, k, v Ptr, s AttnShape) error {
	return r.flashBwdKV(g, 0, 0, 0, 0, k, v, 0, 0, s, 1)
}

// flashBwd runs the two backward passes on bf16 q, k, v (strides in s),
// bf16 dout (rows of dors elements, contiguous per head) and D_i in dsum.
func (r *Runtime) flashBwd(g flashGrads, dqscale, dob Ptr, dors int64, dsum, q, k, v, qscale, lse Ptr, s AttnShape, scale float64) error {
	if err := r.flashBwdKV(g, dob, dors, dsum, q, k, v, qscale, lse, s, scale); err != nil {
		return err
	}
	dp := flashDP(s.D)
	kernel := fmt.Sprintf("nori_attention_bwd_q_d%d", dp)
	return headChunks(s.B*s.H, func(bh0, n int) error {
		return r.Launch("attention", kernel, D2(CeilDiv(s.Nq, flashBwdRows), n), D1(128), flashBwdQShared(dp),
			g.dq, boolInt(g.bf16), g.dqs[0], g.dqs[1], g.dqs[2], dqscale, q, k, v, dob, dors, lse, dsum, qscale,
			bh0, s.H, s.Nq, s.Nk, s.D, s.QStride[0], s.QStride[1], s.QStride[2], s.KStride[0], s.KStride[1], s.KStride[2],
			s.VStride[0], s.VStride[1], s.VStride[2], scale)
	})
}

func (r *Runtime) flashBwdKV(g flashGrads, dob Ptr, dors int64, dsum, q, k, v, qscale, lse Ptr, s AttnShape, scale float64) error {
	if s.Nk == 0 {
		return nil
	}
	dp := flashDP(s.D)
	kernel := fmt.Sprintf("nori_attention_bwd_kv_d%d", dp)
	return headChunks(s.B*s.H, func(bh0, n int) error {
		return r.Launch("attention", kernel, D2(CeilDiv(s.Nk, flashBwdRows), n), D1(128), flashBwdKVShared(dp),
			g.dk, g.dv, boolInt(g.bf16), g.dks[0], g.dks[1], g.dks[2], g.dvs[0], g.dvs[1], g.dvs[2],
			q, k, v, dob, dors, lse, dsum, qscale, bh0, s.H, s.Nq, s.Nk, s.D,
			s.QStride[0], s.QStride[1], s.QStride[2], s.KStride[0], s.KStride[1], s.KStride[2],
			s.VStride[0], s.VStride[1], s.VStride[2], scale)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
