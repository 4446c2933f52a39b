// Byte offsets into ·vconst (vec.go): constant index * 32. Keep in step
// with the vc* indices there (TestVecConstOffsets checks).
#define VC_LOG2E 0
#define VC_LN2HI 32
#define VC_LN2LO 64
#define VC_C7 96
#define VC_C6 128
#define VC_C5 160
#define VC_C4 192
#define VC_C3 224
#define VC_C2 256
#define VC_ONE 288
#define VC_LO 320
#define VC_HI 352
#define VC_SIGN 384
#define VC_ABS 416
#define VC_C128 448
#define VC_NEGINF 480
#define VC_BIAS 512
#define VC_GELU2C 544
#define VC_GELU2CK 576
#define VC_GELU6CK 608
#define VC_INVSQ2 640
#define VC_INVS2P 672
#define VC_ERF0 704
#define VC_ERF1 736
#define VC_ERF2 768
#define VC_ERF3 800
#define VC_ERF4 832
#define VC_ERF5 864
#define VC_ERF6 896
#define VC_ERF7 928
#define VC_ERF8 960
#define VC_ERF9 992

// Float64-lane helpers. LD16_Z converts 16 floats at (r) to two vectors of
// 8 doubles (elements 0-7, 8-15); ST16_Z converts back and stores 16.
#define LD16_Z(r, lo, hi) VCVTPS2PD (r), lo; VCVTPS2PD 32(r), hi
#define ST16_Z(zlo, ylo, zhi, yhi, r) VCVTPD2PS zlo, ylo; VCVTPD2PS zhi, yhi; VMOVUPS ylo, (r); VMOVUPS yhi, 32(r)

// LD16_Y converts 16 floats at (r) to four vectors of 4 doubles; ST16_Y
// converts back and stores 16.
#define LD16_Y(r, a, b, c, d) VCVTPS2PD (r), a; VCVTPS2PD 16(r), b; VCVTPS2PD 32(r), c; VCVTPS2PD 48(r), d
#define ST16_Y(ya, xa, yb, xb, yc, xc, yd, xd, r) \
	VCVTPD2PSY ya, xa; VCVTPD2PSY yb, xb; VCVTPD2PSY yc, xc; VCVTPD2PSY yd, xd; \
	VMOVUPS xa, (r); VMOVUPS xb, 16(r); VMOVUPS xc, 32(r); VMOVUPS xd, 48(r)
