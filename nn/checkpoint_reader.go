package nn

// Loading a single-file checkpoint from anything that reads at offsets
// (bytes embedded in the binary, an archive member, a network blob), not
// only from a path.

import (
	"errors"
	"fmt"
	"io"
)

// LoadTensorsFrom reads a single-file safetensors checkpoint of size bytes
// from r, with the validation of LoadTensors (header length against size,
// JSON, dtypes, shapes against byte counts, offsets tiling the data buffer,
// the nori format_version) before anything beyond the header is allocated.
// name identifies the source in error messages (a file name, "embedded
// default checkpoint"). Sharded checkpoints need LoadTensors and a path.
// r is only read; bytes.NewReader(b) serves a checkpoint held in memory.
func LoadTensorsFrom(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	if err := checkReaderArgs(r, size); err != nil {
		return nil, fmt.Errorf("nn: LoadTensorsFrom %s: %w", name, err)
	}
	c, err := loadSingleST(r, size)
	if err != nil {
		return nil, fmt.Errorf("nn: LoadTensorsFrom %s: %w", name, err)
	}
	return c, nil
}

// ReadMetadataFrom is ReadMetadata for a single-file checkpoint held by r:
// it reads and validates only the header.
func ReadMetadataFrom(r io.ReaderAt, size int64, name string) (map[string]string, error) {
	if err := checkReaderArgs(r, size); err != nil {
		return nil, fmt.Errorf("nn: ReadMetadataFrom %s: %w", name, err)
	}
	_, meta, _, err := readSTReaderHeader(r, size)
	if err == nil {
		err = checkFormatVersion(meta)
	}
	if err != nil {
		return nil, fmt.Errorf("nn: ReadMetadataFrom %s: %w", name, err)
	}
	return meta, nil
}

func checkReaderArgs(r io.ReaderAt, size int64) error {
	if r == nil {
		return errors.New("nil reader")
	}
	if size < 0 {
		return fmt.Errorf("negative size %d", size)
	}
	return nil
}
