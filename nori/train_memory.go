package nori

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/prior"
	"github.com/nori-ml/nori/tensor"
)

// StageMemory is the estimated peak memory of the largest step of one
// curriculum stage.
type StageMemory struct {
	Stage                int // index in TrainConfig.Curriculum
	Batch                int // tables per step in the stage
	Rows, Features, NCtx int // the largest table the stage can draw
	// PerTable is the peak of the tensor memory one table of that shape
	// holds during a step (forward, loss, backward), measured.
	PerTable int64
	// Fixed is what the run holds whatever the batch: the weights, their
	// gradients, the EMA copy and the optimizer's moments (5 values per
	// parameter at most), computed.
	Fixed int64
	// Peak = Fixed + Batch*PerTable: activations grow linearly with the
	// number of tables, which the model processes side by side.
	Peak int64
}

// String describes the estimate in one line.
func (s StageMemory) String() string {
	return fmt.Sprintf("stage %d: %d tables of %d rows (%d context) x %d features: %s per table, %s per step",
		s.Stage+1, s.Batch, s.Rows, s.NCtx, s.Features, FormatBytes(s.PerTable), FormatBytes(s.Peak))
}

// FormatBytes writes a byte count in GiB, MiB or KiB, whichever keeps the
// figure at 1 or above, with three significant digits.
func FormatBytes(b int64) string {
	v, unit := float64(b), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	switch {
	case unit == "B":
		return fmt.Sprintf("%d B", b)
	case v < 10:
		return fmt.Sprintf("%.2f %s", v, unit)
	case v < 100:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

// EstimateMemory measures, for every curriculum stage the run has still to
// go through (from Steps() on), the tensor memory of one step on the
// largest table the stage can draw (MaxRows x MaxFeatures, the context at
// MaxContextFrac, where the row attention's cost peaks) and scales it to the
// stage's batch. It runs one forward and backward pass of a single
// synthetic table per stage, on the trainer's device, and leaves the
// trainer as it was: no weight, optimizer state, counter or data stream
// changes. Memory is counted by the host allocator's accounting on the CPU
// (tensor.HostMem) and by the device allocator on a GPU; the Go runtime's
// own overhead (the collector's headroom, the buffer pool) comes on top on
// the CPU, which is why a caller compares Peak against a fraction of the
// machine's memory.
func (t *Trainer) EstimateMemory() ([]StageMemory, error) {
	fixed := 5 * 4 * int64(t.model.NumParams())
	var out []StageMemory
	for i, s := range t.cfg.Curriculum {
		last := i == len(t.cfg.Curriculum)-1
		if !last && s.Until <= t.step {
			continue // already behind the run
		}
		rows, feats := s.MaxRows, s.MaxFeatures
		nctx := prior.ContextRows(rows, s.MaxContextFrac)
		per, err := t.probeTableMemory(rows, feats, nctx)
		if err != nil {
			return nil, fmt.Errorf("nori: memory estimate of stage %d (%d rows x %d features): %w", i+1, rows, feats, err)
		}
		batch := t.cfg.stageBatch(s)
		out = append(out, StageMemory{
			Stage: i, Batch: batch, Rows: rows, Features: feats, NCtx: nctx,
			PerTable: per, Fixed: fixed, Peak: fixed + int64(batch)*per,
		})
	}
	return out, nil
}

// probeTableMemory returns the peak tensor bytes of a forward and backward
// pass of one random table of the given shape, the gradients it leaves
// zeroed again.
func (t *Trainer) probeTableMemory(rows, feats, nctx int) (int64, error) {
	if rows < 2 || feats < 1 || nctx < 1 || nctx >= rows {
		return 0, fmt.Errorf("no table of %d rows (%d context) x %d features", rows, nctx, feats)
	}
	// Any finite values do: memory depends on the shape alone. A fixed
	// stream keeps the probe deterministic.
	r := tensor.NewRNG(0x6d656d, 0)
	x := make([]float32, rows*feats)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]float32, rows)
	for i := range y {
		y[i] = float32(r.NormFloat64())
	}
	ctx, qry, _ := NormalizeTargets(y, 1, rows, nctx)
	dev := t.model.Device()
	gpu, onGPU := dev.(tensor.GPUDevice)
	if !onGPU && dev != tensor.CPU {
		return 0, fmt.Errorf("no memory counters on device %v", dev)
	}

	X := tensor.FromSlice(x, 1, rows, feats)
	yc := tensor.FromSlice(ctx, 1, nctx)
	yq := tensor.FromSlice(qry, 1, rows-nctx)
	if onGPU {
		host := yq
		yq = host.To(dev, tensor.Float32)
		host.Release()
	}
	defer func() {
		X.Release()
		yc.Release()
		yq.Release()
	}()

	var base int64
	if onGPU {
		if err := gpu.Sync(); err != nil {
			return 0, err
		}
		gpu.ResetPeakMem()
		base = gpu.MemStats().InUse
	} else {
		was := tensor.SetHostMemAccounting(true)
		defer tensor.SetHostMemAccounting(was)
		tensor.ResetHostPeakMem()
		base = tensor.HostMem().InUse
	}
	tp := autograd.NewTape()
	pred := t.model.Forward(tp, X, yc, nctx)
	loss := QuantileLoss(tp, pred, yq, t.taus, t.cfg.CrossingWeight).Total
	tp.Backward(loss)
	var peak int64
	if onGPU {
		if err := gpu.Sync(); err != nil {
			tp.Release()
			t.opt.ZeroGrad()
			return 0, err
		}
		peak = gpu.MemStats().PeakInUse
	} else {
		peak = tensor.HostMem().PeakInUse
	}
	tp.Release()
	t.opt.ZeroGrad()
	return peak - base, nil
}
