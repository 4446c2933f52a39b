package nori

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// RunOptions controls Trainer.Run.
type RunOptions struct {
	// Dir receives the checkpoints and the log (created if needed).
	Dir string
	// Until is the step to stop at (the number of steps done at the end).
	Until int
	// Progress, when set, gets a progress bar.
	Progress io.Writer
	// OnStep, when set, sees every step's result.
	OnStep func(StepResult)
	// OnCheckpoint, when set, runs after every checkpoint (the tool draws the
	// loss curve there); an error stops the run.
	OnCheckpoint func(dir string, step int) error
	// NoPrefetch builds each batch between steps instead of while the
	// previous step runs (results are identical either way).
	NoPrefetch bool
}

// Run trains until opt.Until steps are done, checkpointing into opt.Dir
// every CheckpointEvery steps and at the end, and appending to the JSONL
// log. When ctx is cancelled it checkpoints the steps done and returns
// ctx's error, so an interrupted run can be resumed exactly. The next
// batch is drawn from the prior while the current step runs.
func (t *Trainer) Run(ctx context.Context, opt RunOptions) error {
	if opt.Dir == "" {
		return errors.New("nori: Trainer.Run: no output directory")
	}
	if opt.Until < t.step {
		return fmt.Errorf("nori: Trainer.Run: the run is already at step %d, past the requested %d", t.step, opt.Until)
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return fmt.Errorf("nori: Trainer.Run: %w", err)
	}
	log, err := openTrainLog(opt.Dir, t.step, t.cfg.LogEvery, t.tablesSeen)
	if err != nil {
		return err
	}
	defer log.close()
	log.watch(t.model.Device())
	bar := NewProgress(opt.Progress, t.step, opt.Until, t.tablesSeen)
	checkpoint := func() error {
		if err := log.flush(); err != nil {
			return err
		}
		if err := t.SaveCheckpoint(opt.Dir); err != nil {
			return err
		}
		if opt.OnCheckpoint != nil {
			return opt.OnCheckpoint(opt.Dir, t.step)
		}
		return nil
	}

	type built struct {
		b   *TrainBatch
		err error
	}
	var next chan built
	prefetch := func(step int) {
		if opt.NoPrefetch || step >= opt.Until {
			next = nil
			return
		}
		next = make(chan built, 1)
		go func(c chan built) {
			b, err := t.Batch(step)
			c <- built{b, err}
		}(next)
	}
	// drain waits for a batch in flight so that no goroutine outlives Run.
	drain := func() {
		if next != nil {
			if r := <-next; r.b != nil {
				r.b.Release()
			}
			next = nil
		}
	}
	defer drain()

	prefetch(t.step)
	lastSaved := -1
	// Elapsed time is wall-clock: waiting for a batch counts, a batch drawn
	// during the previous step does not count twice.
	t0, base := time.Now(), t.elapsed
	for t.step < opt.Until {
		if err := ctx.Err(); err != nil {
			drain()
			if t.step != lastSaved {
				if cerr := checkpoint(); cerr != nil {
					return errors.Join(err, cerr)
				}
			}
			return err
		}
		var b *TrainBatch
		if next != nil {
			r := <-next
			next = nil
			if r.err != nil {
				return r.err
			}
			b = r.b
		} else if b, err = t.Batch(t.step); err != nil {
			return err
		}
		prefetch(t.step + 1)
		res, err := t.StepOn(b)
		b.Release()
		if err != nil {
			return err
		}
		t.elapsed = base + time.Since(t0)
		if err := log.add(res, t); err != nil {
			return err
		}
		bar.Update(res, t.tablesSeen)
		if opt.OnStep != nil {
			opt.OnStep(res)
		}
		if t.step%t.cfg.CheckpointEvery == 0 || t.step == opt.Until {
			if err := checkpoint(); err != nil {
				return err
			}
			lastSaved = t.step
		}
	}
	return log.flush()
}
