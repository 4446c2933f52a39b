package nn

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// FuzzLoad feeds arbitrary bytes to LoadTensors as a .safetensors file. The
// loader must return an error or a valid checkpoint, never panic, and never
// allocate more than the file's size warrants (the fuzzer's memory limit
// catches a header that makes it allocate absurdly).
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	save := func(name string, opt SaveOptions, ts ...*tensor.Tensor) []byte {
		names := make([]string, len(ts))
		for i := range ts {
			names[i] = string(rune('a' + i))
		}
		path := filepath.Join(dir, name+".safetensors")
		if err := SaveTensors(path, names, ts, map[string]string{"step": "1"}, opt); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f32 := save("f32", SaveOptions{}, tensor.RandNormal(1, 0, 1, 3, 4), tensor.RandNormal(2, 0, 1, 5), tensor.Zeros(0, 2))
	bf16 := save("bf16", SaveOptions{DType: tensor.BFloat16}, tensor.RandNormal(3, 0, 1, 2, 2, 2), tensor.Scalar(1.5))
	f.Add(f32)
	f.Add(bf16)
	f.Add(f32[:len(f32)-3])
	f.Add(bf16[:20])
	f.Add(stBytes(`{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(stBytes(`{"z":{"dtype":"F32","shape":[0,4611686018427387904],"data_offsets":[0,0]}}`, nil))
	f.Add(stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)))
	f.Add(stBytes(`{"__metadata__":{"format":"nori","format_version":"1"}}`, nil))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add([]byte("garbage, not a checkpoint at all"))
	f.Add([]byte{})

	// Each fuzzing worker process calls the function sequentially, so one
	// file per process, rewritten every time, is enough and cheaper than a
	// directory per input.
	path := filepath.Join(dir, "fuzz.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadTensors(path)
		_, merr := ReadMetadata(path)
		// Both validate the same header, so they agree on every input.
		if (err == nil) != (merr == nil) {
			t.Fatalf("LoadTensors error %v but ReadMetadata error %v", err, merr)
		}
		if err != nil {
			return
		}
		names := c.Names()
		if !sort.StringsAreSorted(names) {
			t.Fatalf("Names() not sorted: %q", names)
		}
		var total int64
		dst := make([]*tensor.Tensor, len(names))
		for i, n := range names {
			ten, ok := c.Tensor(n)
			if !ok || ten == nil {
				t.Fatalf("listed tensor %q missing", n)
			}
			total += int64(ten.Numel()) * int64(ten.DType().Size())
			dst[i] = tensor.New(tensor.CPU, ten.DType(), ten.Shape()...)
		}
		// The tensors tile the data buffer exactly, so they cannot hold more
		// bytes than the file.
		if total > int64(len(data)) {
			t.Fatalf("loaded %d data bytes from a %d-byte file", total, len(data))
		}
		if err := c.Into(names, dst); err != nil {
			t.Fatalf("Into with the checkpoint's own names and shapes: %v", err)
		}
	})
}
