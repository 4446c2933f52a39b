//go:build amd64 && !noasm

// Pinball loss kernels (pinball.go), AVX-512 and AVX2: float64 arithmetic
// on one row segment, the length a multiple of 16. The sums keep vecLanes'
// 16 lanes (AVX-512: two registers of 8 doubles; AVX2: four of 4).

#include "textflag.h"
#include "vec_amd64.h"

// PB_Z: acc += max(tau*u, (tau-1)*u), u = y - p, for the 8 doubles p, tau
// (y in Z9, 1.0 in Z10); t is a temporary.
#define PB_Z(p, tau, acc, t) \
	VSUBPD p, Z9, p; \
	VSUBPD Z10, tau, t; \
	VMULPD p, tau, tau; \
	VMULPD p, t, t; \
	VMAXPD tau, t, t; \
	VADDPD t, acc, acc

// func pinballSumAVX512(acc *vecLanes, pred, taus []float32, y float64)
TEXT ·pinballSumAVX512(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), AX
	MOVQ pred_base+8(FP), SI
	MOVQ pred_len+16(FP), CX
	MOVQ taus_base+32(FP), DX
	VBROADCASTSD y+56(FP), Z9
	MOVQ $0x3ff0000000000000, R8
	VPBROADCASTQ R8, Z10
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z2, Z3)
	LD16_Z(DX, Z4, Z5)
	PB_Z(Z2, Z4, Z0, Z6)
	PB_Z(Z3, Z5, Z1, Z7)
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ loop
done:
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VZEROUPPER
	RET

// PG_Z: d = -tau where y > p, 1-tau where y < p, 0.5-tau where y == p,
// y-p (NaN) where unordered; out = scale*d. p, tau: 8 doubles; y Z9, 1.0
// Z10, 0.5 Z11, scale Z12, sign bit Z13.
#define PG_Z(p, tau, t) \
	VXORPD Z13, tau, t; \
	VCMPPD $1, p, Z9, K1; \
	VSUBPD tau, Z10, K1, t; \
	VCMPPD $0, p, Z9, K2; \
	VSUBPD tau, Z11, K2, t; \
	VCMPPD $3, p, Z9, K3; \
	VSUBPD p, Z9, K3, t; \
	VMULPD Z12, t, t

// func pinballGradAVX512(dpred, pred, taus []float32, y, scale float64)
TEXT ·pinballGradAVX512(SB), NOSPLIT, $0-88
	MOVQ dpred_base+0(FP), DI
	MOVQ dpred_len+8(FP), CX
	MOVQ pred_base+24(FP), SI
	MOVQ taus_base+48(FP), DX
	VBROADCASTSD y+72(FP), Z9
	VBROADCASTSD scale+80(FP), Z12
	MOVQ $0x3ff0000000000000, R8
	VPBROADCASTQ R8, Z10
	MOVQ $0x3fe0000000000000, R8
	VPBROADCASTQ R8, Z11
	MOVQ $0x8000000000000000, R8
	VPBROADCASTQ R8, Z13
	SHRQ $4, CX
	JZ done
loop:
	LD16_Z(SI, Z0, Z1)
	LD16_Z(DX, Z2, Z3)
	PG_Z(Z0, Z2, Z4)
	PG_Z(Z1, Z3, Z5)
	ST16_Z(Z4, Y4, Z5, Y5, DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// PB_Y: as PB_Z on 4 doubles (y Y9, 1.0 Y10).
#define PB_Y(p, tau, acc, t) \
	VSUBPD p, Y9, p; \
	VSUBPD Y10, tau, t; \
	VMULPD p, tau, tau; \
	VMULPD p, t, t; \
	VMAXPD tau, t, t; \
	VADDPD t, acc, acc

// func pinballSumAVX2(acc *vecLanes, pred, taus []float32, y float64)
TEXT ·pinballSumAVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), AX
	MOVQ pred_base+8(FP), SI
	MOVQ pred_len+16(FP), CX
	MOVQ taus_base+32(FP), DX
	VBROADCASTSD y+56(FP), Y9
	MOVQ $0x3ff0000000000000, R8
	MOVQ R8, X10
	VBROADCASTSD X10, Y10
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	VMOVUPD 96(AX), Y3
	SHRQ $4, CX
	JZ done
loop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD (DX), Y5
	PB_Y(Y4, Y5, Y0, Y6)
	VCVTPS2PD 16(SI), Y4
	VCVTPS2PD 16(DX), Y5
	PB_Y(Y4, Y5, Y1, Y6)
	VCVTPS2PD 32(SI), Y4
	VCVTPS2PD 32(DX), Y5
	PB_Y(Y4, Y5, Y2, Y6)
	VCVTPS2PD 48(SI), Y4
	VCVTPS2PD 48(DX), Y5
	PB_Y(Y4, Y5, Y3, Y6)
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VZEROUPPER
	RET

// PG_Y: as PG_Z on 4 doubles with VBLENDVPD (y Y9, 1.0 Y10, 0.5 Y11, scale
// Y12, sign Y13); m, u are temporaries.
#define PG_Y(p, tau, t, m, u) \
	VXORPD Y13, tau, t; \
	VSUBPD tau, Y10, u; \
	VCMPPD $1, p, Y9, m; \
	VBLENDVPD m, u, t, t; \
	VSUBPD tau, Y11, u; \
	VCMPPD $0, p, Y9, m; \
	VBLENDVPD m, u, t, t; \
	VSUBPD p, Y9, u; \
	VCMPPD $3, p, Y9, m; \
	VBLENDVPD m, u, t, t; \
	VMULPD Y12, t, t

// func pinballGradAVX2(dpred, pred, taus []float32, y, scale float64)
TEXT ·pinballGradAVX2(SB), NOSPLIT, $0-88
	MOVQ dpred_base+0(FP), DI
	MOVQ dpred_len+8(FP), CX
	MOVQ pred_base+24(FP), SI
	MOVQ taus_base+48(FP), DX
	VBROADCASTSD y+72(FP), Y9
	VBROADCASTSD scale+80(FP), Y12
	MOVQ $0x3ff0000000000000, R8
	MOVQ R8, X10
	VBROADCASTSD X10, Y10
	MOVQ $0x3fe0000000000000, R8
	MOVQ R8, X11
	VBROADCASTSD X11, Y11
	MOVQ $0x8000000000000000, R8
	MOVQ R8, X13
	VBROADCASTSD X13, Y13
	SHRQ $4, CX
	JZ done
loop:
	LD16_Y(SI, Y0, Y1, Y2, Y3)
	VCVTPS2PD (DX), Y4
	PG_Y(Y0, Y4, Y5, Y6, Y7)
	VCVTPS2PD 16(DX), Y4
	PG_Y(Y1, Y4, Y8, Y6, Y7)
	VCVTPS2PD 32(DX), Y4
	PG_Y(Y2, Y4, Y14, Y6, Y7)
	VCVTPS2PD 48(DX), Y4
	PG_Y(Y3, Y4, Y15, Y6, Y7)
	ST16_Y(Y5, X5, Y8, X8, Y14, X14, Y15, X15, DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
