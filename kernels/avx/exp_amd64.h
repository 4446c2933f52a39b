// Macros of the float32 exp family (algorithm and accuracy: exp.go). Both
// widths run the same operations in the same order as the Go code there.
//
// AVX-512 register convention (EXP_CONSTS_Z loads them): Z16 log2(e),
// Z17 ln2hi, Z18 ln2lo, Z19..Z24 Taylor coefficients 1/7!..1/2!, Z25 1.0,
// Z26 -174 (clamp low), Z27 89 (clamp high), Z28 the sign bit. Kernels may
// use Z29..Z31 and Z0..Z15. AVX2 code reads constants from ·vconst as
// memory operands instead (16 registers only).

#include "vec_amd64.h"

#define VCZ(off, reg) VBROADCASTSS ·vconst+off(SB), reg

#define EXP_CONSTS_Z \
	VCZ(VC_LOG2E, Z16); VCZ(VC_LN2HI, Z17); VCZ(VC_LN2LO, Z18); \
	VCZ(VC_C7, Z19); VCZ(VC_C6, Z20); VCZ(VC_C5, Z21); VCZ(VC_C4, Z22); \
	VCZ(VC_C3, Z23); VCZ(VC_C2, Z24); VCZ(VC_ONE, Z25); VCZ(VC_LO, Z26); \
	VCZ(VC_HI, Z27); VCZ(VC_SIGN, Z28)

// EXPP_Z: exp(x) = p*2^t, t integral. x is clobbered (it ends as r).
// Clamp with x as the second source so that NaN passes through; round to
// nearest even; Cody-Waite reduction with FMA; Horner for the degree-7
// Taylor polynomial.
#define EXPP_Z(x, p, t) \
	VMAXPS x, Z26, x; \
	VMINPS x, Z27, x; \
	VMULPS Z16, x, t; \
	VRNDSCALEPS $0, t, t; \
	VFNMADD231PS Z17, t, x; \
	VFNMADD231PS Z18, t, x; \
	VMOVAPS Z19, p; \
	VFMADD213PS Z20, x, p; \
	VFMADD213PS Z21, x, p; \
	VFMADD213PS Z22, x, p; \
	VFMADD213PS Z23, x, p; \
	VFMADD213PS Z24, x, p; \
	VFMADD213PS Z25, x, p; \
	VFMADD213PS Z25, x, p

// LOGISTIC_Z: sigmoid(v) = su*2^sc and 1-sigmoid(v) = oms, from
// E = exp(-|v|) = p*2^t and d = 1/(1+E): v >= 0 gives su = d, oms = E*d,
// sc = 0; v < 0 (sign bit set) gives su = p*d, oms = d, sc = t; v = -Inf
// gives su = 0 exactly (the clamped exp alone would leave p*d*2^-251, and
// -Inf*s must be NaN as in ref). v is kept; a and e are temporaries; K2
// ends as the sign mask of v; K3 is clobbered.
#define LOGISTIC_Z(v, su, oms, sc, a, e) \
	VPORD Z28, v, a; \
	EXPP_Z(a, e, sc); \
	VSCALEFPS sc, e, oms; \
	VADDPS Z25, oms, a; \
	VDIVPS a, Z25, a; \
	VMULPS a, oms, oms; \
	VMOVAPS a, su; \
	VPTESTMD Z28, v, K2; \
	VMULPS e, a, K2, su; \
	VMOVAPS a, K2, oms; \
	VMOVAPS.Z sc, K2, sc; \
	VPCMPEQD.BCST ·vconst+VC_NEGINF(SB), v, K3; \
	KNOTW K3, K3; \
	VMOVAPS.Z su, K3, su

// ERFC_Z: erfc(|x|/sqrt 2) = tp*2^n (Numerical Recipes' erfcc form
// t*exp(-z^2 + P(t)), t = 1/(1+z/2)). x is kept; z, t, q are temporaries.
#define ERFC_Z(x, tp, n, z, t, q) \
	VPANDND x, Z28, z; \
	VMULPS.BCST ·vconst+VC_INVSQ2(SB), z, z; \
	VMOVAPS z, t; \
	VFMADD213PS Z25, Z24, t; \
	VDIVPS t, Z25, t; \
	VBROADCASTSS ·vconst+VC_ERF0(SB), q; \
	VFMADD213PS.BCST ·vconst+VC_ERF1(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF2(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF3(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF4(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF5(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF6(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF7(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF8(SB), t, q; \
	VFMADD213PS.BCST ·vconst+VC_ERF9(SB), t, q; \
	VFNMADD231PS z, z, q; \
	EXPP_Z(q, tp, n); \
	VMULPS t, tp, tp

// TAILMASK_Z sets mask k to the low CX bits (CX < 16); clobbers AX.
#define TAILMASK_Z(k) MOVL $1, AX; SHLL CX, AX; DECL AX; KMOVW AX, k

// ---- AVX2 ----

#define VCY(off) ·vconst+off(SB)

// EXPP_Y: as EXPP_Z with memory constants; tmp is clobbered.
#define EXPP_Y(x, p, t, tmp) \
	VMOVUPS VCY(VC_LO), tmp; \
	VMAXPS x, tmp, x; \
	VMOVUPS VCY(VC_HI), tmp; \
	VMINPS x, tmp, x; \
	VMULPS VCY(VC_LOG2E), x, t; \
	VROUNDPS $0, t, t; \
	VFNMADD231PS VCY(VC_LN2HI), t, x; \
	VFNMADD231PS VCY(VC_LN2LO), t, x; \
	VMOVUPS VCY(VC_C7), p; \
	VFMADD213PS VCY(VC_C6), x, p; \
	VFMADD213PS VCY(VC_C5), x, p; \
	VFMADD213PS VCY(VC_C4), x, p; \
	VFMADD213PS VCY(VC_C3), x, p; \
	VFMADD213PS VCY(VC_C2), x, p; \
	VFMADD213PS VCY(VC_ONE), x, p; \
	VFMADD213PS VCY(VC_ONE), x, p

// SCALE_Y: out = v*2^t for integral t in [-251, 128]: 2^(t>>1) (exact,
// normal) then 2^(t - t>>1), so the product is rounded once like
// VSCALEFPS. i1, i2 are temporaries; out may be v.
#define SCALE_Y(v, t, out, i1, i2) \
	VCVTPS2DQ t, i1; \
	VPSRAD $1, i1, i2; \
	VPSUBD i2, i1, i1; \
	VPADDD VCY(VC_BIAS), i2, i2; \
	VPSLLD $23, i2, i2; \
	VMULPS i2, v, out; \
	VPADDD VCY(VC_BIAS), i1, i1; \
	VPSLLD $23, i1, i1; \
	VMULPS i1, out, out

// LOGISTIC_Y: as LOGISTIC_Z, blending on the sign bit of v with VBLENDVPS.
#define LOGISTIC_Y(v, su, oms, sc, a, e, t1, t2) \
	VORPS VCY(VC_SIGN), v, a; \
	EXPP_Y(a, e, sc, t1); \
	SCALE_Y(e, sc, oms, t1, t2); \
	VADDPS VCY(VC_ONE), oms, a; \
	VMOVUPS VCY(VC_ONE), t1; \
	VDIVPS a, t1, a; \
	VMULPS a, oms, oms; \
	VMULPS e, a, e; \
	VBLENDVPS v, e, a, su; \
	VBLENDVPS v, a, oms, oms; \
	VXORPS t1, t1, t1; \
	VBLENDVPS v, sc, t1, sc; \
	VPCMPEQD VCY(VC_NEGINF), v, t1; \
	VANDNPS su, t1, su

// ERFC_Y: as ERFC_Z. x is kept; z, t, q, tmp are temporaries.
#define ERFC_Y(x, tp, n, z, t, q, tmp) \
	VANDPS VCY(VC_ABS), x, z; \
	VMULPS VCY(VC_INVSQ2), z, z; \
	VMOVUPS VCY(VC_C2), t; \
	VFMADD213PS VCY(VC_ONE), z, t; \
	VMOVUPS VCY(VC_ONE), tmp; \
	VDIVPS t, tmp, t; \
	VMOVUPS VCY(VC_ERF0), q; \
	VFMADD213PS VCY(VC_ERF1), t, q; \
	VFMADD213PS VCY(VC_ERF2), t, q; \
	VFMADD213PS VCY(VC_ERF3), t, q; \
	VFMADD213PS VCY(VC_ERF4), t, q; \
	VFMADD213PS VCY(VC_ERF5), t, q; \
	VFMADD213PS VCY(VC_ERF6), t, q; \
	VFMADD213PS VCY(VC_ERF7), t, q; \
	VFMADD213PS VCY(VC_ERF8), t, q; \
	VFMADD213PS VCY(VC_ERF9), t, q; \
	VFNMADD231PS z, z, q; \
	EXPP_Y(q, tp, n, tmp); \
	VMULPS t, tp, tp

// TAILMASK_Y loads into m the VMASKMOVPS mask of the low CX lanes (CX < 8)
// from the sliding window vmask8 (8 ones then 8 zeros); clobbers AX.
#define TAILMASK_Y(m) MOVQ $8, AX; SUBQ CX, AX; LEAQ ·vmask8(SB), R11; VMOVDQU (R11)(AX*4), m
