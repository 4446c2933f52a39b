package prior

import (
	"math"
)

// smooth1D is a random smooth function of one standardised input: a sum of
// one to three pieces (linear, sine, tanh step, bump, hinge, cubic, signed
// log), the shapes that dose-response curves, saturation effects, seasonal
// effects and thresholds take in real data. It is used by the GAM and
// additive families and by the power-law-importance augmentation.
type smooth1D struct {
	pieces []smoothPiece
}

type smoothPiece struct {
	kind       int
	a, w, c, s float64
}

const (
	pieceLinear = iota
	pieceSin
	pieceTanh
	pieceBump
	pieceHinge
	pieceCubic
	pieceSlog
	numPieceKinds
)

func newSmooth1D(r Source) smooth1D {
	n := IntRange(r, 1, 3)
	g := smooth1D{pieces: make([]smoothPiece, n)}
	for k := range g.pieces {
		g.pieces[k] = smoothPiece{
			kind: r.Intn(numPieceKinds),
			a:    Normal(r, 0, 1),
			w:    LogUniform(r, 0.5, 3),
			c:    Normal(r, 0, 0.8),
			s:    LogUniform(r, 0.3, 1.5),
		}
	}
	return g
}

// eval returns g(z) for a standardised z (expected within about ±5).
func (g smooth1D) eval(z float64) float64 {
	v := 0.0
	for _, p := range g.pieces {
		switch p.kind {
		case pieceLinear:
			v += p.a * z
		case pieceSin:
			v += p.a * math.Sin(p.w*z+p.c)
		case pieceTanh:
			v += p.a * math.Tanh(p.w*(z-p.c))
		case pieceBump:
			d := (z - p.c) / p.s
			v += p.a * math.Exp(-0.5*d*d)
		case pieceHinge:
			v += p.a * math.Max(0, z-p.c)
		case pieceCubic:
			v += p.a * (0.3*z*z*z - z) / 3
		case pieceSlog:
			v += p.a * math.Copysign(math.Log1p(p.w*math.Abs(z)), z)
		}
	}
	return v
}

// evalStandardised returns g applied to every element of z, standardised to
// mean 0 and variance 1; ok is false when g is constant on z.
func (g smooth1D) evalStandardised(z []float64) (out []float64, ok bool) {
	out = make([]float64, len(z))
	for i, v := range z {
		out[i] = g.eval(v)
	}
	return out, standardiseInPlace(out)
}
