package nn

// Checkpoints: named tensors plus string metadata in the safetensors format
// (safetensors.go), one file or shards with a Hugging Face style index
// (checkpoint_index.go).

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nori-ml/nori/tensor"
)

// FormatVersion is the version of nori's checkpoint layout, stored in the
// "format_version" metadata key next to "format": "nori". Loaders accept
// versions from 1 up to this one and reject newer ones.
const FormatVersion = "1"

// ckptFormatName is the "format" metadata value of checkpoints written by nori.
const ckptFormatName = "nori"

// stFileExt is the extension of a safetensors file.
const stFileExt = ".safetensors"

// SaveOptions controls SaveTensors.
type SaveOptions struct {
	// DType is the file dtype of float tensors: tensor.Float32 (the zero
	// value, default) or tensor.BFloat16 (rounded to nearest even). Float64
	// tensors are written as F32 or BF16 too; BFloat16 tensors are always
	// written as BF16, unchanged.
	DType tensor.DType
	// MaxShardBytes bounds the data bytes of one shard file (headers not
	// counted, the Hugging Face convention). 0 writes a single file. Tensors
	// are never split: one larger than the limit gets a shard of its own.
	MaxShardBytes int64
}

// SaveTensors writes the named tensors and metadata to path, which must end
// in ".safetensors".
//
// When everything fits in one shard (always when opt.MaxShardBytes is 0) it
// writes path itself. Otherwise it writes the shards next to it and an
// index: path "dir/model.safetensors" gives "dir/model-00001-of-00003.safetensors",
// ..., "dir/model-00003-of-00003.safetensors" and "dir/model.safetensors.index.json"
// ({"metadata": {..., "total_size": <data bytes>}, "weight_map": {name: shard}}).
// Tensors are packed into shards greedily in the order given. Every shard
// carries the full metadata. LoadTensors(path) finds the index when path
// itself is absent.
//
// The metadata written is meta plus "format": "nori" and "format_version":
// FormatVersion; meta may repeat those keys only with the same values.
// Names must be non-empty, valid UTF-8, unique and not "__metadata__".
// Tensors may be views on any device; they are copied, never modified.
//
// Saving is atomic per file: each file is written to a hidden temporary in
// the same directory, fsynced and renamed; shards are renamed only once all
// are written, and the index last. On error nothing new remains under a
// final name and no temporary is left behind. A successful save removes the
// other form's stale file (path's index after a single-file save, path after
// a sharded one), so path always resolves to the checkpoint just written;
// shard files of an older save with a different shard count are left alone.
func SaveTensors(path string, names []string, ts []*tensor.Tensor, meta map[string]string, opt SaveOptions) error {
	items, fullMeta, err := prepareSave(path, names, ts, meta, opt)
	if err != nil {
		return fmt.Errorf("nn: SaveTensors %s: %w", path, err)
	}
	shards := planShards(items, opt.MaxShardBytes)
	if len(shards) <= 1 {
		err = saveSingle(path, items, fullMeta)
	} else {
		err = saveSharded(path, shards, fullMeta)
	}
	if err != nil {
		return fmt.Errorf("nn: SaveTensors %s: %w", path, err)
	}
	return nil
}

// prepareSave validates the arguments and returns the items to write and the
// complete metadata.
func prepareSave(path string, names []string, ts []*tensor.Tensor, meta map[string]string, opt SaveOptions) ([]saveItem, map[string]string, error) {
	if !strings.HasSuffix(path, stFileExt) || len(path) == len(stFileExt) {
		return nil, nil, fmt.Errorf("path must name a %s file", stFileExt)
	}
	if opt.DType != tensor.Float32 && opt.DType != tensor.BFloat16 {
		return nil, nil, fmt.Errorf("SaveOptions.DType %v unsupported (want float32 or bfloat16)", opt.DType)
	}
	if opt.MaxShardBytes < 0 {
		return nil, nil, fmt.Errorf("negative SaveOptions.MaxShardBytes %d", opt.MaxShardBytes)
	}
	if len(names) != len(ts) {
		return nil, nil, fmt.Errorf("%d names for %d tensors", len(names), len(ts))
	}
	items := make([]saveItem, len(names))
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		switch {
		case name == "":
			return nil, nil, fmt.Errorf("tensor %d has an empty name", i)
		case name == stMetadataKey:
			return nil, nil, fmt.Errorf("tensor name %q is reserved", name)
		case !utf8.ValidString(name):
			return nil, nil, fmt.Errorf("tensor name %q is not valid UTF-8", name)
		case seen[name]:
			return nil, nil, fmt.Errorf("duplicate tensor name %q", name)
		case ts[i] == nil:
			return nil, nil, fmt.Errorf("tensor %q is nil", name)
		}
		seen[name] = true
		fdt := opt.DType
		if ts[i].DType() == tensor.BFloat16 {
			fdt = tensor.BFloat16
		}
		items[i] = saveItem{name: name, t: ts[i], fileDType: fdt, nbytes: int64(ts[i].Numel()) * int64(fdt.Size())}
	}
	full := map[string]string{"format": ckptFormatName, "format_version": FormatVersion}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
		}
		if old, ok := full[k]; ok && old != v {
			return nil, nil, fmt.Errorf("metadata %q is reserved (nori writes %q, caller gave %q)", k, old, v)
		}
		full[k] = v
	}
	return items, full, nil
}

// saveSingle writes one file at path and removes a stale index of an earlier
// sharded save at the same path.
func saveSingle(path string, items []saveItem, meta map[string]string) error {
	pf, err := writeTempFile(path, func(w io.Writer) error { return writeSafetensors(w, items, meta) })
	if err != nil {
		return err
	}
	if err := commitPending([]pendingFile{pf}); err != nil {
		return err
	}
	if err := os.Remove(ckptIndexPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing stale index: %w", err)
	}
	return nil
}

// Checkpoint is a loaded checkpoint: named CPU tensors and metadata.
type Checkpoint struct {
	// Meta is the file's "__metadata__" (for a sharded checkpoint, the union
	// of the shards' metadata, which must agree). Checkpoints written by
	// nori hold "format", "format_version" and whatever the caller added.
	Meta    map[string]string
	tensors map[string]*tensor.Tensor
}

// LoadTensors reads a checkpoint: path is a .safetensors file or a sharded
// checkpoint's index (a path ending in ".json"); a .safetensors path that
// does not exist but has an index next to it (path + ".index.json", as
// SaveTensors writes) loads the index. Every tensor is read into CPU memory
// in its file dtype: F32 as float32, F64 as float64, BF16 as bfloat16.
//
// The file is validated before anything is allocated beyond its header:
// header length against the file size and a 100 MiB limit, JSON syntax,
// dtypes, shapes against byte counts, offsets tiling the data buffer exactly;
// for an index also that the weight map and the shards agree. A checkpoint
// whose metadata says "format": "nori" must have a format_version this build
// reads. Errors name the file, the tensor and the numbers involved.
func LoadTensors(path string) (*Checkpoint, error) {
	c, err := loadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("nn: LoadTensors %s: %w", path, err)
	}
	return c, nil
}

func loadCheckpoint(path string) (*Checkpoint, error) {
	if isIndexPath(path) {
		return loadIndexed(path)
	}
	f, err := openSTFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return loadSingleST(f, fi.Size())
}

// loadSingleST loads a whole single-file checkpoint of the given size from r
// (LoadTensors on a file, LoadTensorsFrom on anything else).
func loadSingleST(r io.ReaderAt, size int64) (*Checkpoint, error) {
	c := &Checkpoint{tensors: map[string]*tensor.Tensor{}}
	meta, err := loadSTReader(r, size, c.tensors, nil)
	if err != nil {
		return nil, err
	}
	if err := checkFormatVersion(meta); err != nil {
		return nil, err
	}
	c.Meta = meta
	return c, nil
}

// openSTFile opens path for reading and checks that it is a regular file.
func openSTFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// loadSTFile reads every tensor of one safetensors file into dst and returns
// the file's metadata. check, if not nil, vets the header's tensor names
// before any data is read.
func loadSTFile(path string, dst map[string]*tensor.Tensor, check func(names []string) error) (map[string]string, error) {
	f, err := openSTFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return loadSTReader(f, fi.Size(), dst, check)
}

// loadSTReader is loadSTFile on a safetensors file of the given size held by r.
func loadSTReader(r io.ReaderAt, size int64, dst map[string]*tensor.Tensor, check func(names []string) error) (map[string]string, error) {
	entries, meta, dataStart, err := readSTReaderHeader(r, size)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(stEntryNames(entries)); err != nil {
			return nil, err
		}
	}
	var scratch []byte
	for _, e := range entries {
		t, err := readSTEntry(r, dataStart, e, &scratch)
		if err != nil {
			return nil, err
		}
		dst[e.name] = t
	}
	return meta, nil
}

// stEntryNames returns the names of header entries.
func stEntryNames(entries []stEntry) []string {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	return names
}

// ReadMetadata returns a checkpoint's metadata after reading and validating
// only the headers (of every shard, for an index), not the tensor data. path
// is resolved as in LoadTensors.
func ReadMetadata(path string) (map[string]string, error) {
	meta, err := readCheckpointMeta(path)
	if err != nil {
		return nil, fmt.Errorf("nn: ReadMetadata %s: %w", path, err)
	}
	return meta, nil
}

func readCheckpointMeta(path string) (map[string]string, error) {
	var meta map[string]string
	if isIndexPath(path) {
		idx, err := readCkptIndex(indexFileFor(path))
		if err != nil {
			return nil, err
		}
		meta = map[string]string{}
		for _, file := range idx.files() {
			_, m, err := readShardHeader(idx, file)
			if err != nil {
				return nil, err
			}
			if err := mergeShardMeta(meta, m, file); err != nil {
				return nil, err
			}
		}
	} else {
		f, _, m, _, err := readSTFileHeader(path)
		if err != nil {
			return nil, err
		}
		f.Close()
		meta = m
	}
	if err := checkFormatVersion(meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// checkFormatVersion rejects nori checkpoints of a format version this build does
// not read. Files from other writers (no "format": "nori") pass.
func checkFormatVersion(meta map[string]string) error {
	if meta["format"] != ckptFormatName {
		return nil
	}
	v, ok := meta["format_version"]
	if !ok {
		return errors.New(`metadata has "format": "nori" but no format_version`)
	}
	n, err := strconv.Atoi(v)
	newest, _ := strconv.Atoi(FormatVersion)
	if err != nil || n < 1 || n > newest {
		return fmt.Errorf("format_version %q unsupported (this build reads 1 to %s)", v, FormatVersion)
	}
	return nil
}

// Names returns the tensor names in sorted order.
func (c *Checkpoint) Names() []string {
	names := make([]string, 0, len(c.tensors))
	for n := range c.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the named tensor (a CPU tensor in the file's dtype, owned by
// the checkpoint: copy it before modifying it) and whether it exists.
func (c *Checkpoint) Tensor(name string) (*tensor.Tensor, bool) {
	t, ok := c.tensors[name]
	return t, ok
}

// ckptMaxListed bounds how many names an Into error lists per kind of problem.
const ckptMaxListed = 10

// Into copies the named tensors into dst (dst[i] receives names[i]),
// converting to each destination's dtype and device; destinations may be
// views. The names must match the checkpoint exactly: every name present, no
// tensor of the checkpoint left out, and equal shapes. All of this is checked
// first, so on error no destination has been written; the error lists every
// missing, unexpected and mismatched tensor (the first few of each).
func (c *Checkpoint) Into(names []string, dst []*tensor.Tensor) error {
	if len(names) != len(dst) {
		return fmt.Errorf("nn: Checkpoint.Into: %d names for %d tensors", len(names), len(dst))
	}
	var missing, mismatch, problems []string
	want := make(map[string]bool, len(names))
	for i, name := range names {
		if want[name] {
			problems = append(problems, fmt.Sprintf("name %q given twice", name))
			continue
		}
		want[name] = true
		if dst[i] == nil {
			problems = append(problems, fmt.Sprintf("destination for %q is nil", name))
			continue
		}
		src, ok := c.tensors[name]
		if !ok {
			missing = append(missing, strconv.Quote(name))
			continue
		}
		if !src.Shape().Equal(dst[i].Shape()) {
			mismatch = append(mismatch, fmt.Sprintf("tensor %q: shape %v in the file vs %v in the model", name, src.Shape(), dst[i].Shape()))
		}
	}
	var extra []string
	for _, name := range c.Names() {
		if !want[name] {
			extra = append(extra, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, ckptListed("missing tensor", "missing tensors", missing))
	}
	if len(extra) > 0 {
		problems = append(problems, ckptListed("unexpected tensor in the file", "unexpected tensors in the file", extra))
	}
	if len(mismatch) > 0 {
		problems = append(problems, ckptListed("", "", mismatch))
	}
	if len(problems) > 0 {
		return fmt.Errorf("nn: Checkpoint.Into: %s", strings.Join(problems, "; "))
	}
	for i, name := range names {
		src := c.tensors[name]
		if dst[i].Device() != src.Device() {
			src = src.To(dst[i].Device(), dst[i].DType())
		}
		dst[i].CopyFrom(src)
	}
	return nil
}

// ckptListed formats up to ckptMaxListed items with a count of the rest, prefixed by
// one (for a single item) or by the count and many.
func ckptListed(one, many string, items []string) string {
	shown := items
	if len(shown) > ckptMaxListed {
		shown = shown[:ckptMaxListed]
	}
	s := strings.Join(shown, ", ")
	if len(items) > ckptMaxListed {
		s += fmt.Sprintf(" and %d more", len(items)-ckptMaxListed)
	}
	switch {
	case one == "":
		return s
	case len(items) == 1:
		return one + " " + s
	default:
		return fmt.Sprintf("%d %s: %s", len(items), many, s)
	}
}
