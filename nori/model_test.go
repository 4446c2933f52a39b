package nori

import (
	"math"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// nori6mParams is the parameter count derived in model.go's comment: the
// published 5,868,052 minus the classification head (53,386), the
// reconstruction head (51,074) and the classification-only target encoders
// (1,408 + 1,280).
const nori6mParams = 5_868_052 - 53_386 - 51_074 - 1_408 - 1_280

// nori6mParts is the same count assembled from the reference's module sizes.
func nori6mParts() int {
	lin := func(in, out int) int { return in*out + out }
	E, K := 128, 64
	enc := 2*16 + 2*16 + 10*16 + // frozen FiLM tables
		lin(48, 64) + lin(64, 2*K) + 2*K + lin(K, E) + E + // FiLM MLP, LayerNorm(64), Linear(64,128), missing
		lin(2*E, E) + 2*E + lin(E, E) + 2*E + // group fusion
		lin(2, E) + lin(1, E) + 1 // target token, y-aware, alpha
	qass := lin(1, 64) + lin(64, E) + lin(64, 64) + lin(64, 64)
	attn := 3*E*E + E*E
	layer := attn /* feature */ + 2*(attn+qass) /* row A, B */ + 3*E*256 /* SwiGLU */
	head := lin(E, 384) + 2*384 + lin(384, 999)
	return enc + 16*layer + head
}

func TestModelNori6MParamCount(t *testing.T) {
	m, err := NewModel(Nori6M(), 1)
	if err != nil {
		t.Fatal(err)
	}
	n := m.NumParams()
	t.Logf("nori-6m: %d parameters (%d trainable, %d in frozen FiLM tables); published 5,868,052 incl. heads we do not build",
		n, m.NumTrainableParams(), n-m.NumTrainableParams())
	if n != nori6mParams || n != nori6mParts() {
		t.Fatalf("NumParams = %d, want %d (derived) = %d (module sizes)", n, nori6mParams, nori6mParts())
	}
	if m.NumTrainableParams() != n-224 {
		t.Fatalf("trainable = %d, want %d", m.NumTrainableParams(), n-224)
	}
}

func TestModelParamNames(t *testing.T) {
	m := tinyModel(t, 1)
	ps := nn.Params(m)
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.Name] = true
	}
	for _, want := range []string{
		"encoder.film.sign_table", "encoder.film.fc1.weight", "encoder.value_out.bias", "encoder.missing",
		"encoder.fusion.norm2.weight", "encoder.target.weight", "encoder.y_aware.alpha",
		"layers.0.row_ctx.qkv.weight", "layers.1.row_query.qass.gate.fc2.bias", "layers.1.mlp.down.weight",
		"layers.0.feat.out.weight", "head.fc2.bias",
	} {
		if !seen[want] {
			t.Errorf("no parameter %q", want)
		}
	}
	// The order is fixed: a second model lists the same names in the same order.
	ps2 := nn.Params(tinyModel(t, 2))
	if len(ps) != len(ps2) {
		t.Fatalf("%d vs %d params", len(ps), len(ps2))
	}
	for i := range ps {
		if ps[i].Name != ps2[i].Name {
			t.Fatalf("param %d: %q vs %q", i, ps[i].Name, ps2[i].Name)
		}
	}
}

func tinyModel(t testing.TB, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(Tiny(), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perturb adds N(0, std^2) noise to every trainable parameter, so that the
// zero-initialised layers (QASSMax's last layers) and the y-aware gate are
// exercised.
func perturb(m *Model, seed uint64, std float64) {
	for i, p := range nn.Params(m) {
		if !p.Var.RequiresGrad() {
			continue
		}
		noise := tensor.RandNormal(seed+uint64(i)*7919, 0, std, p.Var.Value.Shape()...).To(tensor.CPU, p.Var.Value.DType())
		p.Var.Value.CopyFrom(tensor.Add(p.Var.Value, noise))
	}
	if a := m.enc.yAlpha; a != nil {
		a.Value.Backend().Fill(a.Value, 0.3) // sigmoid(0.3): both y-aware paths matter
	}
}

// randomTable returns x [B, N, F] with missing values, an infinity, a column
// constant over the context and a column missing in every context row, and
// y [B, nctx].
func randomTable(seed uint64, B, N, F, nctx int) (x, y *tensor.Tensor) {
	r := tensor.NewRNG(seed, 11)
	xv := make([]float32, B*N*F)
	for i := range xv {
		v := r.NormFloat64() * math.Exp(2*r.NormFloat64())
		if r.Float64() < 0.1 {
			v = math.NaN()
		}
		xv[i] = float32(v)
	}
	for b := 0; b < B; b++ {
		for n := 0; n < N; n++ {
			if F > 1 && n < nctx {
				xv[(b*N+n)*F+1] = 3 // constant over the context
			}
			if F > 2 && n < nctx {
				xv[(b*N+n)*F+2] = float32(math.NaN())
			}
		}
		xv[(b*N+1)*F] = float32(math.Inf(1))
	}
	yv := make([]float32, B*nctx)
	for i := range yv {
		yv[i] = float32(r.NormFloat64())
	}
	return tensor.FromSlice(xv, B, N, F), tensor.FromSlice(yv, B, nctx)
}

func infer(t testing.TB, m *Model, x, y *tensor.Tensor, nctx, chunk int) []float32 {
	t.Helper()
	out, err := m.Infer(x, y, nctx, InferOptions{QueryChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return out.Float32s()
}

// maxDiff returns max |a-b| and whether a and b are bit-identical.
func maxDiff(a, b []float32) (float64, bool) {
	d, same := 0.0, len(a) == len(b)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			same = false
		}
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d, same
}

func TestModelShapesFinite(t *testing.T) {
	m := tinyModel(t, 3)
	perturb(m, 5, 0.1)
	for _, c := range []struct{ B, N, F, nctx int }{{2, 13, 5, 8}, {1, 2, 1, 1}, {1, 9, 4, 7}, {3, 20, 7, 3}} {
		x, y := randomTable(uint64(c.N), c.B, c.N, c.F, c.nctx)
		out, err := m.Infer(x, y, c.nctx, InferOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := (tensor.Shape{c.B, c.N - c.nctx, 99}); !out.Shape().Equal(want) {
			t.Fatalf("%+v: shape %v, want %v", c, out.Shape(), want)
		}
		for i, v := range out.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%+v: output %d is %v", c, i, v)
			}
		}
	}
}

func TestModelAllMissingAndNonFiniteTargets(t *testing.T) {
	m := tinyModel(t, 3)
	perturb(m, 5, 0.1)
	nan := float32(math.NaN())
	xv := make([]float32, 1*6*3)
	for i := range xv {
		xv[i] = nan
	}
	yv := []float32{1, nan, float32(math.Inf(1)), float32(math.Inf(-1))}
	out := infer(t, m, tensor.FromSlice(xv, 1, 6, 3), tensor.FromSlice(yv, 1, 4), 4, 0)
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("output %d is %v", i, v)
		}
	}
}

func TestModelDeterministic(t *testing.T) {
	x, y := randomTable(7, 2, 30, 5, 20)
	a := tinyModel(t, 9)
	b := tinyModel(t, 9)
	pa, pb := nn.Params(a), nn.Params(b)
	for i := range pa {
		if d, same := maxDiff(pa[i].Var.Value.Float32s(), pb[i].Var.Value.Float32s()); !same {
			t.Fatalf("param %s differs by %g between two builds with one seed", pa[i].Name, d)
		}
	}
	if d, same := maxDiff(nn.Params(tinyModel(t, 10))[5].Var.Value.Float32s(), pa[5].Var.Value.Float32s()); same || d == 0 {
		t.Fatal("different seeds gave the same weights")
	}
	perturb(a, 1, 0.1)
	perturb(b, 1, 0.1)
	old := tensor.SetWorkers(1)
	defer tensor.SetWorkers(old)
	one := infer(t, a, x, y, 20, 0)
	tensor.SetWorkers(2)
	two := infer(t, b, x, y, 20, 0)
	if d, same := maxDiff(one, two); !same {
		t.Fatalf("1 vs 2 workers: outputs differ by %g", d)
	}
}

func TestModelContextPermutationInvariance(t *testing.T) {
	m := tinyModel(t, 4)
	perturb(m, 2, 0.1)
	const B, N, F, nctx = 2, 40, 5, 30
	x, y := randomTable(3, B, N, F, nctx)
	base := infer(t, m, x, y, nctx, 0)
	perm := tensor.NewRNG(5, 0).Perm(nctx)
	xv, yv := x.Float32s(), y.Float32s()
	px, py := append([]float32(nil), xv...), append([]float32(nil), yv...)
	for b := 0; b < B; b++ {
		for i, j := range perm {
			copy(px[(b*N+i)*F:(b*N+i+1)*F], xv[(b*N+j)*F:(b*N+j+1)*F])
			py[b*nctx+i] = yv[b*nctx+j]
		}
	}
	shuf := infer(t, m, tensor.FromSlice(px, B, N, F), tensor.FromSlice(py, B, nctx), nctx, 0)
	d, _ := maxDiff(base, shuf)
	t.Logf("context rows shuffled: max |diff| = %.3g", d)
	if d > 1e-4 {
		t.Fatalf("query outputs changed by %g when the context rows were shuffled", d)
	}
}

func TestModelQueryIndependence(t *testing.T) {
	m := tinyModel(t, 4)
	perturb(m, 3, 0.1)
	const B, N, F, nctx = 2, 26, 5, 20
	x, y := randomTable(8, B, N, F, nctx)
	all := infer(t, m, x, y, nctx, 0)
	xv := x.Float32s()
	Q := m.Config().Quantiles
	worst, exact := 0.0, true
	for q := nctx; q < N; q++ {
		// The context plus query q alone.
		one := make([]float32, B*(nctx+1)*F)
		for b := 0; b < B; b++ {
			copy(one[b*(nctx+1)*F:], xv[b*N*F:(b*N+nctx)*F])
			copy(one[(b*(nctx+1)+nctx)*F:], xv[(b*N+q)*F:(b*N+q+1)*F])
		}
		got := infer(t, m, tensor.FromSlice(one, B, nctx+1, F), y, nctx, 0)
		for b := 0; b < B; b++ {
			want := all[(b*(N-nctx)+q-nctx)*Q : (b*(N-nctx)+q-nctx+1)*Q]
			d, same := maxDiff(got[b*Q:(b+1)*Q], want)
			worst, exact = math.Max(worst, d), exact && same
		}
	}
	t.Logf("each query alone vs all queries together: max |diff| = %.3g, bit-identical: %v", worst, exact)
	if worst > 1e-6 {
		t.Fatalf("a query's output depends on the other queries (max diff %g)", worst)
	}
}

// TestModelCachedChunked compares the uncached path (Forward, all queries at
// once) with the cached one (context keys/values computed once, queries in
// chunks) for several chunk sizes. They must agree within 1e-6; the log says
// whether they are bit-identical (they are on the CPU backend, whose kernels
// compute every output row in an order independent of the number of rows).
func TestModelCachedChunked(t *testing.T) {
	m := tinyModel(t, 6)
	perturb(m, 4, 0.1)
	const B, N, F, nctx = 2, 47, 7, 30
	x, y := randomTable(9, B, N, F, nctx)
	ref := infer(t, m, x, y, nctx, 0)
	for _, chunk := range []int{1, 3, 16, 17, 100} {
		got := infer(t, m, x, y, nctx, chunk)
		d, same := maxDiff(ref, got)
		t.Logf("QueryChunk %d vs uncached: max |diff| = %.3g, bit-identical: %v", chunk, d, same)
		if d > 1e-6 {
			t.Fatalf("QueryChunk %d differs from the uncached path by %g", chunk, d)
		}
	}
}

// Infer hands its intermediates back to the buffer pool, and the next pass
// reuses them (their stale contents included) without changing a bit: the
// unchunked path equals a NoGrad forward pass on fresh memory, and a table's
// quantiles are the same before and after another table's pass.
func TestModelInferReusesBuffers(t *testing.T) {
	m := tinyModel(t, 8)
	perturb(m, 2, 0.1)
	const B, N, F, nctx = 2, 41, 6, 28
	x, y := randomTable(3, B, N, F, nctx)
	x2, y2 := randomTable(4, B, N+5, F+1, nctx+3)
	fresh := m.Forward(autograd.NoGrad(), x, y, nctx).Value.Float32s()
	for _, chunk := range []int{0, 5} {
		tensor.DrainPool()
		first := infer(t, m, x, y, nctx, chunk)
		if tensor.PoolBytes() == 0 {
			t.Fatalf("QueryChunk %d: Infer returned nothing to the buffer pool", chunk)
		}
		infer(t, m, x2, y2, nctx+3, chunk)
		again := infer(t, m, x, y, nctx, chunk)
		if d, same := maxDiff(first, again); !same {
			t.Fatalf("QueryChunk %d: the same table after another differs by %g", chunk, d)
		}
		if chunk == 0 {
			if d, same := maxDiff(fresh, first); !same {
				t.Fatalf("Infer differs from a NoGrad forward pass by %g", d)
			}
		}
	}
}

func TestModelInferErrors(t *testing.T) {
	m := tinyModel(t, 1)
	x, y := randomTable(1, 1, 10, 3, 6)
	cases := []struct {
		name string
		x, y *tensor.Tensor
		nctx int
		opt  InferOptions
		want string
	}{
		{"rank", tensor.Zeros(10, 3), y, 6, InferOptions{}, "want [B, N, F]"},
		{"no queries", x, tensor.Zeros(1, 10), 10, InferOptions{}, "1 <= nctx < N"},
		{"no context", x, tensor.Zeros(1, 0), 0, InferOptions{}, "1 <= nctx < N"},
		{"y length", x, tensor.Zeros(1, 5), 6, InferOptions{}, "one target per context row"},
		{"chunk", x, y, 6, InferOptions{QueryChunk: -1}, "QueryChunk"},
		{"nil", nil, y, 6, InferOptions{}, "nil"},
	}
	for _, c := range cases {
		_, err := m.Infer(c.x, c.y, c.nctx, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestModelConfigSwitches(t *testing.T) {
	x, y := randomTable(2, 2, 15, 5, 10)
	for name, edit := range map[string]func(*Config){
		"no film":          func(c *Config) { c.FiLM = false },
		"no missing":       func(c *Config) { c.MissingEmbedding = false },
		"no y-aware":       func(c *Config) { c.YAware, c.ColumnYAware = false, false },
		"row y-aware":      func(c *Config) { c.ColumnYAware = false },
		"no qassmax":       func(c *Config) { c.QASSMax = false },
		"shared row attn":  func(c *Config) { c.SeparateQueryAttention = false },
		"no normalisation": func(c *Config) { c.NormalizeX, c.GroupScale = false, false },
		"single features":  func(c *Config) { c.GroupSize = 1 },
		"triples":          func(c *Config) { c.GroupSize = 3 },
		"one layer":        func(c *Config) { c.Layers = 1; c.ResidualScale = 0.5 },
	} {
		cfg := Tiny()
		edit(&cfg)
		m, err := NewModel(cfg, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		perturb(m, 1, 0.1)
		a := infer(t, m, x, y, 10, 0)
		b := infer(t, m, x, y, 10, 2)
		if d, _ := maxDiff(a, b); d > 1e-6 {
			t.Errorf("%s: chunked differs by %g", name, d)
		}
		for _, v := range a {
			if math.IsNaN(float64(v)) {
				t.Fatalf("%s: NaN output", name)
			}
		}
	}
	full, _ := NewModel(Tiny(), 1)
	cfg := Tiny()
	cfg.QASSMax, cfg.SeparateQueryAttention, cfg.FiLM = false, false, false
	small, _ := NewModel(cfg, 1)
	if small.NumParams() >= full.NumParams() {
		t.Fatalf("switching mechanisms off kept %d >= %d params", small.NumParams(), full.NumParams())
	}
}

func TestConfigValidateAndJSON(t *testing.T) {
	for _, c := range []Config{Nori6M(), Tiny()} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	bad := map[string]func(*Config){
		"embed % heads": func(c *Config) { c.Heads = 3 },
		"layers":        func(c *Config) { c.Layers = 0 },
		"quantiles":     func(c *Config) { c.Quantiles = -1 },
		"rbf_sigma":     func(c *Config) { c.RBFSigma = math.NaN() },
		"rbf_centers":   func(c *Config) { c.RBFCenters = 1 },
		"column_y":      func(c *Config) { c.YAware = false },
		"residual":      func(c *Config) { c.ResidualScale = -1 },
		"group_size":    func(c *Config) { c.GroupSize = 0 },
	}
	for name, edit := range bad {
		c := Nori6M()
		edit(&c)
		if c.Validate() == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
		if _, err := NewModel(c, 1); err == nil {
			t.Errorf("%s: NewModel accepted an invalid config", name)
		}
	}
	if _, err := ParseConfig([]byte(`{"layers": 2, "bogus": 1}`)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown field: %v", err)
	}
	if lv := Nori6M().QuantileLevels(); len(lv) != 999 || lv[0] != 0.001 || math.Abs(lv[998]-0.999) > 1e-15 {
		t.Errorf("levels %v ... %v", lv[0], lv[len(lv)-1])
	}
}

func TestMantissaExponent(t *testing.T) {
	for _, c := range []struct {
		v    float64
		m    float64
		e    int
		code int
	}{
		{0, 0, 0, 0}, {1, 1, 0, 0}, {100, 1, 2, 2}, {-100, 1, 2, 22}, {99.99, 9.999, 1, 1},
		{0.001, 1, -3, 13}, {-0.05, 5, -2, 32}, {1e-12, 0.001, -9, 19}, {1e300, 1e291, 9, 9},
		{1000, 1, 3, 3}, {1e-5, 1, -5, 15},
	} {
		m, e := mantissaExponent(c.v)
		if math.Abs(m-c.m) > 1e-12*math.Max(1, c.m) || e != c.e || filmCode(c.v, e) != c.code {
			t.Errorf("%g: m=%v e=%d code=%d, want %v %d %d", c.v, m, e, filmCode(c.v, e), c.m, c.e, c.code)
		}
	}
	for p := -9; p <= 9; p++ { // exact powers of ten start their decade
		if m, e := mantissaExponent(math.Pow10(p)); m != 1 || e != p {
			t.Errorf("10^%d: m=%v e=%d", p, m, e)
		}
	}
}

func TestPrepareInput(t *testing.T) {
	nan := math.NaN()
	// One table, 4 context rows and 1 query, 3 features (padded to 4).
	xv := []float64{
		1, 5, nan,
		2, 5, nan,
		3, 5, nan,
		nan, 5, nan,
		1000, 6, 7,
	}
	x := tensor.FromFloat64s(xv, 1, 5, 3)
	y := tensor.FromFloat64s([]float64{1, nan, 3, math.Inf(1)}, 1, 4)
	in, err := prepareInput(Tiny(), x, y, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Column 0: NaN -> mean 2; context [1,2,3,2], std sqrt(2/3); group 0 has
	// one non-constant feature (column 1 is constant): scale sqrt(2).
	std := math.Sqrt(2.0/3) + 1e-20
	s2 := math.Sqrt2
	want0 := []float64{-1 / std * s2, 0, 1 / std * s2, 0, 100 * s2}
	for n, w := range want0 {
		if g := in.vals[n*4]; math.Abs(g-w) > 1e-12 {
			t.Errorf("row %d col 0: %v, want %v", n, g, w)
		}
	}
	// Column 1 constant 5 in the context: z = 0 there, the query's 6 clips.
	if in.vals[1] != 0 || in.vals[4*4+1] != 100*s2 {
		t.Errorf("col 1: %v %v", in.vals[1], in.vals[4*4+1])
	}
	// Column 2 is missing in the context (fill 0, constant); the query's 7 is
	// (7-0)/1e-20 clipped; group 1 has no non-constant feature: scale
	// sqrt(2/1).
	if !in.miss[2] || in.miss[4*4+2] || in.vals[4*4+2] != 100*s2 {
		t.Errorf("col 2: miss %v %v val %v", in.miss[2], in.miss[4*4+2], in.vals[4*4+2])
	}
	if in.vals[4*4+3] != 0 {
		t.Errorf("padding column: %v", in.vals[4*4+3])
	}
	// Targets: mean of finite = 2; NaN -> (2, -2); +inf -> (2, 2); query -> (2, -2).
	wantY := [][2]float64{{1, 0}, {2, -2}, {3, 0}, {2, 2}, {2, -2}}
	for n, w := range wantY {
		if in.yVal[n] != w[0] || in.yInd[n] != w[1] {
			t.Errorf("target row %d: (%v, %v), want %v", n, in.yVal[n], in.yInd[n], w)
		}
	}
}

// TestModelGradientsReachParams runs one backward pass through a perturbed
// tiny model: every trainable parameter gets a non-zero gradient except those
// of the last layer's context row attention (module A), whose output is
// never read (see noriLayer.ctxStep); the frozen FiLM tables get none.
func TestModelGradientsReachParams(t *testing.T) {
	m := tinyModel(t, 12)
	perturb(m, 6, 0.1)
	x, y := randomTable(4, 2, 16, 5, 10)
	tp := autograd.NewTape()
	defer tp.Release()
	out := m.Forward(tp, x, y, 10)
	w := tensor.RandNormal(3, 0, 1, out.Shape()...)
	tp.Backward(tp.Sum(tp.Mul(out, autograd.Const(w)), false))
	last := "layers.1.row_ctx."
	for _, p := range nn.Params(m) {
		frozen := strings.HasSuffix(p.Name, "_table")
		switch {
		case frozen:
			if p.Var.Grad != nil || p.Var.RequiresGrad() {
				t.Errorf("%s: frozen table takes a gradient", p.Name)
			}
		case strings.HasPrefix(p.Name, last):
			if p.Var.Grad != nil && tensor.SumSquares(p.Var.Grad) != 0 {
				t.Errorf("%s: dead module got a non-zero gradient", p.Name)
			}
		case p.Var.Grad == nil:
			t.Errorf("%s: no gradient", p.Name)
		default:
			if s := tensor.SumSquares(p.Var.Grad); s == 0 || math.IsNaN(s) {
				t.Errorf("%s: gradient norm^2 %v", p.Name, s)
			}
		}
	}
}

// TestModelGradCheck compares the tape's gradients of the whole model (float64,
// a very small config) with central finite differences on several
// parameters spread over the network.
func TestModelGradCheck(t *testing.T) {
	cfg := Tiny()
	cfg.Embed, cfg.MLPHidden, cfg.HeadHidden, cfg.Quantiles = 8, 12, 10, 5
	cfg.RBFCenters, cfg.FiLMTokenDim, cfg.FiLMHidden, cfg.QASSHidden = 6, 2, 4, 4
	m, err := newModel(cfg, nn.NewBuilder64(21))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range nn.Params(m) {
		if p.Var.RequiresGrad() {
			noise := tensor.RandNormal(uint64(100+i), 0, 0.2, p.Var.Value.Shape()...).To(tensor.CPU, tensor.Float64)
			p.Var.Value.CopyFrom(tensor.Add(p.Var.Value, noise))
		}
	}
	x32, y32 := randomTable(5, 1, 9, 3, 6)
	x, y := x32.To(tensor.CPU, tensor.Float64), y32.To(tensor.CPU, tensor.Float64)
	names := []string{
		"encoder.film.fc1.bias", "encoder.missing", "encoder.fusion.fc1.bias", "encoder.target.weight",
		"encoder.y_aware.weight", "encoder.y_aware.alpha", "layers.0.row_ctx.qkv.weight",
		"layers.0.row_ctx.qass.base.fc2.bias", "layers.1.row_query.qass.gate.fc1.bias",
		"layers.1.row_query.out.weight", "layers.0.mlp.down.weight", "layers.1.feat.qkv.weight", "head.norm.weight",
	}
	refs := map[string]**autograd.Var{}
	m.refs("", func(n string, p **autograd.Var) { refs[n] = p })
	var inputs []*tensor.Tensor
	for _, n := range names {
		p, ok := refs[n]
		if !ok {
			t.Fatalf("no parameter %q", n)
		}
		inputs = append(inputs, (*p).Value)
	}
	f := func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
		saved := make([]*autograd.Var, len(names))
		for i, n := range names {
			saved[i], *refs[n] = *refs[n], in[i]
		}
		defer func() {
			for i, n := range names {
				*refs[n] = saved[i]
			}
		}()
		return m.Forward(tp, x, y, 6)
	}
	rep, err := autograd.CheckGrad(f, inputs, autograd.GradCheckOptions{RTol: 1e-5, ATol: 1e-7})
	t.Log(rep)
	if err != nil {
		t.Fatal(err)
	}
}

// A cell filled with the context mean (±inf, or NaN without the missing
// embedding) normalises to exactly 0, not to rounding noise of either sign
// (the sign would select a FiLM sign embedding).
func TestPrepareInputFilledIsZero(t *testing.T) {
	cfg := Tiny()
	cfg.MissingEmbedding = false
	xv := []float64{0.1, 0.7, math.Inf(1), 1.3, math.NaN(), 0.9, math.Inf(-1)}
	in, err := prepareInput(cfg, tensor.FromFloat64s(xv, 1, 7, 1), tensor.Zeros(1, 6), 6)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 4, 6} {
		if v := in.vals[n*in.Fp]; v != 0 || math.Signbit(v) {
			t.Errorf("filled row %d normalised to %v, want +0", n, v)
		}
	}
}
