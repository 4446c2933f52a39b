package nn

// Writing safetensors files atomically: every file is written in full to a
// temporary in its final directory, fsynced and closed, and only then renamed
// over its final name, so a crash or an error never leaves a half-written
// file under a name a loader would open.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/nori-ml/nori/tensor"
)

// saveItem is one tensor to be written.
type saveItem struct {
	name      string
	t         *tensor.Tensor
	fileDType tensor.DType // tensor.Float32 or tensor.BFloat16: how it is stored in the file
	nbytes    int64
}

// pendingFile is a fully written and synced temporary awaiting its rename.
type pendingFile struct{ tmp, final string }

// writeTempFile writes the bytes produced by write to a new temporary file next
// to final (named ".<base>.tmp-*", so it is hidden and never matches a
// checkpoint name), syncs and closes it. On error the temporary is removed.
func writeTempFile(final string, write func(io.Writer) error) (pf pendingFile, err error) {
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, "."+filepath.Base(final)+".tmp-*")
	if err != nil {
		return pf, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return pf, err
	}
	if err = bw.Flush(); err != nil {
		return pf, err
	}
	// CreateTemp makes the file 0600; a checkpoint is an ordinary data file.
	if err = f.Chmod(0o644); err != nil {
		return pf, err
	}
	if err = f.Sync(); err != nil {
		return pf, err
	}
	if err = f.Close(); err != nil {
		return pf, err
	}
	return pendingFile{tmp: f.Name(), final: final}, nil
}

// removeTempFiles deletes the temporaries of files not yet renamed.
func removeTempFiles(pfs []pendingFile) {
	for _, p := range pfs {
		os.Remove(p.tmp)
	}
}

// commitPending renames the temporaries over their final names in order, then syncs
// the directory so the renames are durable. If a rename fails, the files
// already renamed by this call are removed again (they would be orphans
// without the rest, e.g. shards without their index) and the remaining
// temporaries deleted.
func commitPending(pfs []pendingFile) error {
	for i, p := range pfs {
		if err := os.Rename(p.tmp, p.final); err != nil {
			for _, done := range pfs[:i] {
				os.Remove(done.final)
			}
			removeTempFiles(pfs[i:])
			return err
		}
	}
	if len(pfs) > 0 {
		stSyncDir(filepath.Dir(pfs[0].final))
	}
	return nil
}

// stSyncDir fsyncs a directory so that renames in it survive a crash. It is
// best effort: some filesystems refuse to sync a directory, and the files
// themselves are already synced.
func stSyncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// writeSafetensors writes the whole file: header, then each tensor's data in
// the order of items.
func writeSafetensors(w io.Writer, items []saveItem, meta map[string]string) error {
	hdr, err := encodeSTHeader(items, meta)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	var scratch []byte
	for _, it := range items {
		if err := writeSTData(w, it, &scratch); err != nil {
			return fmt.Errorf("tensor %q: %w", it.name, err)
		}
	}
	return nil
}

// stChunkElems is how many elements are encoded per Write.
const stChunkElems = 1 << 14

// writeSTData writes one tensor's elements in row-major order,
// little-endian, in the item's file dtype. Views are gathered by
// Float32s / a contiguous copy first; float64 is rounded to float32 (to
// nearest), and float to bf16 with tensor.F32ToBF16 (round to nearest even).
func writeSTData(w io.Writer, it saveItem, scratch *[]byte) error {
	switch {
	case it.t.DType() == tensor.BFloat16:
		bits := bf16Bits(it.t)
		return writeSTChunks(w, len(bits), 2, scratch, func(b []byte, i int) {
			binary.LittleEndian.PutUint16(b, bits[i])
		})
	case it.fileDType == tensor.BFloat16:
		vals := it.t.Float32s()
		return writeSTChunks(w, len(vals), 2, scratch, func(b []byte, i int) {
			binary.LittleEndian.PutUint16(b, tensor.F32ToBF16(vals[i]))
		})
	default:
		vals := it.t.Float32s()
		return writeSTChunks(w, len(vals), 4, scratch, func(b []byte, i int) {
			binary.LittleEndian.PutUint32(b, math.Float32bits(vals[i]))
		})
	}
}

// writeSTChunks encodes n elements of size bytes each with put and writes them
// in chunks of stChunkElems.
func writeSTChunks(w io.Writer, n, size int, scratch *[]byte, put func(b []byte, i int)) error {
	if cap(*scratch) < stChunkElems*size {
		*scratch = make([]byte, stChunkElems*size)
	}
	for lo := 0; lo < n; lo += stChunkElems {
		hi := min(n, lo+stChunkElems)
		b := (*scratch)[:(hi-lo)*size]
		for i := lo; i < hi; i++ {
			put(b[(i-lo)*size:], i)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// bf16Bits returns the raw bfloat16 bits of a bf16 tensor in row-major order.
func bf16Bits(t *tensor.Tensor) []uint16 {
	if !t.IsContiguous() {
		t = t.Clone()
	}
	return t.Device().Download(t.Storage(), t.Offset(), t.Numel()).([]uint16)
}
