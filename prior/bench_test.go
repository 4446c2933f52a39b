package prior

import (
	"fmt"
	"testing"
	"time"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/tensor"
)

// Tables per second per core: one goroutine, one worker, drawing tables
// 0, 1, 2, ... of a seed at 512 rows x 16 features. The target is at least
// 200 tables/s per core with the filter, so that the prior never bounds
// training on the CPU. Besides tables per wall-clock second the benchmarks
// report tables per CPU-second of the process (processCPU, shared with the
// generator benchmarks): on a loaded machine wall time measures the other
// jobs as much as the prior.

func benchTables(b *testing.B, p *Prior, rows, features int) {
	old := par.SetWorkers(1)
	defer par.SetWorkers(old)
	attempts := 0
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		t, err := p.Table(1, uint64(i), rows, features)
		if err != nil {
			b.Fatal(err)
		}
		attempts += t.Info.Attempts
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "tables/cpu-s")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tables/s")
	b.ReportMetric(float64(attempts)/float64(b.N), "draws/table")
}

// BenchmarkPrior: the reference mixture with and without the filter, then
// each generator alone (filter on). The mixture benchmark alternates a table
// with the filter and the same table without it, so that both rates (and
// their ratio, the filter's cost) are measured under the same machine load.
func BenchmarkPrior(b *testing.B) {
	b.Run("mixture", func(b *testing.B) {
		on := defaultPrior(b)
		off := defaultPrior(b)
		off.cfg.Filter.Enabled = false
		old := par.SetWorkers(1)
		defer par.SetWorkers(old)
		var tOn, tOff, cOn, cOff time.Duration
		attempts := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0, c0 := time.Now(), processCPU()
			t, err := on.Table(1, uint64(i), 512, 16)
			t1, c1 := time.Now(), processCPU()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := off.Table(1, uint64(i), 512, 16); err != nil {
				b.Fatal(err)
			}
			tOn += t1.Sub(t0)
			tOff += time.Since(t1)
			cOn += c1 - c0
			cOff += processCPU() - c1
			attempts += t.Info.Attempts
		}
		b.ReportMetric(float64(b.N)/tOn.Seconds(), "filter_tables/s")
		b.ReportMetric(float64(b.N)/tOff.Seconds(), "nofilter_tables/s")
		if cOn > 0 && cOff > 0 {
			b.ReportMetric(float64(b.N)/cOn.Seconds(), "filter_tables/cpu-s")
			b.ReportMetric(float64(b.N)/cOff.Seconds(), "nofilter_tables/cpu-s")
		}
		b.ReportMetric(tOn.Seconds()/tOff.Seconds(), "filter_cost_x")
		b.ReportMetric(float64(attempts)/float64(b.N), "draws/table")
	})
	for _, g := range Names() {
		b.Run("gen="+g, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Shares = map[string]float64{g: 1}
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			benchTables(b, p, 512, 16)
		})
	}
}

// BenchmarkFilter: the learnability filter alone on a 512x16 linear table
// and on a 1000-row subsample of a 4000x100 table.
func BenchmarkFilter(b *testing.B) {
	for _, sh := range [][2]int{{512, 16}, {4000, 100}} {
		tb := linearTable(tensor.NewRNG(1, 1), sh[0], sh[1], 0.5)
		cfg := DefaultFilterConfig()
		b.Run(fmt.Sprintf("%dx%d", sh[0], sh[1]), func(b *testing.B) {
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				Learnability(tensor.NewRNG(2, uint64(i)), tb, cfg)
			}
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "tables/cpu-s")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tables/s")
		})
	}
}

// BenchmarkBatch: one training batch of 24 tables of 512 x 16 on all
// workers.
func BenchmarkBatch(b *testing.B) {
	p := defaultPrior(b)
	sh := Shape{Rows: 512, Features: 16, NCtx: 256}
	for i := 0; i < b.N; i++ {
		if _, err := p.BatchShape(1, int64(i), 24, sh); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(24*b.N)/b.Elapsed().Seconds(), "tables/s")
}
