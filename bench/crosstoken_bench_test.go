package bench

// Can the architecture learn interactions across pair tokens? A fresh
// `small` model trained directly on tables y = x_a x_b (4 features, two pair
// tokens; a and b drawn per table) against the embedded checkpoint, on a
// held-out batch where a and b share a token and one where they do not:
//
//	NORI_BENCH_SLOW=1 go test ./bench -run '^$' -bench CrossTokenLearning -benchtime 1x   # about 6 minutes on 2 cores
//
// Reported: the R² of the mean prediction (normalised targets) for each
// case, for the embedded checkpoint (ckpt_*) and the fresh model after
// xtokSteps steps (trained_*). Measured 2026-11-23 on the dev machine:
// checkpoint 0.811 same-token, 0.284 cross-token; trained 0.938 and 0.991
// after 1200 steps (19,200 tables): the layers combine tokens; the
// checkpoint's prior and training did not teach it to.

import (
	"testing"

	"github.com/nori-ml/nori/configs"
	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/prior"
	"github.com/nori-ml/nori/tensor"
)

const (
	xtokF, xtokN, xtokNCtx, xtokB = 4, 160, 128, 16
	xtokSteps                     = 1200
)

// xtokBatch: y = x_a * x_b, (a, b) distinct random columns of 4 (both in
// one pair token when {a,b} = {0,1} or {2,3}).
func xtokBatch(seed uint64, step int, pairs [][2]int) (*nori.TrainBatch, [][2]int) {
	r := tensor.NewRNG(seed, uint64(step))
	x := make([]float32, xtokB*xtokN*xtokF)
	y := make([]float32, xtokB*xtokN)
	var used [][2]int
	for b := 0; b < xtokB; b++ {
		var a, c int
		if pairs != nil {
			a, c = pairs[b][0], pairs[b][1]
		} else {
			a = r.Intn(xtokF)
			c = (a + 1 + r.Intn(xtokF-1)) % xtokF
		}
		used = append(used, [2]int{a, c})
		for n := 0; n < xtokN; n++ {
			for f := 0; f < xtokF; f++ {
				x[(b*xtokN+n)*xtokF+f] = float32(r.NormFloat64())
			}
			y[b*xtokN+n] = x[(b*xtokN+n)*xtokF+a] * x[(b*xtokN+n)*xtokF+c]
		}
	}
	ctx, q, _ := nori.NormalizeTargets(y, xtokB, xtokN, xtokNCtx)
	return &nori.TrainBatch{Step: step, Shape: prior.Shape{Rows: xtokN, Features: xtokF, NCtx: xtokNCtx},
		X: tensor.FromSlice(x, xtokB, xtokN, xtokF), YCtx: tensor.FromSlice(ctx, xtokB, xtokNCtx), YQry: tensor.FromSlice(q, xtokB, xtokN-xtokNCtx)}, used
}

func xtokR2(m *nori.Model, pairs [][2]int) float64 {
	b, _ := xtokBatch(999, 0, pairs)
	out, err := m.Infer(b.X, b.YCtx, xtokNCtx, nori.InferOptions{})
	if err != nil {
		panic(err)
	}
	Q := m.Config().Quantiles
	q := out.Float64s()
	yq := b.YQry.Float64s()
	pred := make([]float64, len(yq))
	for i := range pred {
		for k := 0; k < Q; k++ {
			pred[i] += q[i*Q+k]
		}
		pred[i] /= float64(Q)
	}
	return nori.R2Score(yq, pred)
}

func BenchmarkCrossTokenLearning(b *testing.B) {
	unpoisoned(b)
	skipUnlessSlow(b)
	data, err := configs.Get("small")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := nori.ParseTrainConfig(data)
	if err != nil {
		b.Fatal(err)
	}
	same := make([][2]int, xtokB)
	diff := make([][2]int, xtokB)
	for i := range same {
		same[i] = [][2]int{{0, 1}, {2, 3}, {1, 0}, {3, 2}}[i%4]
		diff[i] = [][2]int{{0, 2}, {1, 3}, {0, 3}, {1, 2}}[i%4]
	}
	dm, err := nori.DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		c := nori.DefaultTrainConfig(cfg.Model)
		c.Name, c.LR, c.WarmupSteps, c.TotalSteps, c.BatchSize = "xtok", 0.003, 20, 100000, xtokB
		tr, err := nori.NewTrainer(c)
		if err != nil {
			b.Fatal(err)
		}
		for s := 0; s < xtokSteps; s++ {
			bt, _ := xtokBatch(1, s, nil)
			if _, err := tr.StepOn(bt); err != nil {
				b.Fatal(err)
			}
			bt.Release()
		}
		b.ReportMetric(xtokR2(tr.Model(), same), "trained_same_R2")
		b.ReportMetric(xtokR2(tr.Model(), diff), "trained_cross_R2")
	}
	b.ReportMetric(xtokR2(dm, same), "ckpt_same_R2")
	b.ReportMetric(xtokR2(dm, diff), "ckpt_cross_R2")
}
