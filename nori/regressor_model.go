package nori

import (
	"fmt"

	"github.com/nori-ml/nori/tensor"
)

// modelRunner adapts *Model to the pipeline's quantileModel: one table per
// call (B = 1), float32 host slices in and out.
type modelRunner struct{ m *Model }

func (r modelRunner) inferTable(x []float32, rows, features int, y []float32, nctx, queryChunk int) ([]float32, int, error) {
	xt := tensor.FromSlice(x, 1, rows, features)
	yt := tensor.FromSlice(y, 1, nctx)
	out, err := r.m.Infer(xt, yt, nctx, InferOptions{QueryChunk: queryChunk})
	if err != nil {
		return nil, 0, err
	}
	if out.Rank() != 3 || out.Dim(0) != 1 || out.Dim(1) != rows-nctx {
		return nil, 0, fmt.Errorf("nori: model returned shape %v for %d query rows", out.Shape(), rows-nctx)
	}
	q, nq := out.Float32s(), out.Dim(2)
	out.Release() // copied out: its buffer serves the next table
	return q, nq, nil
}

// runnerFor wraps the model to run on dev: m itself on its own device, else a
// copy on dev (m may be the shared embedded model).
func runnerFor(m *Model, dev tensor.Device) (quantileModel, error) {
	if dev == m.Device() {
		return modelRunner{m}, nil
	}
	c, err := m.CopyTo(dev)
	if err != nil {
		return nil, fmt.Errorf("%w: device %v: %v", ErrBadOption, dev, err)
	}
	return modelRunner{c}, nil
}
