package nn

import (
	"path/filepath"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// benchTensors returns 16 float32 tensors of 256×256 (4 MiB in all).
func benchTensors() ([]string, []*tensor.Tensor, int64) {
	var names []string
	var ts []*tensor.Tensor
	var bytes int64
	for i := 0; i < 16; i++ {
		names = append(names, "blocks."+string(rune('a'+i))+".weight")
		ts = append(ts, tensor.RandNormal(uint64(i), 0, 1, 256, 256))
		bytes += 256 * 256 * 4
	}
	return names, ts, bytes
}

// reportGBs reports the tensor bytes (in the source dtype) moved per second.
func reportGBs(b *testing.B, bytes int64) {
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkSaveTensors measures a single-file save including the fsync,
// which usually dominates.
func BenchmarkSaveTensors(b *testing.B) {
	names, ts, bytes := benchTensors()
	for _, dt := range []tensor.DType{tensor.Float32, tensor.BFloat16} {
		b.Run(dt.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "m.safetensors")
			for b.Loop() {
				if err := SaveTensors(path, names, ts, nil, SaveOptions{DType: dt}); err != nil {
					b.Fatal(err)
				}
			}
			reportGBs(b, bytes)
		})
	}
}

// BenchmarkLoadTensors measures loading (header validation, reads, decoding)
// from a file that is in the page cache after the first iteration.
func BenchmarkLoadTensors(b *testing.B) {
	names, ts, bytes := benchTensors()
	for _, dt := range []tensor.DType{tensor.Float32, tensor.BFloat16} {
		b.Run(dt.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "m.safetensors")
			if err := SaveTensors(path, names, ts, nil, SaveOptions{DType: dt}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := LoadTensors(path); err != nil {
					b.Fatal(err)
				}
			}
			reportGBs(b, bytes)
		})
	}
}
