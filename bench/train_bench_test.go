package bench

// Training-step benchmark (issue 6): one step of nori's trainer (forward,
// backward, gradient clipping, Muon + AdamW, EMA) on the model of the
// "small" training config (configs/small.json) and a fixed batch shape, 8
// tables of 256 rows (128 context, 128 query) and 16 features, drawn from
// the prior with the learnability filter on.
//
//	go test ./bench -run '^$' -bench TrainStep -benchtime 5x
//	NORI_BENCH_TORCH=1 go test ./bench -run '^$' -bench TrainStep -benchtime 5x   # also time PyTorch
//
// Reported: s/step and steps/s (the step alone, best and mean), tables/s
// (mean, the step alone), build-s (drawing and preparing one batch from the
// prior, which the trainer overlaps with the previous step), and with
// NORI_BENCH_TORCH=1 torch-s (best of 3 steps of bench/reference/
// train_step_ref.py: the same model, weights, batch and optimizer in
// PyTorch, torch.set_num_threads = nori's workers) and torch/nori (best
// time ratio; > 1 means nori is faster) and loss-diff (PyTorch's loss on
// the first timed batch minus nori's: the same computation, so ~1e-7).

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nori-ml/nori/configs"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

// benchTrainConfig is configs/small.json with one fixed batch shape.
func benchTrainConfig(b *testing.B) nori.TrainConfig {
	data, err := configs.Get("small")
	if err != nil {
		b.Fatal(err)
	}
	c, err := nori.ParseTrainConfig(data)
	if err != nil {
		b.Fatal(err)
	}
	c.BatchSize = 8
	c.Curriculum = []nori.CurriculumStage{{MinRows: 256, MaxRows: 256, MinFeatures: 16, MaxFeatures: 16, MinContextFrac: 0.5, MaxContextFrac: 0.5}}
	return c
}

func BenchmarkTrainStep(b *testing.B) {
	unpoisoned(b)
	c := benchTrainConfig(b)
	tr, err := nori.NewTrainer(c)
	if err != nil {
		b.Fatal(err)
	}
	// One untimed step: first-touch allocations, pool warm-up.
	if _, err := tr.Step(); err != nil {
		b.Fatal(err)
	}
	// The PyTorch reference starts from the weights the first timed step
	// sees, so its first loss must equal nori's on the same batch.
	var torchCkpt string
	if os.Getenv("NORI_BENCH_TORCH") != "" {
		torchCkpt = filepath.Join(b.TempDir(), "m.safetensors")
		if err := tr.Model().Save(torchCkpt, nil); err != nil {
			b.Fatal(err)
		}
	}
	var build, best, sum time.Duration
	best = time.Duration(math.MaxInt64)
	var first *nori.TrainBatch
	var firstLoss float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t0 := time.Now()
		batch, err := tr.Batch(tr.Steps())
		if err != nil {
			b.Fatal(err)
		}
		build += time.Since(t0)
		b.StartTimer()
		t1 := time.Now()
		r, err := tr.StepOn(batch)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t1)
		sum += d
		best = min(best, d)
		if first == nil {
			first, firstLoss = batch, r.Loss
		} else {
			batch.Release()
		}
	}
	b.StopTimer()
	mean := sum.Seconds() / float64(b.N)
	b.ReportMetric(mean, "s/step")
	b.ReportMetric(best.Seconds(), "best-s/step")
	b.ReportMetric(1/mean, "steps/s")
	b.ReportMetric(float64(c.BatchSize)/mean, "tables/s")
	b.ReportMetric(build.Seconds()/float64(b.N), "build-s")
	if torchCkpt != "" {
		sec, loss, err := torchTrainStep(b, torchCkpt, first)
		if err != nil {
			b.Fatal(err)
		}
		// Same model, weights and batch: the losses agree to float32
		// rounding, or the timing compares different computations.
		if rel := math.Abs(loss-firstLoss) / math.Abs(firstLoss); !(rel < 1e-4) {
			b.Fatalf("PyTorch loss %.8g, nori %.8g: not the same computation", loss, firstLoss)
		}
		b.ReportMetric(loss-firstLoss, "loss-diff")
		b.ReportMetric(sec, "torch-s")
		b.ReportMetric(sec/best.Seconds(), "torch/nori")
	}
}

// torchTrainStep times the PyTorch reference's training step on batch with
// as many threads as nori's worker pool and returns its best time and the
// loss of its first step.
func torchTrainStep(b *testing.B, ckpt string, batch *nori.TrainBatch) (sec, loss float64, err error) {
	path := filepath.Join(b.TempDir(), "batch.safetensors")
	meta := map[string]string{"nctx": strconv.Itoa(batch.Shape.NCtx)}
	if err := nn.SaveTensors(path, []string{"x", "y", "yq"}, []*tensor.Tensor{batch.X, batch.YCtx, batch.YQry}, meta, nn.SaveOptions{}); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("reference", "train_step_ref.py"), ckpt, path,
		"--threads", strconv.Itoa(tensor.Workers()), "--repeat", "3")
	res, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("PyTorch training step: %v (%s)", err, res)
	}
	var info struct {
		Seconds []float64 `json:"seconds"`
		Loss    []float64 `json:"loss"`
	}
	if err := json.Unmarshal(res, &info); err != nil || len(info.Seconds) == 0 || len(info.Loss) == 0 {
		return 0, 0, fmt.Errorf("PyTorch training step output %q: %v", res, err)
	}
	best := info.Seconds[0]
	for _, s := range info.Seconds {
		best = math.Min(best, s)
	}
	return best, info.Loss[0], nil
}
