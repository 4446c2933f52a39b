package nn

// Sharded checkpoints, the Hugging Face convention: shard files
// "<base>-00001-of-0000N.safetensors" and an index "<base>.safetensors.index.json"
// holding {"metadata": {...}, "weight_map": {tensor name: shard file name}}.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nori-ml/nori/tensor"
)

// maxIndexBytes bounds the index file read into memory (see stMaxHeaderBytes).
const maxIndexBytes = 100 << 20

// ckptIndexPath returns the index file name of a .safetensors path.
func ckptIndexPath(path string) string { return path + ".index.json" }

// ckptShardName returns the base name of shard i (0-based) of n for path.
func ckptShardName(path string, i, n int) string {
	base := strings.TrimSuffix(filepath.Base(path), stFileExt)
	return fmt.Sprintf("%s-%05d-of-%05d%s", base, i+1, n, stFileExt)
}

// isIndexPath reports whether LoadTensors(path) reads an index: path ends in
// ".json", or path is absent and its index exists.
func isIndexPath(path string) bool {
	if strings.HasSuffix(path, ".json") {
		return true
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	_, err := os.Stat(ckptIndexPath(path))
	return err == nil
}

// indexFileFor returns the index file of a path for which isIndexPath is true.
func indexFileFor(path string) string {
	if strings.HasSuffix(path, ".json") {
		return path
	}
	return ckptIndexPath(path)
}

// planShards packs items greedily, in order, into shards of at most maxBytes
// data bytes (a larger tensor gets a shard of its own); maxBytes 0 means one
// shard.
func planShards(items []saveItem, maxBytes int64) [][]saveItem {
	if maxBytes == 0 {
		return [][]saveItem{items}
	}
	var shards [][]saveItem
	var cur []saveItem
	var curBytes int64
	for _, it := range items {
		if len(cur) > 0 && curBytes+it.nbytes > maxBytes {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, it)
		curBytes += it.nbytes
	}
	if len(cur) > 0 || len(shards) == 0 {
		shards = append(shards, cur)
	}
	return shards
}

// indexFile is the JSON layout of an index as nori writes it.
type indexFile struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// saveSharded writes every shard and the index to temporaries, then renames
// the shards and the index last, and finally removes a stale single file at
// path from an earlier unsharded save.
func saveSharded(path string, shards [][]saveItem, meta map[string]string) error {
	dir := filepath.Dir(path)
	idx := indexFile{Metadata: map[string]any{}, WeightMap: map[string]string{}}
	for k, v := range meta {
		idx.Metadata[k] = v
	}
	var total int64
	var pfs []pendingFile
	for i, sh := range shards {
		name := ckptShardName(path, i, len(shards))
		pf, err := writeTempFile(filepath.Join(dir, name), func(w io.Writer) error { return writeSafetensors(w, sh, meta) })
		if err != nil {
			removeTempFiles(pfs)
			return err
		}
		pfs = append(pfs, pf)
		for _, it := range sh {
			idx.WeightMap[it.name] = name
			total += it.nbytes
		}
	}
	// total_size is a number in the Hugging Face convention; loaders ignore it.
	idx.Metadata["total_size"] = total
	js, err := json.MarshalIndent(idx, "", "  ")
	if err == nil {
		var pf pendingFile
		pf, err = writeTempFile(ckptIndexPath(path), func(w io.Writer) error {
			_, err := w.Write(append(js, '\n'))
			return err
		})
		pfs = append(pfs, pf)
	}
	if err != nil {
		removeTempFiles(pfs)
		return err
	}
	if err := commitPending(pfs); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing stale single-file checkpoint: %w", err)
	}
	return nil
}

// ckptIndex is a validated index.
type ckptIndex struct {
	dir       string              // directory of the index; shard names are relative to it
	weightMap map[string]string   // tensor name -> shard file name
	byFile    map[string][]string // shard file name -> its tensor names, sorted
}

// readCkptIndex reads and validates an index file: one JSON object with a
// non-empty "weight_map" of tensor names to plain file names (no directory
// parts, so an index cannot point outside its directory) and, if present, a
// "metadata" object. Its metadata is not used: the shards carry their own.
func readCkptIndex(path string) (*ckptIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIndexBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIndexBytes {
		return nil, fmt.Errorf("corrupt index: larger than the %d-byte limit", maxIndexBytes)
	}
	fields, err := splitJSONObject(b)
	if err != nil {
		return nil, fmt.Errorf("corrupt index: not a JSON object: %w", err)
	}
	idx := &ckptIndex{dir: filepath.Dir(path), byFile: map[string][]string{}}
	for _, fl := range fields {
		switch fl.key {
		case "weight_map":
			if err := json.Unmarshal(fl.val, &idx.weightMap); err != nil {
				return nil, fmt.Errorf("corrupt index: weight_map is not an object of file names: %v", err)
			}
		case "metadata":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(fl.val, &m); err != nil {
				return nil, fmt.Errorf("corrupt index: metadata is not an object: %v", err)
			}
		}
	}
	if len(idx.weightMap) == 0 {
		return nil, errors.New("corrupt index: no weight_map entries")
	}
	for name, file := range idx.weightMap {
		if name == "" || name == stMetadataKey {
			return nil, fmt.Errorf("corrupt index: bad tensor name %q in weight_map", name)
		}
		if file == "" || file == "." || file == ".." || filepath.Base(file) != file || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("corrupt index: tensor %q maps to %q, not a file name in the index's directory", name, file)
		}
		idx.byFile[file] = append(idx.byFile[file], name)
	}
	for _, names := range idx.byFile {
		sort.Strings(names)
	}
	return idx, nil
}

// files returns the shard file names in sorted order.
func (idx *ckptIndex) files() []string {
	files := make([]string, 0, len(idx.byFile))
	for f := range idx.byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	return files
}

// checkShard verifies that shard file holds exactly the tensors the weight
// map assigns to it.
func (idx *ckptIndex) checkShard(file string, names []string) error {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
		switch m, ok := idx.weightMap[n]; {
		case !ok:
			return fmt.Errorf("corrupt index: the shard holds tensor %q, which the weight_map does not list", n)
		case m != file:
			return fmt.Errorf("corrupt index: the shard holds tensor %q, which the weight_map puts in %s", n, m)
		}
	}
	for _, n := range idx.byFile[file] {
		if !have[n] {
			return fmt.Errorf("corrupt index: the weight_map puts tensor %q in this shard, which does not hold it", n)
		}
	}
	return nil
}

// readShardHeader reads and validates one shard's header against the index
// and returns its entries and metadata.
func readShardHeader(idx *ckptIndex, file string) ([]stEntry, map[string]string, error) {
	f, entries, meta, _, err := readSTFileHeader(filepath.Join(idx.dir, file))
	if err != nil {
		return nil, nil, fmt.Errorf("shard %s: %w", file, err)
	}
	f.Close()
	if err := idx.checkShard(file, stEntryNames(entries)); err != nil {
		return nil, nil, fmt.Errorf("shard %s: %w", file, err)
	}
	return entries, meta, nil
}

// loadIndexed loads every shard listed in an index.
func loadIndexed(path string) (*Checkpoint, error) {
	idx, err := readCkptIndex(indexFileFor(path))
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Meta: map[string]string{}, tensors: make(map[string]*tensor.Tensor, len(idx.weightMap))}
	for _, file := range idx.files() {
		// The header is checked against the index before any data is read.
		meta, err := loadSTFile(filepath.Join(idx.dir, file), c.tensors, func(names []string) error {
			return idx.checkShard(file, names)
		})
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", file, err)
		}
		if err := mergeShardMeta(c.Meta, meta, file); err != nil {
			return nil, err
		}
	}
	if err := checkFormatVersion(c.Meta); err != nil {
		return nil, err
	}
	return c, nil
}

// mergeShardMeta adds a shard's metadata to dst; a key two shards give different
// values is an error.
func mergeShardMeta(dst, src map[string]string, file string) error {
	for k, v := range src {
		if old, ok := dst[k]; ok && old != v {
			return fmt.Errorf("corrupt checkpoint: shard %s has metadata %q = %q, an earlier shard has %q", file, k, v, old)
		}
		dst[k] = v
	}
	return nil
}
