package main

import (
	"fmt"
	"io"

	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

// memBudgetFrac is the share of the machine's physical memory that a
// training step's tensors may take on the CPU. The rest is the Go runtime's
// (the collector's headroom above the live bytes, the buffer pool's cached
// buffers, up to 4 GiB) and the system's. Calibrated on the 23.4 GiB dev
// machine with medium's last stage (1024 rows x 48 features, 2.90 GiB per
// table): 4 tables per step, estimated at 11.6 GiB of tensors, peaked at
// 20-21 GB resident over thousands of steps; 8 tables, 23.3 GiB, were killed
// by the kernel's OOM killer. 70% of 23.4 GiB is 16.5 GiB: the first
// passes, the second is refused.
const memBudgetFrac = 0.7

// checkTrainMemory estimates the peak tensor memory of every curriculum
// stage the run has still to go through, prints the estimates, and on the
// CPU refuses a run whose largest step would not fit in memBudgetFrac of the
// physical memory (the OOM killer would end it, possibly hours in, without
// a word). On a GPU it prints the estimates only: the device's total memory
// is not known here, and an allocation that fails there is an error, not a
// kill.
func checkTrainMemory(tr *nori.Trainer, dev tensor.Device, stderr io.Writer) error {
	est, err := tr.EstimateMemory()
	if err != nil {
		return err
	}
	var budget int64
	if dev == tensor.CPU {
		if total, err := physicalMemory(); err == nil {
			budget = int64(float64(total) * memBudgetFrac)
		} else {
			fmt.Fprintf(stderr, "warning: memory not checked (%v)\n", err)
		}
	}
	for _, e := range est {
		fmt.Fprintf(stderr, "memory: %v\n", e)
	}
	for _, e := range est {
		if budget > 0 && e.Peak > budget {
			return fmt.Errorf("out of memory budget: a step of curriculum stage %d (%d tables of %d rows x %d features) needs about %s of tensors (%s per table), over the budget of %s (%.0f%% of this machine's memory); lower that stage's batch_size, max_rows or max_features, or pass -mem-check=false to try anyway",
				e.Stage+1, e.Batch, e.Rows, e.Features, nori.FormatBytes(e.Peak), nori.FormatBytes(e.PerTable), nori.FormatBytes(budget), 100*memBudgetFrac)
		}
	}
	return nil
}
