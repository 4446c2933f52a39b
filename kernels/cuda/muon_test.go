//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/kernels/cuda"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// muonShapes: the 7x63 and 128x384 and their transposes (the
// rows > cols path iterates on the transpose without forming it).
var muonShapes = [][2]int{{7, 63}, {63, 7}, {128, 384}, {384, 128}, {1, 5}}

func scaled(x []float32, s float32) []float32 {
	for i := range x {
		x[i] *= s
	}
	return x
}

// maxAbs is the largest |x|.
func maxAbs(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// TestNewtonSchulz compares the GPU's Newton-Schulz with nn.NewtonSchulz
// (5 steps) on random matrices, output poisoned first, input unchanged.
// Tolerances (of max |O|, elementwise; the iteration amplifies rounding
// differences in weak singular directions): fp32 2e-3; tf32 and bf16 are
// checked by the relative Frobenius distance, 3e-2 and 1e-1 (estimates, not
// yet validated on a GPU).
func TestNewtonSchulz(t *testing.T) {
	r := cuda.TrainTestRuntime(t)
	for _, sh := range muonShapes {
		rows, cols := sh[0], sh[1]
		u := cuda.TrainRandn(uint64(rows*1000+cols), rows*cols)
		want := nn.NewtonSchulz(tensor.FromSlice(append([]float32(nil), u...), rows, cols), 5).Float32s()
		scale := maxAbs(want)
		for _, prec := range []cuda.Precision{cuda.PrecFP32, cuda.PrecTF32, cuda.PrecBF16} {
			t.Run(fmt.Sprintf("%dx%d/%v", rows, cols, prec), func(t *testing.T) {
				ud, od := cuda.TrainUpload(t, r, u), cuda.TrainPoisoned(t, r, rows*cols)
				defer cuda.TrainFree(t, r, ud, od)
				if err := r.NewtonSchulz(od, ud, rows, cols, 5, prec); err != nil {
					t.Fatal(err)
				}
				got := cuda.TrainDownload(t, r, od, rows*cols)
				if in := cuda.TrainDownload(t, r, ud, rows*cols); fmt.Sprint(in) != fmt.Sprint(u) {
					t.Fatal("NewtonSchulz modified its input")
				}
				var num, den float64
				for i := range want {
					d := float64(got[i]) - float64(want[i])
					if math.IsNaN(d) {
						t.Fatalf("O[%d] = %g, nn %g", i, got[i], want[i])
					}
					if prec == cuda.PrecFP32 && math.Abs(d) > 2e-3*scale {
						t.Fatalf("O[%d] = %g, nn %g (diff %g > %g)", i, got[i], want[i], d, 2e-3*scale)
					}
					num += d * d
					den += float64(want[i]) * float64(want[i])
				}
				rel := math.Sqrt(num / den)
				lim := map[cuda.Precision]float64{cuda.PrecFP32: 1e-3, cuda.PrecTF32: 3e-2, cuda.PrecBF16: 1e-1}[prec]
				t.Logf("relative Frobenius distance to nn.NewtonSchulz: %.3g", rel)
				if rel > lim {
					t.Fatalf("relative Frobenius distance %.3g > %g", rel, lim)
				}
			})
		}
	}
}

// TestMuonUpdate runs two steps of nn.Muon (DefaultMuon: momentum 0.95,
// Nesterov, 5 steps, wd 0.01) and of MuonUpdate (fp32 GEMMs) from the same
// weights and gradients: the momentum buffer must have the same bits
// (ref.Axpby's arithmetic on both sides), the weights agree within
// step*lr*scale*2e-3*max|O| plus an ulp of the weight.
func TestMuonUpdate(t *testing.T) {
	r := cuda.TrainTestRuntime(t)
	const lr = 0.02
	cfg := nn.DefaultMuon()
	gcfg := cuda.MuonConfig{Momentum: cfg.Momentum, Nesterov: cfg.Nesterov, NSSteps: cfg.NSSteps, WeightDecay: cfg.WeightDecay, Prec: cuda.PrecFP32}
	for _, sh := range muonShapes {
		rows, cols := sh[0], sh[1]
		t.Run(fmt.Sprintf("%dx%d", rows, cols), func(t *testing.T) {
			n := rows * cols
			w0 := scaled(cuda.TrainRandn(uint64(5*n+1), n), 0.05)
			pv := autograd.Param(tensor.FromSlice(append([]float32(nil), w0...), rows, cols))
			opt := nn.NewMuon([]nn.NamedParam{{Name: "w", Var: pv}}, cfg)

			wd, md := cuda.TrainUpload(t, r, w0), cuda.TrainUpload(t, r, make([]float32, n))
			defer cuda.TrainFree(t, r, wd, md)
			scale := nn.MuonScale(rows, cols)
			for step := 1; step <= 2; step++ {
				g := cuda.TrainRandn(uint64(5*n+1+step), n)
				pv.Grad = tensor.FromSlice(append([]float32(nil), g...), rows, cols)
				prev := pv.Value.Float32s()
				opt.Step(lr)
				gd := cuda.TrainUpload(t, r, g)
				if err := r.MuonUpdate(wd, gd, md, rows, cols, lr, gcfg); err != nil {
					t.Fatal(err)
				}
				cuda.TrainFree(t, r, gd)

				wantMom := opt.State().Tensors[0].Value.Float32s()
				gotMom := cuda.TrainDownload(t, r, md, n)
				for i := range wantMom {
					if math.Float32bits(gotMom[i]) != math.Float32bits(wantMom[i]) && !(cuda.TrainFusesFMA() && math.Abs(float64(gotMom[i]-wantMom[i])) <= 1e-7*math.Abs(float64(wantMom[i]))) {
						t.Fatalf("step %d: momentum[%d] = %g, nn %g", step, i, gotMom[i], wantMom[i])
					}
				}
				want := pv.Value.Float32s()
				got := cuda.TrainDownload(t, r, wd, n)
				// The update lr*scale*O: O's own scale from nn's step.
				upd := make([]float32, n)
				for i := range upd {
					upd[i] = float32((float64(prev[i])*(1-lr*cfg.WeightDecay) - float64(want[i])) / (lr * scale))
				}
				// Step 2 carries step 1's difference on.
				tol := float64(step) * lr * scale * 2e-3 * maxAbs(upd)
				for i := range want {
					if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol+1e-7*math.Abs(float64(want[i]))) {
						t.Fatalf("step %d: W[%d] = %g, nn %g (diff %g, allowed %g)", step, i, got[i], want[i], d, tol)
					}
				}
				// GPU and CPU start the next step from their own weights.
			}
		})
	}
}

// TestMuonErrors: bad arguments are errors.
func TestMuonErrors(t *testing.T) {
	r := cuda.TrainTestRuntime(t)
	p := cuda.TrainPoisoned(t, r, 8)
	defer cuda.TrainFree(t, r, p)
	if err := r.MuonUpdate(p, p, p, 2, 4, 0.01, cuda.MuonConfig{Momentum: 0.95, NSSteps: 0}); err == nil {
		t.Fatal("NSSteps 0: no error")
	}
	if err := r.MuonUpdate(p, p, p, 2, 4, 0.01, cuda.MuonConfig{Momentum: 1, NSSteps: 5}); err == nil {
		t.Fatal("momentum 1: no error")
	}
	if err := r.NewtonSchulz(p, p, 0, 4, 5, cuda.PrecFP32); err == nil {
		t.Fatal("0 rows: no error")
	}
}
