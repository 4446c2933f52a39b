package nori

import (
	"fmt"
	"io"

	"github.com/nori-ml/nori/nn"
)

// LoadModelFrom is LoadModel for a single-file checkpoint of size bytes read
// through r (bytes in memory, such as the embedded default checkpoint, or an
// open file). name identifies the source in errors. The checks and errors
// are LoadModel's: a corrupt file, a missing or invalid config, tensors that
// do not match the config.
func LoadModelFrom(r io.ReaderAt, size int64, name string) (*Model, error) {
	ck, err := nn.LoadTensorsFrom(r, size, name)
	if err != nil {
		return nil, fmt.Errorf("nori: LoadModelFrom: %w", err)
	}
	return modelFromCheckpoint(ck, "LoadModelFrom", name)
}
