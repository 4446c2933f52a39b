package prior

import (
	"fmt"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/tensor"
)

// Tables per second per core: one goroutine, one worker, drawing tables
// 0, 1, 2, ... of a seed at 512 rows x 16 features. The target is at least
// 200 tables/s per core with the filter, so that the prior never bounds
// training on the CPU.

func benchTables(b *testing.B, p *Prior, rows, features int) {
	old := par.SetWorkers(1)
	defer par.SetWorkers(old)
	attempts := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := p.Table(1, uint64(i), rows, features)
		if err != nil {
			b.Fatal(err)
		}
		attempts += t.Info.Attempts
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tables/s")
	b.ReportMetric(float64(attempts)/float64(b.N), "draws/table")
}

// BenchmarkPrior: the reference mixture with and without the filter, then
// each generator alone (filter on).
func BenchmarkPrior(b *testing.B) {
	for _, filter := range []bool{true, false} {
		name := "mixture/filter"
		if !filter {
			name = "mixture/nofilter"
		}
		b.Run(name, func(b *testing.B) {
			p := defaultPrior(b)
			p.cfg.Filter.Enabled = filter
			benchTables(b, p, 512, 16)
		})
	}
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
			for i := 0; i < b.N; i++ {
				Learnability(tensor.NewRNG(2, uint64(i)), tb, cfg)
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
