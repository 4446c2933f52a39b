package bench

// Model inference benchmarks (issue 5): the nori-6m forward pass for one
// ensemble member, Go against the PyTorch reference (bench/reference/
// nori_ref.py) with the same number of threads.
//
//	go test ./bench -run '^$' -bench ModelInfer -benchtime 1x
//	NORI_BENCH_TORCH=1 go test ./bench -run '^$' -bench ModelInfer -benchtime 1x   # also time PyTorch
//
// Each case reports s/op, peak-MB (growth of the process's peak resident set
// during the timed loop, from /proc/self/status VmHWM after resetting it via
// /proc/self/clear_refs) and, with NORI_BENCH_TORCH=1, torch-s (the
// reference's best time of the same forward pass, torch.set_num_threads =
// nori's workers), torch-peak-MB (the reference's peak RSS growth) and
// torch/nori (time ratio, > 1 means nori is faster).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

type inferCase struct {
	name        string
	nctx, nq, F int
	chunk       int
}

var inferCases = []inferCase{
	{"a_ctx1024_f16_q256/uncached", 1024, 256, 16, 0},
	{"a_ctx1024_f16_q256/chunk64", 1024, 256, 16, 64},
	{"b_ctx4096_f32_q1024/uncached", 4096, 1024, 32, 0},
	{"b_ctx4096_f32_q1024/chunk256", 4096, 1024, 32, 256},
}

// benchTable returns a random table [1, nctx+nq, F] (heavy-tailed values,
// 5% missing) and context targets [1, nctx].
func benchTable(nctx, nq, F int) (x, y *tensor.Tensor) {
	r := tensor.NewRNG(1, 2)
	xv := make([]float32, (nctx+nq)*F)
	for i := range xv {
		v := r.NormFloat64() * math.Exp(r.NormFloat64())
		if r.Float64() < 0.05 {
			v = math.NaN()
		}
		xv[i] = float32(v)
	}
	yv := make([]float32, nctx)
	for i := range yv {
		yv[i] = float32(r.NormFloat64())
	}
	return tensor.FromSlice(xv, 1, nctx+nq, F), tensor.FromSlice(yv, 1, nctx)
}

// procStatusKB returns a field of /proc/self/status in KiB (0 if absent).
func procStatusKB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM restart from the current RSS (Linux >= 4.0).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func BenchmarkModelInfer(b *testing.B) {
	unpoisoned(b)
	m, err := nori.NewModel(nori.Nori6M(), 1)
	if err != nil {
		b.Fatal(err)
	}
	torchRuns := map[string]bool{}
	for _, c := range inferCases {
		b.Run(c.name, func(b *testing.B) {
			x, y := benchTable(c.nctx, c.nq, c.F)
			runtime.GC()
			before := procStatusKB("VmRSS")
			peakOK := resetPeakRSS()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Infer(x, y, c.nctx, nori.InferOptions{QueryChunk: c.chunk}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if peakOK {
				b.ReportMetric((procStatusKB("VmHWM")-before)/1024, "peak-MB")
			}
			goSec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(goSec, "s/op")
			b.ReportMetric(float64(c.nq)/goSec, "queries/s")
			size := strings.Split(c.name, "/")[0]
			if os.Getenv("NORI_BENCH_TORCH") != "" && !torchRuns[size] {
				torchRuns[size] = true // one reference run per size: it has no cache to compare
				sec, peak, err := torchReference(b, m, x, y, c.nctx)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(sec, "torch-s")
				b.ReportMetric(peak, "torch-peak-MB")
				b.ReportMetric(sec/goSec, "torch/nori")
			}
		})
	}
}

// torchReference times the PyTorch reference on the same model and table
// with as many threads as nori's worker pool, returning its best time and
// peak RSS growth.
func torchReference(b *testing.B, m *nori.Model, x, y *tensor.Tensor, nctx int) (sec, peakMB float64, err error) {
	dir := b.TempDir()
	ckpt, table, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "t.safetensors"), filepath.Join(dir, "o.safetensors")
	if err := m.Save(ckpt, nil); err != nil {
		return 0, 0, err
	}
	if err := nn.SaveTensors(table, []string{"x", "y"}, []*tensor.Tensor{x, y}, map[string]string{"nctx": strconv.Itoa(nctx)}, nn.SaveOptions{}); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("reference", "nori_ref.py"), ckpt, table, out,
		"--threads", strconv.Itoa(tensor.Workers()), "--repeat", "1")
	res, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("PyTorch reference: %v (%s)", err, res)
	}
	var info struct {
		Seconds []float64 `json:"seconds"`
		Peak    float64   `json:"peak_rss_delta_mb"`
	}
	if err := json.Unmarshal(res, &info); err != nil || len(info.Seconds) == 0 {
		return 0, 0, fmt.Errorf("PyTorch reference output %q: %v", res, err)
	}
	best := info.Seconds[0]
	for _, s := range info.Seconds {
		best = math.Min(best, s)
	}
	return best, info.Peak, nil
}
