package prior

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// BenchmarkRegressionStyleGenerators reports tables/s for 512 x 16 tables
// of each regression-style generator, with filling a table's X and Y with
// normal values as the reference measured in the same run (x_fill =
// generator time / fill time; run the whole benchmark so the reference is
// measured).
func BenchmarkRegressionStyleGenerators(b *testing.B) {
	const rows, features = 512, 16
	var fill float64 // ns per table of the reference, measured first
	b.Run("fill_reference", func(b *testing.B) {
		r := tensor.NewRNG(1, 1)
		t := NewTable(rows, features)
		for range b.N {
			FillNormal(r, t.X, 0, 1)
			FillNormal(r, t.Y, 0, 1)
		}
		fill = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/fill, "tables/s")
	})
	for _, name := range regressionStyleGenerators {
		g := mustGenerator(b, name)
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				g.Generate(tensor.NewRNG(uint64(i), 1), rows, features)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(1e9/ns, "tables/s")
			if fill > 0 {
				b.ReportMetric(ns/fill, "x_fill")
			}
		})
	}
}

// BenchmarkAugment reports tables/s of Augment with the default
// configuration on 512 x 16 tables ("default"), and with every augmentation
// forced on ("all").
func BenchmarkAugment(b *testing.B) {
	const rows, features = 512, 16
	all := allAugmentations()
	bases := make([]*Table, 16)
	for i := range bases {
		bases[i] = mustGenerator(b, "regression").Generate(tensor.NewRNG(uint64(i), 1), rows, features)
	}
	for _, c := range []struct {
		name string
		cfg  AugmentConfig
	}{{"default", DefaultAugmentConfig()}, {"all", all}} {
		b.Run(c.name, func(b *testing.B) {
			work := make([]*Table, len(bases))
			for i := range b.N {
				k := i % len(bases)
				if work[k] == nil {
					work[k] = cloneTable(bases[k])
				}
				t := work[k]
				copy(t.X, bases[k].X)
				copy(t.Y, bases[k].Y)
				copy(t.Categorical, bases[k].Categorical)
				t.Info.Augmentations = t.Info.Augmentations[:0]
				Augment(tensor.NewRNG(uint64(i), 2), t, c.cfg)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(1e9/ns, "tables/s")
		})
	}
}
