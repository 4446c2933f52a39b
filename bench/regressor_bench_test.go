package bench

// End-to-end latency of the Regressor with the embedded checkpoint: Fit on
// 80% of an n x F table and Predict the other 20%, 8 ensemble members
// (the default), on the CPU with every core: with the default settings
// (local contexts: every group of about 25 query rows is predicted from its
// 256 nearest training rows), and with one context of every training row,
// the members weighted by their held-out error (three more passes over the
// training rows in Fit) or averaged equally.
//
//	NORI_BENCH_SLOW=1 go test ./bench -run '^$' -bench RegressorLatency -benchtime 1x
//
// Reported: s/op (fit + predict), cells (n x F) and s_per_sqrt_cell, the
// time over sqrt(n F): Nori's published H100 latencies are about 0.0051
// s per sqrt(cell) (0.72 s at 1000 x 20, 3.6 s at 10000 x 50), a reference
// point only (a GPU against this machine's cores).

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

// latencyTable is a nonlinear regression table: y = sin(x0) + x1 x2 + the
// sum of the other features / F + noise.
// skipUnlessSlow skips a benchmark that takes minutes (a training run, a
// 10000-row table) unless NORI_BENCH_SLOW is set, so that make bench stays
// short.
func skipUnlessSlow(b *testing.B) {
	if os.Getenv("NORI_BENCH_SLOW") == "" {
		b.Skip("takes minutes: set NORI_BENCH_SLOW=1 to run it")
	}
}

func latencyTable(n, f int) ([][]float64, []float64) {
	r := tensor.NewRNG(11, 3)
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, f)
		for j := range X[i] {
			X[i][j] = r.NormFloat64()
		}
		y[i] = math.Sin(X[i][0]) + X[i][1]*X[i][2] + 0.1*r.NormFloat64()
		for j := 3; j < f; j++ {
			y[i] += X[i][j] / float64(f)
		}
	}
	return X, y
}

func BenchmarkRegressorLatency(b *testing.B) {
	unpoisoned(b)
	skipUnlessSlow(b)
	modes := []struct {
		name string
		opts []nori.Option
	}{
		{"default", nil}, // local contexts above 256 training rows; above 512, members weighted by probe contexts; the best 8 of 16 candidates
		{"no_pool", []nori.Option{nori.WithMemberPool(0)}},
		{"local_equal", []nori.Option{nori.WithMemberWeights(false)}},
		{"global_weighted", []nori.Option{nori.WithLocalContext(0, 0), nori.WithMemberWeights(true)}},
		{"global_equal", []nori.Option{nori.WithLocalContext(0, 0), nori.WithMemberWeights(false)}},
	}
	for _, size := range [][2]int{{1000, 20}, {10000, 50}} {
		for _, mode := range modes {
			n, f := size[0], size[1]
			b.Run(fmt.Sprintf("n%d_f%d_%s", n, f, mode.name), func(b *testing.B) {
				X, y := latencyTable(n, f)
				nTrain := n * 4 / 5
				reg, err := nori.NewRegressor(mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				var r2 float64
				b.ResetTimer()
				for range b.N {
					if err := reg.Fit(X[:nTrain], y[:nTrain]); err != nil {
						b.Fatal(err)
					}
					p, err := reg.Predict(X[nTrain:])
					if err != nil {
						b.Fatal(err)
					}
					r2 = nori.R2Score(y[nTrain:], p)
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				cells := float64(n * f)
				b.ReportMetric(s, "s/op")
				b.ReportMetric(cells, "cells")
				b.ReportMetric(s/math.Sqrt(cells), "s_per_sqrt_cell")
				b.ReportMetric(r2, "R2")
			})
		}
	}
}
