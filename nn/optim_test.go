package nn

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// optimParams returns parameters of the given shapes with random values.
func optimParams(dt tensor.DType, seed uint64, shapes ...[]int) []NamedParam {
	var ps []NamedParam
	for i, s := range shapes {
		ps = append(ps, NamedParam{Name: "p" + string(rune('a'+i)), Var: autograd.Param(randn(dt, seed+uint64(i), s...))})
	}
	return ps
}

// setGrads gives every parameter a random gradient that depends on step.
func setGrads(ps []NamedParam, step int) {
	for i, p := range ps {
		g := randn(p.Var.Value.DType(), uint64(1000*step+i), p.Var.Value.Shape()...)
		if p.Var.Grad == nil {
			p.Var.Grad = g
		} else {
			p.Var.Grad.CopyFrom(g)
		}
	}
}

func TestAdamWMatchesHandComputation(t *testing.T) {
	cfg := AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	const lr = 0.01
	for _, dt := range dtypes {
		ps := optimParams(dt, 1, []int{7, 5}, []int{5}, []int{1})
		opt := NewAdamW(ps, cfg)
		// Host state.
		w := make([][]float64, len(ps))
		m := make([][]float64, len(ps))
		v := make([][]float64, len(ps))
		for i, p := range ps {
			w[i] = p.Var.Value.Float64s()
			m[i] = make([]float64, len(w[i]))
			v[i] = make([]float64, len(w[i]))
		}
		for step := 1; step <= 3; step++ {
			setGrads(ps, step)
			bc1, bc2 := 1-math.Pow(cfg.Beta1, float64(step)), 1-math.Pow(cfg.Beta2, float64(step))
			for i, p := range ps {
				g := p.Var.Grad.Float64s()
				for j := range w[i] {
					m[i][j] = cfg.Beta1*m[i][j] + (1-cfg.Beta1)*g[j]
					v[i][j] = cfg.Beta2*v[i][j] + (1-cfg.Beta2)*g[j]*g[j]
					w[i][j] -= lr*cfg.WeightDecay*w[i][j] + lr*(m[i][j]/bc1)/(math.Sqrt(v[i][j]/bc2)+cfg.Eps)
				}
			}
			opt.Step(lr)
			if opt.Steps() != step {
				t.Fatalf("Steps() = %d after %d steps", opt.Steps(), step)
			}
			for i, p := range ps {
				assertClose(t, "AdamW "+dt.String()+" "+p.Name, p.Var.Value.Float64s(), w[i], 10*tolFor(dt))
			}
		}
		st := opt.State()
		if len(st.Tensors) != 6 || st.Tensors[0].Name != "adamw.m.pa" || st.Tensors[1].Name != "adamw.v.pa" {
			t.Fatalf("state names %v", st.Tensors)
		}
		assertClose(t, "AdamW m", st.Tensors[0].Value.Float64s(), m[0], 10*tolFor(dt))
		assertClose(t, "AdamW v", st.Tensors[1].Value.Float64s(), v[0], 10*tolFor(dt))
	}
}

func TestAdamWSkipsParamsWithoutGrad(t *testing.T) {
	ps := optimParams(tensor.Float32, 2, []int{3, 3}, []int{4})
	before := ps[1].Var.Value.Clone()
	opt := NewAdamW(ps, DefaultAdamW())
	ps[0].Var.Grad = randn(tensor.Float32, 9, 3, 3)
	opt.Step(0.1)
	assertBits(t, "untouched parameter", ps[1].Var.Value, before)
	opt.ZeroGrad()
	for _, v := range ps[0].Var.Grad.Float64s() {
		if v != 0 {
			t.Fatal("ZeroGrad left a non-zero gradient")
		}
	}
}

// hostNewtonSchulz is Muon's orthogonalisation written directly in float64.
func hostNewtonSchulz(g []float64, rows, cols, steps int) []float64 {
	norm := 0.0
	for _, v := range g {
		norm += v * v
	}
	x := make([]float64, len(g))
	for i, v := range g {
		x[i] = v / (math.Sqrt(norm) + 1e-7)
	}
	m, n := rows, cols
	if rows > cols {
		x, m, n = hostTranspose(x, rows, cols), cols, rows
	}
	for k := 0; k < steps; k++ {
		a := hostMatMul(x, hostTranspose(x, m, n), m, n, m)
		a2 := hostMatMul(a, a, m, m, m)
		bm := make([]float64, m*m)
		for i := range bm {
			bm[i] = nsB*a[i] + nsC*a2[i]
		}
		bx := hostMatMul(bm, x, m, m, n)
		for i := range x {
			x[i] = nsA*x[i] + bx[i]
		}
	}
	if rows > cols {
		x = hostTranspose(x, m, n)
	}
	return x
}

func TestNewtonSchulzOrthogonalises(t *testing.T) {
	for _, dt := range dtypes {
		for _, s := range [][2]int{{32, 64}, {64, 32}, {10, 300}, {7, 9}, {48, 48}, {100, 100}} {
			g := randn(dt, uint64(s[0]*s[1]), s[0], s[1])
			gBefore := g.Clone()
			x := NewtonSchulz(g, 5)
			assertBits(t, "input untouched", g, gBefore)
			assertClose(t, "NewtonSchulz vs host", x.Float64s(), hostNewtonSchulz(g.Float64s(), s[0], s[1], 5), 100*tolFor(dt))
			sv := singularValues(x.Float64s(), s[0], s[1])
			sort.Float64s(sv)
			// The quintic maps singular values into about [0.68, 1.2]; only
			// the tiny singular values of a square random matrix (a few out
			// of 100) are too small to get there in 5 steps.
			out := 0
			for _, v := range sv {
				if v < 0.65 || v > 1.25 {
					out++
				}
			}
			allowed := 0
			if s[0] == s[1] {
				allowed = len(sv) / 20
			}
			if out > allowed || sv[len(sv)-1] > 1.25 {
				t.Fatalf("%v %v: %d singular values outside [0.65, 1.25] (allowed %d); min %g max %g", dt, s, out, allowed, sv[0], sv[len(sv)-1])
			}
		}
	}
}

func TestMuonMatchesDirectComputation(t *testing.T) {
	cfg := MuonConfig{Momentum: 0.95, Nesterov: true, NSSteps: 5, WeightDecay: 0.05}
	const lr = 0.05
	for _, dt := range dtypes {
		for _, nesterov := range []bool{true, false} {
			cfg.Nesterov = nesterov
			// Wide, tall (transposed path) and a 3-D weight viewed [4, 15].
			shapes := [][]int{{6, 10}, {10, 4}, {4, 3, 5}}
			ps := optimParams(dt, 3, shapes...)
			opt := NewMuon(ps, cfg)
			w := make([][]float64, len(ps))
			buf := make([][]float64, len(ps))
			for i, p := range ps {
				w[i] = p.Var.Value.Float64s()
				buf[i] = make([]float64, len(w[i]))
			}
			for step := 1; step <= 3; step++ {
				setGrads(ps, step)
				for i, p := range ps {
					rows := shapes[i][0]
					cols := len(w[i]) / rows
					g := p.Var.Grad.Float64s()
					u := make([]float64, len(g))
					for j := range g {
						buf[i][j] = cfg.Momentum*buf[i][j] + g[j]
						u[j] = buf[i][j]
						if nesterov {
							u[j] = g[j] + cfg.Momentum*buf[i][j]
						}
					}
					o := hostNewtonSchulz(u, rows, cols, 5)
					scale := math.Sqrt(float64(max(rows, cols)) / float64(min(rows, cols)))
					for j := range w[i] {
						w[i][j] = w[i][j] - lr*cfg.WeightDecay*w[i][j] - lr*scale*o[j]
					}
				}
				opt.Step(lr)
				for i, p := range ps {
					// float32: the iteration amplifies rounding a little; the
					// update itself is O(lr*scale) = O(0.1).
					assertClose(t, "Muon "+dt.String()+" "+p.Name, p.Var.Value.Float64s(), w[i], 100*tolFor(dt))
				}
			}
		}
	}
}

func TestMuonRejectsVectors(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "rank >= 2") {
			t.Fatalf("panic %v", r)
		}
	}()
	NewMuon(optimParams(tensor.Float32, 1, []int{5}), DefaultMuon())
}

func TestMuonAdamWSplit(t *testing.T) {
	m := testModel(3)
	params := Params(m)
	opt := NewMuonAdamW(params, DefaultMuon(), DefaultAdamW(), func(name string) bool {
		return strings.HasPrefix(name, "embed.") || strings.HasPrefix(name, "head.")
	})
	var muon, adam []string
	for _, p := range opt.Muon.Params() {
		muon = append(muon, p.Name)
	}
	for _, p := range opt.AdamW.Params() {
		adam = append(adam, p.Name)
	}
	wantMuon := []string{}
	wantAdam := []string{"embed.weight"}
	for _, i := range []string{"0", "1"} {
		p := "blocks." + i + "."
		wantAdam = append(wantAdam, p+"norm.weight")
		wantMuon = append(wantMuon, p+"attn.qkv.weight", p+"attn.out.weight", p+"mlp.gate.weight", p+"mlp.up.weight", p+"mlp.down.weight")
	}
	wantAdam = append(wantAdam, "final.weight", "final.bias", "head.weight", "head.bias")
	if strings.Join(muon, ",") != strings.Join(wantMuon, ",") || strings.Join(adam, ",") != strings.Join(wantAdam, ",") {
		t.Fatalf("split\nmuon %v\nadam %v", muon, adam)
	}
	if len(opt.Params()) != len(params) {
		t.Fatal("Params lost parameters")
	}
	// One step moves every parameter.
	before := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		before[i] = p.Var.Value.Clone()
	}
	setGrads(params, 1)
	opt.Step(0.01)
	for i, p := range params {
		a, b := before[i].Float64s(), p.Var.Value.Float64s()
		moved := false
		for j := range a {
			moved = moved || a[j] != b[j]
		}
		if !moved {
			t.Fatalf("%s did not move", p.Name)
		}
	}
	if opt.Steps() != 1 || opt.Muon.Steps() != 1 {
		t.Fatal("step counts")
	}
}

// TestOptimizerStateResume checks that saving State after k steps and
// loading it into a fresh optimizer (over parameters restored to the same
// values) continues bit-identically to the uninterrupted run.
func TestOptimizerStateResume(t *testing.T) {
	makers := map[string]func([]NamedParam) Optimizer{
		"AdamW":     func(ps []NamedParam) Optimizer { return NewAdamW(ps, DefaultAdamW()) },
		"Muon":      func(ps []NamedParam) Optimizer { return NewMuon(ps[:2], DefaultMuon()) },
		"MuonAdamW": func(ps []NamedParam) Optimizer { return NewMuonAdamW(ps, DefaultMuon(), DefaultAdamW(), nil) },
	}
	shapes := [][]int{{5, 8}, {9, 3}, {8}}
	for name, mk := range makers {
		ps := optimParams(tensor.Float32, 4, shapes...)
		opt := mk(ps)
		for step := 1; step <= 3; step++ {
			setGrads(ps, step)
			opt.Step(0.01)
		}
		// Snapshot parameters and state (copies: State returns live buffers).
		saved := OptimizerState{Step: opt.State().Step}
		for _, s := range opt.State().Tensors {
			saved.Tensors = append(saved.Tensors, StateTensor{s.Name, s.Value.Clone()})
		}
		ps2 := make([]NamedParam, len(ps))
		for i, p := range ps {
			ps2[i] = NamedParam{p.Name, autograd.Param(p.Var.Value.Clone())}
		}
		for step := 4; step <= 5; step++ {
			setGrads(ps, step)
			opt.Step(0.01)
		}
		opt2 := mk(ps2)
		if err := opt2.LoadState(saved); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if opt2.Steps() != 3 {
			t.Fatalf("%s: resumed at step %d", name, opt2.Steps())
		}
		for step := 4; step <= 5; step++ {
			setGrads(ps2, step)
			opt2.Step(0.01)
		}
		for i := range ps {
			assertBits(t, name+" resumed "+ps[i].Name, ps2[i].Var.Value, ps[i].Var.Value)
		}
	}
}

func TestOptimizerLoadStateErrors(t *testing.T) {
	ps := optimParams(tensor.Float32, 5, []int{4, 3}, []int{3})
	opt := NewAdamW(ps, DefaultAdamW())
	good := opt.State()
	mod := func(f func(st *OptimizerState)) OptimizerState {
		st := OptimizerState{Step: good.Step, Tensors: append([]StateTensor(nil), good.Tensors...)}
		f(&st)
		return st
	}
	mStore := good.Tensors[0].Value.Clone()
	cases := map[string]OptimizerState{
		"no tensor":  mod(func(st *OptimizerState) { st.Tensors = st.Tensors[1:] }),
		"shape":      mod(func(st *OptimizerState) { st.Tensors[3] = StateTensor{st.Tensors[3].Name, tensor.Zeros(4)} }),
		"unexpected": mod(func(st *OptimizerState) { st.Tensors = append(st.Tensors, StateTensor{"adamw.m.zzz", tensor.Zeros(1)}) }),
		"twice":      mod(func(st *OptimizerState) { st.Tensors = append(st.Tensors, st.Tensors[0]) }),
		"nil":        mod(func(st *OptimizerState) { st.Tensors[0] = StateTensor{st.Tensors[0].Name, nil} }),
		"negative":   mod(func(st *OptimizerState) { st.Step = -1 }),
	}
	// A state whose first tensor is valid but another is wrong must not be
	// half-applied.
	cases["shape"].Tensors[0] = StateTensor{cases["shape"].Tensors[0].Name, tensor.Full(7, 4, 3)}
	for name, st := range cases {
		if err := opt.LoadState(st); err == nil {
			t.Fatalf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	assertBits(t, "state untouched by failed loads", opt.State().Tensors[0].Value, mStore)
}

func TestMuonZeroGradient(t *testing.T) {
	// A zero gradient must not produce NaN (the norm is guarded by 1e-7):
	// only the decoupled weight decay acts.
	ps := optimParams(tensor.Float32, 6, []int{5, 7})
	want := ps[0].Var.Value.Float64s()
	for i := range want {
		want[i] *= 1 - 0.1*0.5
	}
	ps[0].Var.Grad = tensor.Zeros(5, 7)
	NewMuon(ps, MuonConfig{Momentum: 0.95, Nesterov: true, NSSteps: 5, WeightDecay: 0.5}).Step(0.1)
	assertClose(t, "Muon zero gradient", ps[0].Var.Value.Float64s(), want, 1e-6)
}
