package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Forward passes of every layer against plain-Go float64 computations on
// random inputs, in float32 and float64, on the no-grad and the recording
// tape.

func tapes() map[string]func() *autograd.Tape {
	return map[string]func() *autograd.Tape{"nograd": autograd.NoGrad, "record": autograd.NewTape}
}

func TestLinearForward(t *testing.T) {
	for _, dt := range dtypes {
		for _, bias := range []bool{false, true} {
			for _, shape := range [][]int{{7}, {1, 7}, {5, 7}, {2, 3, 7}, {2, 1, 3, 7}} {
				b := builderFor(dt, 3)
				l := NewLinear(b, 7, 5, bias)
				x := randn(dt, 100, shape...)
				for name, mk := range tapes() {
					tp := mk()
					y := l.Forward(tp, autograd.Const(x))
					wantShape := append(tensor.Shape(shape[:len(shape)-1]).Clone(), 5)
					if !y.Shape().Equal(wantShape) {
						t.Fatalf("%v %s bias=%v: shape %v, want %v", dt, name, bias, y.Shape(), wantShape)
					}
					var bv []float64
					if bias {
						bv = l.Bias.Value.Float64s()
					}
					rows := x.Numel() / 7
					want := hostLinear(x.Float64s(), rows, 7, l.Weight.Value.Float64s(), 5, bv)
					assertClose(t, "Linear "+dt.String()+" "+name, y.Value.Float64s(), want, tolFor(dt))
					tp.Release()
				}
			}
		}
	}
}

func TestLinearInitRange(t *testing.T) {
	// PyTorch default: weight and bias in (-1/sqrt(in), 1/sqrt(in)), not all
	// equal, zero-mean-ish.
	b := NewBuilder(1)
	l := NewLinear(b, 64, 200, true)
	lim := 1 / math.Sqrt(64)
	for _, p := range Params(l) {
		vals := p.Var.Value.Float64s()
		lo, hi, sum := vals[0], vals[0], 0.0
		for _, v := range vals {
			lo, hi, sum = math.Min(lo, v), math.Max(hi, v), sum+v
		}
		if lo < -lim || hi > lim || hi-lo < lim {
			t.Fatalf("%s: range [%g, %g], want inside and spreading over (-%g, %g)", p.Name, lo, hi, lim, lim)
		}
		if m := sum / float64(len(vals)); math.Abs(m) > 4*lim/math.Sqrt(3*float64(len(vals))) {
			t.Fatalf("%s: mean %g too far from 0", p.Name, m)
		}
	}
}

// hostLayerNorm normalises the rows of x [rows, d].
func hostLayerNorm(x []float64, d int, g, b []float64, eps float64, rms bool) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		mean, ss := 0.0, 0.0
		if !rms {
			for _, v := range row {
				mean += v
			}
			mean /= float64(d)
		}
		for _, v := range row {
			ss += (v - mean) * (v - mean)
		}
		rstd := 1 / math.Sqrt(ss/float64(d)+eps)
		for i, v := range row {
			o := (v - mean) * rstd
			if g != nil {
				o *= g[i]
			}
			if b != nil {
				o += b[i]
			}
			y[r*d+i] = o
		}
	}
	return y
}

func TestLayerNormForward(t *testing.T) {
	for _, dt := range dtypes {
		for _, affine := range []bool{false, true} {
			b := builderFor(dt, 4)
			ln := NewLayerNorm(b, 13, affine, 1e-5)
			var g, bb []float64
			if affine {
				randomize(ln.Weight.Value, 1, 1, 0.5)
				randomize(ln.Bias.Value, 2, 0, 0.5)
				g, bb = ln.Weight.Value.Float64s(), ln.Bias.Value.Float64s()
			} else if len(Params(ln)) != 0 {
				t.Fatalf("LayerNorm without affine has parameters %v", Params(ln))
			}
			// Non-zero mean and scale so the centring matters.
			x := tensor.AddScalar(tensor.Scale(randn(dt, 5, 3, 4, 13), 3), 2)
			for name, mk := range tapes() {
				tp := mk()
				y := ln.Forward(tp, autograd.Const(x))
				assertClose(t, "LayerNorm "+dt.String()+" "+name, y.Value.Float64s(), hostLayerNorm(x.Float64s(), 13, g, bb, 1e-5, false), 10*tolFor(dt))
				tp.Release()
			}
		}
	}
}

func TestRMSNormForward(t *testing.T) {
	for _, dt := range dtypes {
		for _, scale := range []bool{false, true} {
			b := builderFor(dt, 4)
			rn := NewRMSNorm(b, 13, scale, 1e-5)
			var g []float64
			if scale {
				randomize(rn.Weight.Value, 1, 1, 0.5)
				g = rn.Weight.Value.Float64s()
			}
			x := tensor.AddScalar(tensor.Scale(randn(dt, 5, 7, 13), 3), 1)
			for name, mk := range tapes() {
				tp := mk()
				y := rn.Forward(tp, autograd.Const(x))
				assertClose(t, "RMSNorm "+dt.String()+" "+name, y.Value.Float64s(), hostLayerNorm(x.Float64s(), 13, g, nil, 1e-5, true), 10*tolFor(dt))
				tp.Release()
			}
		}
	}
}

func TestSwiGLUMLPForward(t *testing.T) {
	for _, dt := range dtypes {
		b := builderFor(dt, 6)
		m := NewSwiGLUMLP(b, 12, 20)
		x := randn(dt, 8, 2, 5, 12)
		xs := x.Float64s()
		gate := hostLinear(xs, 10, 12, m.Gate.Weight.Value.Float64s(), 20, nil)
		up := hostLinear(xs, 10, 12, m.Up.Weight.Value.Float64s(), 20, nil)
		h := make([]float64, len(gate))
		for i := range h {
			h[i] = silu(gate[i]) * up[i]
		}
		want := hostLinear(h, 10, 20, m.Down.Weight.Value.Float64s(), 12, nil)
		for name, mk := range tapes() {
			tp := mk()
			y := m.Forward(tp, autograd.Const(x))
			if !y.Shape().Equal(tensor.Shape{2, 5, 12}) {
				t.Fatalf("SwiGLUMLP shape %v", y.Shape())
			}
			assertClose(t, "SwiGLUMLP "+dt.String()+" "+name, y.Value.Float64s(), want, tolFor(dt))
			tp.Release()
		}
	}
}

// hostMHA computes multi-head attention of xq [X, Nq, E] over xkv [X, Nk, E]
// with packed weight wqkv [3E, E], output weight wo [E, E] and optional qscale
// [X, H, Nq].
func hostMHA(xq, xkv []float64, X, Nq, Nk, E, H int, wqkv, wo, qscale []float64) []float64 {
	D := E / H
	q := hostLinear(xq, X*Nq, E, wqkv[:E*E], E, nil)
	kv := hostLinear(xkv, X*Nk, E, wqkv[E*E:], 2*E, nil)
	o := make([]float64, X*Nq*E)
	for x := 0; x < X; x++ {
		for h := 0; h < H; h++ {
			for i := 0; i < Nq; i++ {
				s := 1 / math.Sqrt(float64(D))
				if qscale != nil {
					s *= qscale[(x*H+h)*Nq+i]
				}
				scores := make([]float64, Nk)
				mx := math.Inf(-1)
				for j := 0; j < Nk; j++ {
					dot := 0.0
					for d := 0; d < D; d++ {
						dot += q[(x*Nq+i)*E+h*D+d] * kv[(x*Nk+j)*2*E+h*D+d]
					}
					scores[j] = s * dot
					mx = math.Max(mx, scores[j])
				}
				z := 0.0
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					z += scores[j]
				}
				for d := 0; d < D; d++ {
					acc := 0.0
					for j := 0; j < Nk; j++ {
						acc += scores[j] / z * kv[(x*Nk+j)*2*E+E+h*D+d]
					}
					o[(x*Nq+i)*E+h*D+d] = acc
				}
			}
		}
	}
	return hostLinear(o, X*Nq, E, wo, E, nil)
}

func TestMultiHeadAttentionForward(t *testing.T) {
	const X, Nq, Nk, E, H = 3, 5, 7, 12, 3
	for _, dt := range dtypes {
		b := builderFor(dt, 9)
		a := NewMultiHeadAttention(b, E, H)
		if a.HeadDim != 4 {
			t.Fatalf("head dim %d", a.HeadDim)
		}
		wqkv, wo := a.QKV.Weight.Value.Float64s(), a.Out.Weight.Value.Float64s()
		xq, xkv := randn(dt, 20, X, Nq, E), randn(dt, 21, X, Nk, E)
		qs := tensor.AddScalar(tensor.Scale(randn(dt, 22, X, H, Nq), 0.3), 1)
		for name, mk := range tapes() {
			// Cross-attention, with and without qscale.
			for _, withScale := range []bool{false, true} {
				tp := mk()
				var qv *autograd.Var
				var qh []float64
				if withScale {
					qv, qh = autograd.Const(qs), qs.Float64s()
				}
				y := a.Forward(tp, autograd.Const(xq), autograd.Const(xkv), qv)
				if !y.Shape().Equal(tensor.Shape{X, Nq, E}) {
					t.Fatalf("shape %v", y.Shape())
				}
				want := hostMHA(xq.Float64s(), xkv.Float64s(), X, Nq, Nk, E, H, wqkv, wo, qh)
				assertClose(t, "MHA cross "+dt.String()+" "+name, y.Value.Float64s(), want, 5*tolFor(dt))
				tp.Release()
			}
			// Self-attention: the packed path (same Var) must agree with the
			// reference and with the cross path on equal values.
			tp := mk()
			xv := autograd.Const(xq)
			self := a.Forward(tp, xv, xv, nil)
			cross := a.Forward(tp, xv, autograd.Const(xq.Clone()), nil)
			want := hostMHA(xq.Float64s(), xq.Float64s(), X, Nq, Nq, E, H, wqkv, wo, nil)
			assertClose(t, "MHA self "+dt.String()+" "+name, self.Value.Float64s(), want, 5*tolFor(dt))
			assertClose(t, "MHA self vs cross "+dt.String()+" "+name, self.Value.Float64s(), cross.Value.Float64s(), 5*tolFor(dt))
			tp.Release()
		}
	}
}

func TestMultiHeadAttentionShapePanics(t *testing.T) {
	a := NewMultiHeadAttention(NewBuilder(1), 8, 2)
	x := autograd.Const(tensor.Zeros(2, 3, 8))
	for name, f := range map[string]func(){
		"rank":   func() { a.Forward(autograd.NoGrad(), autograd.Const(tensor.Zeros(3, 8)), x, nil) },
		"dim":    func() { a.Forward(autograd.NoGrad(), autograd.Const(tensor.Zeros(2, 3, 6)), x, nil) },
		"batch":  func() { a.Forward(autograd.NoGrad(), autograd.Const(tensor.Zeros(1, 3, 8)), x, nil) },
		"qscale": func() { a.Forward(autograd.NoGrad(), x, x, autograd.Const(tensor.Zeros(2, 3, 3))) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "MultiHeadAttention") {
					t.Fatalf("%s: want a panic naming MultiHeadAttention, got %v", name, r)
				}
			}()
			f()
		}()
	}
}

func TestEmbeddingForward(t *testing.T) {
	for _, dt := range dtypes {
		e := NewEmbedding(builderFor(dt, 2), 10, 6)
		ids := []int{3, 0, 9, 3, 7}
		table := e.Weight.Value.Float64s()
		var want []float64
		for _, id := range ids {
			want = append(want, table[id*6:(id+1)*6]...)
		}
		for name, mk := range tapes() {
			tp := mk()
			y, err := e.Forward(tp, ids)
			if err != nil {
				t.Fatal(err)
			}
			if !y.Shape().Equal(tensor.Shape{5, 6}) {
				t.Fatalf("shape %v", y.Shape())
			}
			assertClose(t, "Embedding "+dt.String()+" "+name, y.Value.Float64s(), want, 0)
			tp.Release()
		}
	}
	e := NewEmbedding(NewBuilder(2), 10, 6)
	for _, bad := range [][]int{{1, 10}, {-1}, {0, 2, 100}} {
		if _, err := e.Forward(autograd.NoGrad(), bad); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("ids %v: error %v, want out of range", bad, err)
		}
	}
}
