package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// ckptTensors returns named random tensors of awkward shapes, including a
// scalar and an empty one, with distinct seeds.
func ckptTensors() ([]string, []*tensor.Tensor) {
	shapes := [][]int{{1}, {7}, {63, 5}, {2, 3, 4}, {}, {0, 3}, {1000}}
	names := []string{"a", "blocks.0.w", "blocks.0.b", "emb.weight", "scale", "empty", "long"}
	ts := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		ts[i] = tensor.RandNormal(uint64(100+i), 0.5, 2, s...)
	}
	return names, ts
}

// bitsEqual reports whether two float32 slices hold identical bit patterns.
func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// rawBF16 returns the bf16 bits of a bf16 tensor in row-major order.
func rawBF16(t *tensor.Tensor) []uint16 {
	c := t.To(tensor.CPU, tensor.BFloat16)
	return c.Device().Download(c.Storage(), 0, c.Numel()).([]uint16)
}

// gather reads a tensor's elements in row-major order through At, a path
// independent of Float32s and the Copy kernel.
func gather(t *tensor.Tensor) []float32 {
	out := make([]float32, 0, t.Numel())
	idx := make([]int, t.Rank())
	for n := 0; n < t.Numel(); n++ {
		out = append(out, float32(t.At(idx...)))
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.Dim(d) {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// dirNames lists a directory's entries, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func mustSave(t *testing.T, path string, names []string, ts []*tensor.Tensor, meta map[string]string, opt SaveOptions) {
	t.Helper()
	if err := SaveTensors(path, names, ts, meta, opt); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, path string) *Checkpoint {
	t.Helper()
	c, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sortedCopy returns the names sorted.
func sortedCopy(names []string) []string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return s
}

func TestCheckpointRoundTripF32(t *testing.T) {
	names, ts := ckptTensors()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	mustSave(t, path, names, ts, nil, SaveOptions{})
	c := mustLoad(t, path)
	if got, want := c.Names(), sortedCopy(names); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for i, n := range names {
		got, ok := c.Tensor(n)
		if !ok {
			t.Fatalf("tensor %q missing", n)
		}
		if got.DType() != tensor.Float32 || !got.Shape().Equal(ts[i].Shape()) {
			t.Fatalf("%q: loaded %v %v, want float32 %v", n, got.DType(), got.Shape(), ts[i].Shape())
		}
		if !bitsEqual(got.Float32s(), ts[i].Float32s()) {
			t.Errorf("%q: values differ after f32 round trip", n)
		}
	}
	if _, ok := c.Tensor("nope"); ok {
		t.Error(`Tensor("nope") reported present`)
	}
	if c.Meta["format"] != "nori" || c.Meta["format_version"] != FormatVersion {
		t.Errorf("Meta = %v, want format nori version %s", c.Meta, FormatVersion)
	}
}

// specialF32 holds values whose bf16 rounding is easy to get wrong: ties
// (1 + 2^-8 lies halfway between two bf16 values and rounds to the even one,
// 1 + 3·2^-8 rounds up), values just above and below a tie, signed zeros,
// infinities, the largest float32 (rounds past the largest bf16 to +Inf),
// subnormals and NaN.
func specialF32() []float32 {
	return []float32{
		1 + 1.0/256, 1 + 3.0/256, math.Nextafter32(1+1.0/256, 2), math.Nextafter32(1+1.0/256, 0),
		0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-40, float32(math.NaN()), -3.1415927,
	}
}

func TestCheckpointRoundTripBF16(t *testing.T) {
	names, ts := ckptTensors()
	names = append(names, "special")
	ts = append(ts, tensor.FromSlice(specialF32(), 2, 7))
	path := filepath.Join(t.TempDir(), "model.safetensors")
	mustSave(t, path, names, ts, nil, SaveOptions{DType: tensor.BFloat16})
	c := mustLoad(t, path)
	for i, n := range names {
		got, _ := c.Tensor(n)
		if got.DType() != tensor.BFloat16 || !got.Shape().Equal(ts[i].Shape()) {
			t.Fatalf("%q: loaded %v %v, want bfloat16 %v", n, got.DType(), got.Shape(), ts[i].Shape())
		}
		orig := ts[i].Float32s()
		bits := rawBF16(got)
		for j, v := range orig {
			want := tensor.RoundBF16(v)
			gv := tensor.BF16ToF32(bits[j])
			if math.IsNaN(float64(v)) {
				if !math.IsNaN(float64(gv)) {
					t.Errorf("%q[%d]: NaN became %v", n, j, gv)
				}
				continue
			}
			if math.Float32bits(gv) != math.Float32bits(want) {
				t.Errorf("%q[%d]: %v saved as bf16 %v, want RoundBF16 = %v", n, j, v, gv, want)
			}
		}
	}
	// The special values checked against hand-computed bf16 results, so the
	// test does not rest on RoundBF16 alone.
	sp, _ := c.Tensor("special")
	got := rawBF16(sp)
	want := []uint16{0x3f80, 0x3f82, 0x3f81, 0x3f80, 0x0000, 0x8000, 0x7f80, 0xff80, 0x7f80, 0xff80}
	if !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("special bf16 bits = %#04x, want %#04x", got[:len(want)], want)
	}
}

func TestCheckpointBF16TensorsStayBF16(t *testing.T) {
	src := tensor.RandNormal(7, 0, 1, 5, 6).To(tensor.CPU, tensor.BFloat16)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	// Default options (F32): a bf16 tensor is still stored as BF16, bits unchanged.
	mustSave(t, path, []string{"w"}, []*tensor.Tensor{src}, nil, SaveOptions{})
	got, _ := mustLoad(t, path).Tensor("w")
	if got.DType() != tensor.BFloat16 {
		t.Fatalf("dtype %v, want bfloat16", got.DType())
	}
	if !reflect.DeepEqual(rawBF16(got), rawBF16(src)) {
		t.Error("bf16 bits changed in the round trip")
	}
}

func TestCheckpointFloat64Input(t *testing.T) {
	rng := tensor.NewRNG(3, 0)
	vals := make([]float64, 63)
	for i := range vals {
		vals[i] = rng.NormFloat64() * math.Pow(10, float64(i%9-4)) // spread of magnitudes, full float64 precision
	}
	src := tensor.FromFloat64s(vals, 7, 9)
	dir := t.TempDir()
	for _, dt := range []tensor.DType{tensor.Float32, tensor.BFloat16} {
		path := filepath.Join(dir, dt.String()+".safetensors")
		mustSave(t, path, []string{"x"}, []*tensor.Tensor{src}, nil, SaveOptions{DType: dt})
		got, _ := mustLoad(t, path).Tensor("x")
		if got.DType() != dt || !got.Shape().Equal(tensor.Shape{7, 9}) {
			t.Fatalf("%v: loaded %v %v", dt, got.DType(), got.Shape())
		}
		g := got.Float32s()
		for i, v := range vals {
			want := float32(v) // Go converts float64 -> float32 to nearest even
			if dt == tensor.BFloat16 {
				want = tensor.RoundBF16(want)
			}
			if math.Float32bits(g[i]) != math.Float32bits(want) {
				t.Fatalf("%v: element %d = %v, want %v (from %v)", dt, i, g[i], want, v)
			}
		}
	}
}

func TestCheckpointSavesViews(t *testing.T) {
	base := tensor.RandNormal(11, 0, 1, 6, 7)
	cube := tensor.RandNormal(12, 0, 1, 3, 4, 5)
	views := []*tensor.Tensor{
		base.Transpose(0, 1),               // [7 6], strides [1 7]
		base.Slice(1, 2, 5),                // [6 3], row gaps
		cube.Permute(2, 0, 1),              // [5 3 4]
		cube.Slice(0, 1, 3).Slice(2, 1, 4), // offset and gaps
		base.To(tensor.CPU, tensor.BFloat16).Transpose(0, 1),
	}
	names := []string{"t", "s", "p", "ss", "bt"}
	for _, v := range views[:4] {
		if v.IsContiguous() {
			t.Fatal("test view is contiguous; it would not test anything")
		}
	}
	path := filepath.Join(t.TempDir(), "v.safetensors")
	mustSave(t, path, names, views, nil, SaveOptions{})
	c := mustLoad(t, path)
	for i, n := range names {
		got, _ := c.Tensor(n)
		if !got.Shape().Equal(views[i].Shape()) {
			t.Fatalf("%q: shape %v, want %v", n, got.Shape(), views[i].Shape())
		}
		if !bitsEqual(gather(got), gather(views[i])) {
			t.Errorf("%q: view saved with wrong element order", n)
		}
	}
	// Saving must not have touched the sources.
	if !bitsEqual(base.Float32s(), tensor.RandNormal(11, 0, 1, 6, 7).Float32s()) {
		t.Error("saving a view modified its base tensor")
	}
}

func TestCheckpointSharding(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	// Nine tensors of 100 floats (400 bytes) and one of 1000 floats: with a
	// 1000-byte limit the greedy packing gives [0 1] [2 3] [4 5] [6 7] [8]
	// [big] -> 6 shards (the big tensor alone, over the limit).
	var names []string
	var ts []*tensor.Tensor
	for i := 0; i < 9; i++ {
		names = append(names, "layer."+string(rune('a'+i)))
		ts = append(ts, tensor.RandUniform(uint64(i), -1, 1, 10, 10))
	}
	names = append(names, "big")
	ts = append(ts, tensor.RandUniform(99, -1, 1, 1000))
	meta := map[string]string{"step": "12", "config": `{"dim": 8}`}
	mustSave(t, path, names, ts, meta, SaveOptions{MaxShardBytes: 1000})

	var wantFiles []string
	for i := 1; i <= 6; i++ {
		wantFiles = append(wantFiles, "model-0000"+string(rune('0'+i))+"-of-00006.safetensors")
	}
	wantFiles = append(wantFiles, "model.safetensors.index.json")
	if got := dirNames(t, dir); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("files %v, want %v", got, wantFiles)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "model.safetensors.index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("index is not JSON: %v", err)
	}
	if idx.WeightMap["layer.a"] != wantFiles[0] || idx.WeightMap["layer.d"] != wantFiles[1] ||
		idx.WeightMap["layer.i"] != wantFiles[4] || idx.WeightMap["big"] != wantFiles[5] || len(idx.WeightMap) != 10 {
		t.Errorf("weight_map %v", idx.WeightMap)
	}
	if idx.Metadata["total_size"] != float64(9*400+4000) || idx.Metadata["step"] != "12" {
		t.Errorf("index metadata %v", idx.Metadata)
	}
	// Every shard is a self-contained safetensors file with the metadata.
	if m, err := ReadMetadata(filepath.Join(dir, wantFiles[2])); err != nil || m["step"] != "12" {
		t.Errorf("shard metadata %v, %v", m, err)
	}
	for _, p := range []string{path, filepath.Join(dir, "model.safetensors.index.json")} {
		c := mustLoad(t, p)
		if !reflect.DeepEqual(c.Names(), sortedCopy(names)) {
			t.Fatalf("%s: names %v", p, c.Names())
		}
		for i, n := range names {
			got, _ := c.Tensor(n)
			if !bitsEqual(got.Float32s(), ts[i].Float32s()) || !got.Shape().Equal(ts[i].Shape()) {
				t.Errorf("%s: %q differs after sharded round trip", p, n)
			}
		}
		if c.Meta["step"] != "12" || c.Meta["config"] != `{"dim": 8}` || c.Meta["format"] != "nori" {
			t.Errorf("%s: meta %v", p, c.Meta)
		}
		m, err := ReadMetadata(p)
		if err != nil || !reflect.DeepEqual(m, c.Meta) {
			t.Errorf("%s: ReadMetadata = %v, %v; want %v", p, m, err, c.Meta)
		}
	}
}

func TestCheckpointShardingFitsOneFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	names, ts := ckptTensors()
	mustSave(t, path, names, ts, nil, SaveOptions{MaxShardBytes: 1 << 20})
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"m.safetensors"}) {
		t.Errorf("a checkpoint under the shard limit wrote %v, want one file", got)
	}
}

func TestCheckpointSaveReplacesOtherForm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	names, ts := ckptTensors()
	mustSave(t, path, names, ts, nil, SaveOptions{})
	mustSave(t, path, names, ts, map[string]string{"step": "2"}, SaveOptions{MaxShardBytes: 2000})
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale single file survived a sharded save: %v", err)
	}
	if m, err := ReadMetadata(path); err != nil || m["step"] != "2" {
		t.Errorf("path does not resolve to the sharded save: %v %v", m, err)
	}
	mustSave(t, path, names, ts, map[string]string{"step": "3"}, SaveOptions{})
	if _, err := os.Stat(path + ".index.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale index survived a single-file save: %v", err)
	}
	if m, err := ReadMetadata(path); err != nil || m["step"] != "3" {
		t.Errorf("path does not resolve to the single-file save: %v %v", m, err)
	}
}

func TestCheckpointMetadataRoundTrip(t *testing.T) {
	meta := map[string]string{
		"config":         `{"layers": 12, "name": "nori-small", "tags": ["a", "<b>&"]}`,
		"step":           "12345",
		"empty":          "",
		"unicode ключ":   "значение ✓ \u0000 \n \"quoted\"",
		"format":         "nori", // repeating a reserved key with its own value is allowed
		"format_version": FormatVersion,
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	mustSave(t, path, []string{"x"}, []*tensor.Tensor{tensor.Full(2, 3)}, meta, SaveOptions{})
	c := mustLoad(t, path)
	if !reflect.DeepEqual(c.Meta, meta) {
		t.Errorf("Meta = %q, want %q", c.Meta, meta)
	}
	m, err := ReadMetadata(path)
	if err != nil || !reflect.DeepEqual(m, meta) {
		t.Errorf("ReadMetadata = %q, %v; want %q", m, err, meta)
	}
}

// stBytes builds a safetensors file by hand: length prefix, header, data.
func stBytes(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSafetensorsByteLayout(t *testing.T) {
	a := tensor.FromSlice([]float32{1.5, -2}, 2)
	b := tensor.FromBF16([]uint16{0x3f80, 0xc000}, 1, 2)
	path := filepath.Join(t.TempDir(), "l.safetensors")
	mustSave(t, path, []string{"a", "b"}, []*tensor.Tensor{a, b}, map[string]string{"k": "v"}, SaveOptions{})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := `{"__metadata__":{"format":"nori","format_version":"1","k":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]}}`
	for (8+len(hdr))%8 != 0 {
		hdr += " "
	}
	data := []byte{
		0x00, 0x00, 0xc0, 0x3f, // 1.5 = 0x3fc00000, little-endian
		0x00, 0x00, 0x00, 0xc0, // -2 = 0xc0000000
		0x80, 0x3f, // bf16 1 = 0x3f80
		0x00, 0xc0, // bf16 -2 = 0xc000
	}
	if want := stBytes(hdr, data); !bytes.Equal(got, want) {
		t.Errorf("file bytes\n got %q\nwant %q", got, want)
	}

	// The other direction: a hand-built file as another writer might make it
	// (no padding, no metadata, keys out of data order, F64, a scalar) loads.
	hdr2 := `{"z":{"data_offsets":[8,12],"shape":[],"dtype":"F32"},"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`
	var data2 []byte
	data2 = binary.LittleEndian.AppendUint64(data2, math.Float64bits(0.1))
	data2 = binary.LittleEndian.AppendUint32(data2, math.Float32bits(-7.25))
	p2 := filepath.Join(t.TempDir(), "foreign.safetensors")
	writeFile(t, p2, stBytes(hdr2, data2))
	c := mustLoad(t, p2)
	if len(c.Meta) != 0 || !reflect.DeepEqual(c.Names(), []string{"d", "z"}) {
		t.Fatalf("foreign file: meta %v names %v", c.Meta, c.Names())
	}
	d, _ := c.Tensor("d")
	z, _ := c.Tensor("z")
	if d.DType() != tensor.Float64 || d.Float64s()[0] != 0.1 || z.Rank() != 0 || z.Item() != -7.25 {
		t.Errorf("foreign file values: d %v z %v", d, z)
	}
}

// loadErr runs LoadTensors and ReadMetadata on path, expects both to fail,
// and checks that the LoadTensors error mentions every want substring.
func loadErr(t *testing.T, path string, want ...string) error {
	t.Helper()
	c, err := LoadTensors(path)
	if err == nil {
		t.Fatalf("LoadTensors(%s) succeeded with %v, want error containing %q", filepath.Base(path), c.Names(), want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("LoadTensors error %q does not mention %q", err, w)
		}
	}
	if m, err2 := ReadMetadata(path); err2 == nil {
		t.Errorf("ReadMetadata(%s) = %v, want an error like LoadTensors' %q", filepath.Base(path), m, err)
	}
	return err
}

// loadErrorCase is a corrupt checkpoint file and what the loader's error
// must mention.
type loadErrorCase struct {
	name string
	file []byte
	want []string
}

// loadErrorCases are the corrupt single-file checkpoints every loader
// (LoadTensors, LoadTensorsFrom) must reject with a precise error.
func loadErrorCases() []loadErrorCase {
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	return []loadErrorCase{
		{"short", []byte{1, 2, 3}, []string{"3 bytes", "8-byte"}},
		{"truncated header", append(binary.LittleEndian.AppendUint64(nil, 1000), `{"a":`...), []string{"truncated", "header says 1000 bytes", "file has 5"}},
		{"absurd header", binary.LittleEndian.AppendUint64(nil, 1<<40), []string{"1099511627776", "limit"}},
		{"not json", stBytes(`{"a": nope}`, nil), []string{"header is not valid JSON"}},
		{"empty header", stBytes(``, nil), []string{"header is not valid JSON"}},
		{"array header", stBytes(`[1,2]`, nil), []string{"not valid JSON", "want an object"}},
		{"trailing data", stBytes(`{} {}`, nil), []string{"data after the JSON object"}},
		{"duplicate key", stBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2)), []string{`duplicate key "a"`}},
		{"bad dtype", stBytes(`{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{`"w"`, `bad dtype "F33"`}},
		{"foreign dtype", stBytes(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, f32(1)), []string{`"w"`, "F16 is not supported"}},
		{"no dtype", stBytes(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{`"w"`, "no dtype"}},
		{"no shape", stBytes(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, f32(1)), []string{`"w"`, "no shape"}},
		{"no offsets", stBytes(`{"w":{"dtype":"F32","shape":[1]}}`, f32(1)), []string{`"w"`, "no data_offsets"}},
		{"entry not object", stBytes(`{"w":7}`, nil), []string{`"w"`, "not a valid object"}},
		{"shape offset mismatch", stBytes(`{"blocks.0.w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, f32(5)), []string{`"blocks.0.w"`, "[2 3]", "6×4 bytes", "hold 20"}},
		{"negative dim", stBytes(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32(1)), []string{`"w"`, "negative dimension"}},
		{"fractional dim", stBytes(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32(1)), []string{`"w"`}},
		{"overflowing shape", stBytes(`{"w":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}`, nil), []string{`"w"`, "too many elements"}},
		{"offsets reversed", stBytes(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, f32(1)), []string{`"w"`, "bad data_offsets [4, 0]"}},
		{"offsets length", stBytes(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(1)), []string{`"w"`, "3 values"}},
		{"overlap", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(3)), []string{`"a"`, `"b"`, "overlap", "byte 4"}},
		{"hole", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, f32(5)), []string{"[8, 12)", "belong to no tensor", `"b"`}},
		{"truncated data", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1)), []string{"truncated", "need 8 data bytes", "file has 4"}},
		{"out of range", stBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}}`, f32(2)), []string{"need 104 data bytes", "file has 8"}},
		{"trailing bytes", stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(3)), []string{"12 bytes", "cover only 8"}},
		{"metadata not strings", stBytes(`{"__metadata__":{"step":12}}`, nil), []string{"__metadata__", "not an object of strings"}},
		{"format version", stBytes(`{"__metadata__":{"format":"nori","format_version":"2"}}`, nil), []string{`format_version "2" unsupported`}},
		{"format version garbage", stBytes(`{"__metadata__":{"format":"nori","format_version":"x"}}`, nil), []string{`format_version "x" unsupported`}},
		{"format version missing", stBytes(`{"__metadata__":{"format":"nori"}}`, nil), []string{"no format_version"}},
		{"empty name", stBytes(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{"empty name"}},
	}
}

func TestLoadErrors(t *testing.T) {
	cases := loadErrorCases()
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("case%02d.safetensors", i))
			writeFile(t, path, tc.file)
			err := loadErr(t, path, append(tc.want, path)...)
			t.Log(err)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "absent.safetensors")
		if err := loadErr(t, path, path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		path := filepath.Join(dir, "sub.safetensors")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		loadErr(t, path, "not a regular file")
	})
	t.Run("truncated real file", func(t *testing.T) {
		names, ts := ckptTensors()
		path := filepath.Join(dir, "full.safetensors")
		mustSave(t, path, names, ts, nil, SaveOptions{})
		b, _ := os.ReadFile(path)
		writeFile(t, path, b[:len(b)-1])
		loadErr(t, path, "truncated", "file has")
	})
}

// poisoned returns a float32 tensor of the shape filled with NaN.
func poisoned(shape ...int) *tensor.Tensor { return tensor.Full(float32(math.NaN()), shape...) }

func allNaN(t *tensor.Tensor) bool {
	for _, v := range t.Float32s() {
		if !math.IsNaN(float64(v)) {
			return false
		}
	}
	return true
}

func TestCheckpointInto(t *testing.T) {
	w := tensor.RandNormal(1, 0, 1, 3, 4)
	b := tensor.RandNormal(2, 0, 1, 4)
	h := tensor.RandNormal(3, 0, 1, 2, 5).To(tensor.CPU, tensor.BFloat16)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	mustSave(t, path, []string{"blocks.0.w", "blocks.0.b", "h"}, []*tensor.Tensor{w, b, h}, nil, SaveOptions{})
	c := mustLoad(t, path)

	// Success: f32 into a transposed view, f32 into float64, bf16 into float32.
	wT := poisoned(4, 3)
	b64 := tensor.New(tensor.CPU, tensor.Float64, 4)
	h32 := poisoned(2, 5)
	if err := c.Into([]string{"h", "blocks.0.w", "blocks.0.b"}, []*tensor.Tensor{h32, wT.Transpose(0, 1), b64}); err != nil {
		t.Fatal(err)
	}
	if !bitsEqual(gather(wT.Transpose(0, 1)), w.Float32s()) {
		t.Error("Into a transposed view wrote the wrong elements")
	}
	for i, v := range b.Float32s() {
		if b64.Float64s()[i] != float64(v) {
			t.Fatalf("Into float64: element %d = %v, want %v", i, b64.Float64s()[i], v)
		}
	}
	if !bitsEqual(h32.Float32s(), h.Float32s()) {
		t.Error("Into float32 from bf16 is not exact")
	}
	// f32 into a bf16 destination rounds to nearest even.
	wh := tensor.New(tensor.CPU, tensor.BFloat16, 3, 4)
	c2, _ := LoadTensors(path)
	if err := c2.Into([]string{"blocks.0.w", "blocks.0.b", "h"}, []*tensor.Tensor{wh, poisoned(4), poisoned(2, 5)}); err != nil {
		t.Fatal(err)
	}
	for i, v := range w.Float32s() {
		if got := tensor.BF16ToF32(rawBF16(wh)[i]); got != tensor.RoundBF16(v) {
			t.Fatalf("Into bf16: element %d = %v, want %v", i, got, tensor.RoundBF16(v))
		}
	}

	errCases := []struct {
		name  string
		names []string
		dst   []*tensor.Tensor
		want  []string
	}{
		{"missing", []string{"blocks.0.w", "blocks.0.b", "h", "blocks.1.w"}, []*tensor.Tensor{poisoned(3, 4), poisoned(4), poisoned(2, 5), poisoned(1)},
			[]string{`missing tensor "blocks.1.w"`}},
		{"extra", []string{"blocks.0.w"}, []*tensor.Tensor{poisoned(3, 4)},
			[]string{`2 unexpected tensors in the file: "blocks.0.b", "h"`}},
		{"shape", []string{"blocks.0.w", "blocks.0.b", "h"}, []*tensor.Tensor{poisoned(4, 3), poisoned(4), poisoned(2, 5)},
			[]string{`tensor "blocks.0.w": shape [3 4] in the file vs [4 3] in the model`}},
		{"all at once", []string{"blocks.0.w", "x", "y"}, []*tensor.Tensor{poisoned(12), poisoned(1), poisoned(1)},
			[]string{`2 missing tensors: "x", "y"`, `"blocks.0.b", "h"`, "shape [3 4] in the file vs [12]"}},
		{"twice", []string{"h", "h", "blocks.0.w", "blocks.0.b"}, []*tensor.Tensor{poisoned(2, 5), poisoned(2, 5), poisoned(3, 4), poisoned(4)},
			[]string{`name "h" given twice`}},
		{"nil", []string{"blocks.0.w", "blocks.0.b", "h"}, []*tensor.Tensor{poisoned(3, 4), nil, poisoned(2, 5)},
			[]string{`destination for "blocks.0.b" is nil`}},
		{"lengths", []string{"blocks.0.w"}, nil, []string{"1 names for 0 tensors"}},
	}
	for _, tc := range errCases {
		err := c.Into(tc.names, tc.dst)
		if err == nil {
			t.Errorf("%s: Into succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
		for _, d := range tc.dst {
			if d != nil && !allNaN(d) {
				t.Errorf("%s: failed Into wrote a destination", tc.name)
			}
		}
	}
}

func TestCheckpointIntoListsAtMostTen(t *testing.T) {
	var names []string
	var ts []*tensor.Tensor
	for i := 0; i < 25; i++ {
		names = append(names, "p"+string(rune('A'+i)))
		ts = append(ts, tensor.Full(1, 1))
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	mustSave(t, path, names, ts, nil, SaveOptions{})
	err := mustLoad(t, path).Into(nil, nil)
	if err == nil || !strings.Contains(err.Error(), "25 unexpected tensors") || !strings.Contains(err.Error(), "and 15 more") {
		t.Errorf("error %v, want a count of 25 and the first 10 listed", err)
	}
}

// shardedFixture saves three tensors in three shards and returns the
// directory, index path and shard names.
func shardedFixture(t *testing.T) (dir, index string, shards []string) {
	dir = t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	names := []string{"a", "b", "c"}
	ts := []*tensor.Tensor{tensor.Full(1, 4), tensor.Full(2, 4), tensor.Full(3, 4)}
	mustSave(t, path, names, ts, nil, SaveOptions{MaxShardBytes: 16})
	for i := 1; i <= 3; i++ {
		shards = append(shards, "model-0000"+string(rune('0'+i))+"-of-00003.safetensors")
	}
	return dir, path + ".index.json", shards
}

func TestCheckpointIndexErrors(t *testing.T) {
	cases := []struct {
		name  string
		index string // "" keeps the written index
		edit  func(t *testing.T, dir string, shards []string)
		want  []string
	}{
		{name: "not json", index: `{"weight_map": `, want: []string{"corrupt index", "not a JSON object"}},
		{name: "no weight_map", index: `{"metadata": {}}`, want: []string{"corrupt index", "no weight_map"}},
		{name: "weight_map not strings", index: `{"weight_map": {"a": 1}}`, want: []string{"corrupt index", "weight_map is not an object"}},
		{name: "metadata not object", index: `{"metadata": 3, "weight_map": {"a": "x.safetensors"}}`, want: []string{"corrupt index", "metadata is not an object"}},
		{name: "path escape", index: `{"weight_map": {"a": "../model-00001-of-00003.safetensors"}}`, want: []string{"corrupt index", `"a"`, "not a file name"}},
		{name: "missing shard", index: `{"weight_map": {"a": "model-00001-of-00003.safetensors", "b": "gone.safetensors"}}`,
			want: []string{"gone.safetensors"}},
		{name: "tensor not in shard", index: `{"weight_map": {"a": "model-00001-of-00003.safetensors", "z": "model-00001-of-00003.safetensors"}}`,
			want: []string{"corrupt index", `"z"`, "does not hold it"}},
		{name: "wrong shard", index: `{"weight_map": {"a": "model-00002-of-00003.safetensors", "b": "model-00002-of-00003.safetensors"}}`,
			want: []string{"corrupt index", `"a"`}},
		{name: "shard corrupt", edit: func(t *testing.T, dir string, shards []string) {
			writeFile(t, filepath.Join(dir, shards[1]), []byte("garbage!garbage!"))
		}, want: []string{shards3(1), "header length"}},
		{name: "shard metadata conflict", edit: func(t *testing.T, dir string, shards []string) {
			writeFile(t, filepath.Join(dir, shards[2]), stBytes(`{"__metadata__":{"step":"9"},"c":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 16)))
			writeFile(t, filepath.Join(dir, shards[1]), stBytes(`{"__metadata__":{"step":"8"},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 16)))
		}, want: []string{"corrupt checkpoint", `"step"`, shards3(2)}},
		{name: "shard version", index: `{"weight_map": {"a": "model-00001-of-00003.safetensors"}}`, edit: func(t *testing.T, dir string, shards []string) {
			writeFile(t, filepath.Join(dir, shards[0]), stBytes(`{"__metadata__":{"format":"nori","format_version":"7"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 16)))
		}, want: []string{`format_version "7" unsupported`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, index, shards := shardedFixture(t)
			if tc.index != "" {
				writeFile(t, index, []byte(tc.index))
			}
			if tc.edit != nil {
				tc.edit(t, dir, shards)
			}
			t.Log(loadErr(t, index, append(tc.want, index)...))
		})
	}
	t.Run("shard holds unlisted tensor", func(t *testing.T) {
		dir, index, shards := shardedFixture(t)
		writeFile(t, filepath.Join(dir, shards[0]), stBytes(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"q":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}`, make([]byte, 16)))
		loadErr(t, index, "corrupt index", shards[0], `"q"`, "does not list")
	})
	t.Run("missing shard wraps ErrNotExist", func(t *testing.T) {
		dir, index, shards := shardedFixture(t)
		os.Remove(filepath.Join(dir, shards[2]))
		if err := loadErr(t, index, shards[2]); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("missing index", func(t *testing.T) {
		dir := t.TempDir()
		if err := loadErr(t, filepath.Join(dir, "x.safetensors.index.json")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	})
}

func shards3(i int) string { return "model-0000" + string(rune('1'+i)) + "-of-00003.safetensors" }

func TestSaveErrorsLeaveNothing(t *testing.T) {
	x := tensor.Full(1, 2)
	cases := []struct {
		name  string
		path  string
		names []string
		ts    []*tensor.Tensor
		meta  map[string]string
		opt   SaveOptions
		want  string
	}{
		{"duplicate", "m.safetensors", []string{"a", "a"}, []*tensor.Tensor{x, x}, nil, SaveOptions{}, `duplicate tensor name "a"`},
		{"empty name", "m.safetensors", []string{"a", ""}, []*tensor.Tensor{x, x}, nil, SaveOptions{}, "tensor 1 has an empty name"},
		{"reserved name", "m.safetensors", []string{"__metadata__"}, []*tensor.Tensor{x}, nil, SaveOptions{}, "reserved"},
		{"bad utf8 name", "m.safetensors", []string{"a\xff"}, []*tensor.Tensor{x}, nil, SaveOptions{}, "UTF-8"},
		{"nil tensor", "m.safetensors", []string{"a"}, []*tensor.Tensor{nil}, nil, SaveOptions{}, `tensor "a" is nil`},
		{"lengths", "m.safetensors", []string{"a", "b"}, []*tensor.Tensor{x}, nil, SaveOptions{}, "2 names for 1 tensors"},
		{"extension", "m.bin", []string{"a"}, []*tensor.Tensor{x}, nil, SaveOptions{}, ".safetensors"},
		{"dtype", "m.safetensors", []string{"a"}, []*tensor.Tensor{x}, nil, SaveOptions{DType: tensor.Float64}, "float64 unsupported"},
		{"shard bytes", "m.safetensors", []string{"a"}, []*tensor.Tensor{x}, nil, SaveOptions{MaxShardBytes: -1}, "negative"},
		{"reserved meta", "m.safetensors", []string{"a"}, []*tensor.Tensor{x}, map[string]string{"format_version": "0"}, SaveOptions{}, `"format_version" is reserved`},
		{"bad utf8 meta", "m.safetensors", []string{"a"}, []*tensor.Tensor{x}, map[string]string{"k": "\xfe"}, SaveOptions{}, "UTF-8"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		err := SaveTensors(filepath.Join(dir, tc.path), tc.names, tc.ts, tc.meta, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("%s: failed save left %v", tc.name, got)
		}
	}
}

func TestSaveAtomicOnRenameFailure(t *testing.T) {
	names, ts := ckptTensors()
	// The final name is an existing non-empty directory, so the rename of the
	// fully written temporary fails: nothing may remain but that directory.
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := os.MkdirAll(filepath.Join(path, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := SaveTensors(path, names, ts, nil, SaveOptions{}); err == nil {
		t.Fatal("save over a directory succeeded")
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"m.safetensors"}) {
		t.Errorf("failed save left %v", got)
	}

	// Sharded: the third shard's name is blocked. The shards renamed before
	// it are removed again and no index is written.
	dir = t.TempDir()
	path = filepath.Join(dir, "m.safetensors")
	blocked := filepath.Join(dir, "m-00003-of-00003.safetensors")
	if err := os.MkdirAll(filepath.Join(blocked, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	three := []*tensor.Tensor{tensor.Full(1, 4), tensor.Full(2, 4), tensor.Full(3, 4)}
	if err := SaveTensors(path, []string{"a", "b", "c"}, three, nil, SaveOptions{MaxShardBytes: 16}); err == nil {
		t.Fatal("sharded save with a blocked shard name succeeded")
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"m-00003-of-00003.safetensors"}) {
		t.Errorf("failed sharded save left %v", got)
	}
}

func TestSaveFailureKeepsPreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	mustSave(t, path, []string{"w"}, []*tensor.Tensor{tensor.Full(5, 3)}, map[string]string{"step": "1"}, SaveOptions{})
	before, _ := os.ReadFile(path)
	if err := SaveTensors(path, []string{"w", "w"}, []*tensor.Tensor{tensor.Full(6, 3), tensor.Full(6, 3)}, nil, SaveOptions{}); err == nil {
		t.Fatal("duplicate names accepted")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) || !reflect.DeepEqual(dirNames(t, dir), []string{"m.safetensors"}) {
		t.Error("a failed save changed the previous checkpoint or left files")
	}
}

func TestSaveReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: directory permissions do not stop writes (the rename-failure test covers atomicity)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if err := SaveTensors(filepath.Join(dir, "m.safetensors"), []string{"a"}, []*tensor.Tensor{tensor.Full(1, 2)}, nil, SaveOptions{}); err == nil {
		t.Fatal("save into a read-only directory succeeded")
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("failed save left %v", got)
	}
}

// pyReader is an independent safetensors reader in the Python standard
// library (json + struct): it prints each tensor's dtype, shape and values.
const pyReader = `
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8+n].decode("utf-8"))
data = b[8+n:]
out = {"__metadata__": h.pop("__metadata__", {})}
for name, e in h.items():
    lo, hi = e["data_offsets"]
    raw = data[lo:hi]
    if e["dtype"] == "F32":
        vals = list(struct.unpack("<%df" % (len(raw)//4), raw))
    elif e["dtype"] == "BF16":
        bits = struct.unpack("<%dH" % (len(raw)//2), raw)
        vals = [struct.unpack("<f", struct.pack("<I", x << 16))[0] for x in bits]
    else:
        raise SystemExit("unexpected dtype " + e["dtype"])
    out[name] = {"dtype": e["dtype"], "shape": e["shape"], "values": vals}
json.dump(out, sys.stdout)
`

func TestSafetensorsPythonReader(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; the cross-check with an independent reader needs it")
	}
	w := tensor.RandNormal(5, 0, 1, 3, 4)
	h := tensor.RandNormal(6, 0, 1, 5)
	path := filepath.Join(t.TempDir(), "py.safetensors")
	mustSave(t, path, []string{"w", "h"}, []*tensor.Tensor{w.Transpose(0, 1), h}, map[string]string{"step": "3"}, SaveOptions{DType: tensor.BFloat16})
	out, err := exec.Command(py, "-c", pyReader, path).Output()
	if err != nil {
		t.Fatalf("python reader failed: %v", err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	json.Unmarshal(got["__metadata__"], &meta)
	if meta["step"] != "3" || meta["format"] != "nori" {
		t.Errorf("python sees metadata %v", meta)
	}
	for name, src := range map[string]*tensor.Tensor{"w": w.Transpose(0, 1), "h": h} {
		var e struct {
			DType  string
			Shape  []int
			Values []float64
		}
		if err := json.Unmarshal(got[name], &e); err != nil {
			t.Fatal(err)
		}
		if e.DType != "BF16" || !tensor.Shape(e.Shape).Equal(src.Shape()) {
			t.Fatalf("%q: python sees %s %v", name, e.DType, e.Shape)
		}
		for i, v := range gather(src) {
			if float32(e.Values[i]) != tensor.RoundBF16(v) {
				t.Fatalf("%q[%d]: python reads %v, want %v", name, i, e.Values[i], tensor.RoundBF16(v))
			}
		}
	}
}
