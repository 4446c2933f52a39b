package nori

import (
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// These tests run the model, the trainer and the Regressor on an emulated
// device (host memory and the CPU's kernels, but a device distinct from the
// CPU: a tensor left on the CPU makes an op panic, as it would on a GPU). The
// results must be bit-identical to the CPU's, so the code paths that a GPU
// run takes are exercised on every machine.

func TestInferOnDeviceMatchesCPU(t *testing.T) {
	m, err := NewModel(Tiny(), 5)
	if err != nil {
		t.Fatal(err)
	}
	emu := tensor.NewEmulatedDevice("model")
	md, err := m.CopyTo(emu)
	if err != nil {
		t.Fatal(err)
	}
	if md.Device() != emu || m.Device() != tensor.CPU {
		t.Fatalf("CopyTo: copy on %v, source on %v", md.Device(), m.Device())
	}
	x := tensor.RandNormal(1, 0, 1, 2, 23, 5)
	y := tensor.RandNormal(2, 0, 1, 2, 15)
	for _, chunk := range []int{0, 3} {
		want, err := m.Infer(x, y, 15, InferOptions{QueryChunk: chunk})
		if err != nil {
			t.Fatal(err)
		}
		got, err := md.Infer(x, y, 15, InferOptions{QueryChunk: chunk})
		if err != nil {
			t.Fatal(err)
		}
		if got.Device() != emu {
			t.Fatalf("chunk %d: output on %v", chunk, got.Device())
		}
		g, w := got.Float32s(), want.Float32s()
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("chunk %d: element %d: device %v, cpu %v", chunk, i, g[i], w[i])
			}
		}
	}
}

func TestTrainOnDeviceMatchesCPU(t *testing.T) {
	c := trainTestConfig()
	cpu := newTestTrainer(t, c)
	emu := tensor.NewEmulatedDevice("train")
	dev, err := NewTrainerOn(c, emu)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		a, err := cpu.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := dev.Step()
		if err != nil {
			t.Fatal(err)
		}
		if a.Loss != b.Loss || a.GradNorm != b.GradNorm {
			t.Fatalf("step %d: cpu loss %v grad norm %v, device loss %v grad norm %v", i, a.Loss, a.GradNorm, b.Loss, b.GradNorm)
		}
	}
	if dev.Model().Device() != emu {
		t.Fatalf("trained model on %v", dev.Model().Device())
	}
	wa, wb := modelWeights(cpu.Model()), modelWeights(dev.Model())
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("weight %d after 4 steps: cpu %v, device %v", i, wa[i], wb[i])
		}
	}
}

func TestRegressorOnDeviceMatchesCPU(t *testing.T) {
	m, err := NewModel(Tiny(), 9)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	n := 40
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		y[i] = X[i][0] - 2*X[i][1] + 0.1*rng.NormFloat64()
	}
	predict := func(dev tensor.Device) []float64 {
		r, err := NewRegressor(WithModel(m), WithDevice(dev), WithEnsemble(2), WithSeed(1))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Fit(X[:30], y[:30]); err != nil {
			t.Fatal(err)
		}
		p, err := r.Predict(X[30:])
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want, got := predict(tensor.CPU), predict(tensor.NewEmulatedDevice("regressor"))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("prediction %d: device %v, cpu %v", i, got[i], want[i])
		}
	}
}

// modelWeights flattens every parameter to the host.
func modelWeights(m *Model) []float32 {
	var out []float32
	m.VisitParams("", func(_ string, v *autograd.Var) { out = append(out, v.Value.Float32s()...) })
	return out
}

// TestResumeOnDeviceMatchesCPU saves a CPU run after 2 steps, resumes it on
// the emulated device and on the CPU, and checks the next 2 steps agree.
func TestResumeOnDeviceMatchesCPU(t *testing.T) {
	c := trainTestConfig()
	tr := newTestTrainer(t, c)
	stepUntil(t, tr, 2)
	dir := t.TempDir()
	if err := tr.SaveCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	emu := tensor.NewEmulatedDevice("resume")
	a, err := ResumeTrainer(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ResumeTrainerOn(dir, emu)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		ra, err := a.Step()
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Step()
		if err != nil {
			t.Fatal(err)
		}
		if ra.Loss != rb.Loss || ra.GradNorm != rb.GradNorm {
			t.Fatalf("resumed step %d: cpu loss %v, device loss %v", ra.Step, ra.Loss, rb.Loss)
		}
	}
	wa, wb := modelWeights(a.Model()), modelWeights(b.Model())
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("weight %d: cpu %v, device %v", i, wa[i], wb[i])
		}
	}
}
