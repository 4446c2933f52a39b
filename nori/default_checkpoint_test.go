package nori

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

func TestDefaultModelLoads(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatalf("DefaultModel: %v", err)
	}
	cfg := m.Config()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("embedded config invalid: %v", err)
	}
	fresh, err := NewModel(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.NumParams(), fresh.NumParams(); got != want || got == 0 {
		t.Errorf("embedded model has %d parameters, its config gives %d", got, want)
	}
	again, err := DefaultModel()
	if err != nil || again != m {
		t.Errorf("second DefaultModel() = %p, %v; want the cached %p", again, err, m)
	}
	info, err := DefaultCheckpointInfo()
	if err != nil {
		t.Fatalf("DefaultCheckpointInfo: %v", err)
	}
	if info.Config != cfg || info.Bytes != len(defaultCheckpoint) || info.Source != DefaultCheckpointName {
		t.Errorf("info %+v does not describe the embedded model (config %+v, %d bytes)", info, cfg, len(defaultCheckpoint))
	}
	// The embedded file must come from the trainer: a training config name
	// and a positive step count (a fresh, untrained model has neither).
	if info.TrainConfig == "" || info.Step <= 0 || info.TablesSeen <= 0 {
		t.Errorf("embedded checkpoint lacks training metadata: config %q, step %d, tables %d", info.TrainConfig, info.Step, info.TablesSeen)
	}
	t.Logf("embedded checkpoint: config %q, step %d, %d tables seen, %d parameters, %d bytes",
		info.TrainConfig, info.Step, info.TablesSeen, m.NumParams(), info.Bytes)
}

// TestDefaultModelWeightsAreTrained guards against an untrained file being
// embedded: the weights must differ from the initialisation of the same
// config under the trainer's seed.
func TestDefaultModelWeightsAreTrained(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	init, err := NewModel(m.Config(), 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := paramValues(m), paramValues(init)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d parameter values", len(a), len(b))
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	// Frozen tables (e.g. RBF centres) equal their initialisation; the
	// trained weights are most of the model.
	if frac := float64(same) / float64(len(a)); frac > 0.5 {
		t.Errorf("%.0f%% of the embedded weights equal a seed-0 initialisation: untrained checkpoint?", 100*frac)
	}
}

func paramValues(m *Model) []float32 {
	var out []float32
	m.VisitParams("", func(_ string, p *autograd.Var) { out = append(out, p.Value.Float32s()...) })
	return out
}

// TestDefaultModelPredictsLinearTable: NewRegressor with no options (the
// embedded model, default ensemble) on a clean linear table.
// minLinearR2 is the floor the embedded checkpoint must clear on the clean
// linear table below: issue 6 asks for R² > 0.95. The checkpoint shipped now
// (configs/medium.json trained on an H100, continued on the CPU:
// runs/medium-cpu, runs/medium-cpu3) scores 0.958 with the member weighting
// (ensemble_weights.go), 0.960 with the default local contexts (300 rows:
// local, and weighted, at most 512 rows) and 0.914 with the members averaged
// equally (0.907 after medium-cpu, 0.899 before the continuation). Single
// members score 0.86-0.96: the network is sensitive to which features share
// a pair token (docs/model.md), and the weighting finds the members whose
// pairing suits the table. An untrained or damaged checkpoint scores about 0.
const minLinearR2 = 0.95

func TestDefaultModelPredictsLinearTable(t *testing.T) {
	const ctxRows, queryRows, feats = 300, 100, 5
	r := tensor.NewRNG(7, 0)
	gen := func(n int) ([][]float64, []float64) {
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			X[i] = make([]float64, feats)
			for j := range X[i] {
				X[i][j] = r.NormFloat64()
			}
			y[i] = 2*X[i][0] - X[i][1] + 0.5*X[i][2] // x3, x4 are irrelevant
		}
		return X, y
	}
	Xc, yc := gen(ctxRows)
	Xq, yq := gen(queryRows)
	reg, err := NewRegressor()
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Fit(Xc, yc); err != nil {
		t.Fatal(err)
	}
	pred, err := reg.Predict(Xq)
	if err != nil {
		t.Fatal(err)
	}
	r2 := R2Score(yq, pred)
	t.Logf("embedded model on y = 2x0 - x1 + 0.5x2 (%d context rows, %d queries, %d features): R² %.4f, RMSE %.4f",
		ctxRows, queryRows, feats, r2, RMSE(yq, pred))
	if !(r2 > minLinearR2) {
		t.Errorf("R² %.4f on a clean linear table, want > %.2f", r2, minLinearR2)
	}
}

// TestNewRegressorDefaultsToEmbeddedModel: no model option means exactly
// the embedded model (same predictions, bit for bit, as WithModel of it).
func TestNewRegressorDefaultsToEmbeddedModel(t *testing.T) {
	X, y := linearData(40, 3, 3)
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	var preds [2][]float64
	for i, opts := range [][]Option{{WithEnsemble(2)}, {WithEnsemble(2), WithModel(m)}} {
		reg, err := NewRegressor(opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Fit(X[:30], y[:30]); err != nil {
			t.Fatal(err)
		}
		if preds[i], err = reg.Predict(X[30:]); err != nil {
			t.Fatal(err)
		}
	}
	if !sameFloats(preds[0], preds[1]) {
		t.Errorf("NewRegressor() predicts %v, WithModel(DefaultModel()) %v", preds[0], preds[1])
	}
}

// TestDefaultModelCorruptBytes: the loader behind DefaultModel reports
// damaged bytes as an error naming the embedded checkpoint.
func TestDefaultModelCorruptBytes(t *testing.T) {
	good := defaultCheckpoint
	hdrLen := binary.LittleEndian.Uint64(good[:8])
	badLen := append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(badLen, hdrLen+1)
	badJSON := append([]byte(nil), good...)
	badJSON[8] = '['
	cases := map[string][]byte{
		"empty":           nil,
		"truncated":       good[:len(good)-1],
		"header only":     good[:8+hdrLen],
		"length field":    badLen,
		"header not JSON": badJSON,
	}
	for name, b := range cases {
		m, err := loadDefaultModel(b)
		if err == nil {
			t.Errorf("%s: loaded %v, want an error", name, m)
			continue
		}
		if !strings.Contains(err.Error(), DefaultCheckpointName) {
			t.Errorf("%s: error %q does not name the embedded checkpoint", name, err)
		}
		// The header's tiling check sees truncation too, so the
		// metadata-only reader rejects every case as well.
		if _, err := checkpointInfo(b, DefaultCheckpointName); err == nil {
			t.Errorf("%s: checkpointInfo accepted a corrupt file", name)
		}
	}
}
