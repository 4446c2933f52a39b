//go:build cuda

package cuda

// Launchers of attention_short.cu: exact float32 attention for key sets of
// at most attnShortMaxNk keys (feature attention), chosen by AttentionFwd and
// AttentionBwd (attnUseShort). Their shared-memory layouts are mirrored by
// shortFwdBytes and shortBwdBytes below.

const (
	shortWarps = 4 // warps per CTA (kNW in attention_short.cu)
	// shortSmemMax bounds the dynamic shared memory of one short CTA: below
	// the opt-in limit of sm_80 (163 KiB) and sm_90 (227 KiB). Shapes whose
	// backward needs more (e.g. Nk = 128 with D > 64) take the flash path.
	shortSmemMax = 160 << 10
	// shortSmemTarget is the shared memory packed into one CTA when several
	// sequences share it: small enough for several CTAs per SM.
	shortSmemTarget = 48 << 10
	shortMaxSeqs    = 16 // sequences per CTA at most
)

// shortLd is the shared row stride of the short kernels: odd, so lanes
// reading one column of different rows hit different banks.
func shortLd(d int) int { return d | 1 }

// shortFwdBytes is the forward's shared memory for g sequences of nk keys.
func shortFwdBytes(g, nk, d int) int {
	ld := shortLd(d)
	return 4 * (2*g*nk*ld + shortWarps*(ld+nk))
}

// shortBwdChunk is the backward's query chunk: one row per lane.
func shortBwdChunk(nq int) int { return max(1, min(nq, 32)) }

// shortBwdBytes is the backward's shared memory for g sequences of nk keys
// and query chunks of qc rows.
func shortBwdBytes(g, nk, d, qc int) int {
	ld := shortLd(d)
	return 4 * (g*(4*nk*ld+2*qc*ld+3*qc) + shortWarps*nk)
}

// shortSeqsPerCTA packs sequences into a CTA up to shortSmemTarget of shared
// memory (perSeq bytes each, fixed bytes once) while leaving at least two
// CTAs per SM.
func (r *Runtime) shortSeqsPerCTA(bh, perSeq, fixed int) int {
	g := max(1, min(shortMaxSeqs, (shortSmemTarget-fixed)/max(perSeq, 1)))
	return max(1, min(g, bh/(2*max(r.sms, 1))))
}

func (r *Runtime) shortFwd(out, lse, q, k, v, qscale Ptr, s AttnShape, scale float64) error {
	bh := s.B * s.H
	ld := shortLd(s.D)
	g := r.shortSeqsPerCTA(bh, 4*2*s.Nk*ld, 4*shortWarps*(ld+s.Nk))
	qc := s.Nq // a whole sequence per CTA when short, else chunks of 64 rows
	if qc > attnShortMaxNk {
		qc = 64
	}
	if CeilDiv(s.Nq, qc) > maxGridY {
		qc = CeilDiv(s.Nq, maxGridY)
	}
	return r.Launch("attention_short", "nori_attention_short_fwd", D2(CeilDiv(bh, g), CeilDiv(s.Nq, qc)), D1(32*shortWarps),
		shortFwdBytes(g, s.Nk, s.D), out, lse, q, k, v, qscale, bh, s.H, s.Nq, s.Nk, s.D,
		s.QStride[0], s.QStride[1], s.QStride[2], s.KStride[0], s.KStride[1], s.KStride[2],
		s.VStride[0], s.VStride[1], s.VStride[2], scale, g, qc)
}

func (r *Runtime) shortBwd(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse Ptr, s AttnShape, scale float64) error {
	bh := s.B * s.H
	qc := shortBwdChunk(s.Nq)
	fixed := shortBwdBytes(0, s.Nk, s.D, qc)
	g := r.shortSeqsPerCTA(bh, shortBwdBytes(1, s.Nk, s.D, qc)-fixed, fixed)
	return r.Launch("attention_short", "nori_attention_short_bwd", D1(CeilDiv(bh, g)), D1(32*shortWarps),
		shortBwdBytes(g, s.Nk, s.D, qc), dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, bh, s.H, s.Nq, s.Nk, s.D,
		s.QStride[0], s.QStride[1], s.QStride[2], s.KStride[0], s.KStride[1], s.KStride[2],
		s.VStride[0], s.VStride[1], s.VStride[2], scale, g, qc)
}
