package nori

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// TestEstimateMemoryMatchesAStep: on a curriculum whose every batch has the
// stage's largest shape (one bucket, a fixed context fraction), the
// estimate must be within 15% of the peak a real training step reaches
// (both counted by the host allocator), and the estimate must leave the
// trainer exactly as it was: the next steps equal those of a trainer that
// made no estimate.
func TestEstimateMemoryMatchesAStep(t *testing.T) {
	c := trainTestConfig()
	c.BatchSize = 3
	c.Curriculum = []CurriculumStage{
		{Until: 2, MinRows: 40, MaxRows: 40, RowBuckets: 1, MinFeatures: 5, MaxFeatures: 5, FeatureBuckets: 1, MinContextFrac: 0.75, MaxContextFrac: 0.75},
		{BatchSize: 2, MinRows: 96, MaxRows: 96, RowBuckets: 1, MinFeatures: 7, MaxFeatures: 7, FeatureBuckets: 1, MinContextFrac: 0.75, MaxContextFrac: 0.75},
	}
	probed, plain := newTestTrainer(t, c), newTestTrainer(t, c)
	est, err := probed.EstimateMemory()
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 2 {
		t.Fatalf("%d stage estimates, want 2", len(est))
	}
	for i, want := range []StageMemory{
		{Stage: 0, Batch: 3, Rows: 40, Features: 5, NCtx: 30},
		{Stage: 1, Batch: 2, Rows: 96, Features: 7, NCtx: 72},
	} {
		e := est[i]
		t.Logf("%v", e)
		if e.Stage != want.Stage || e.Batch != want.Batch || e.Rows != want.Rows || e.Features != want.Features || e.NCtx != want.NCtx {
			t.Errorf("estimate %d is of %+v, want stage %d, batch %d, %d rows (%d context) x %d features", i, e, want.Stage, want.Batch, want.Rows, want.NCtx, want.Features)
		}
		if e.PerTable <= 0 || e.Fixed != 20*int64(probed.model.NumParams()) || e.Peak != e.Fixed+int64(e.Batch)*e.PerTable {
			t.Errorf("estimate %d: per table %d, fixed %d, peak %d do not add up", i, e.PerTable, e.Fixed, e.Peak)
		}
	}
	if est[1].PerTable <= est[0].PerTable {
		t.Errorf("a 96 x 7 table needs %d bytes, no more than a 40 x 5 table's %d", est[1].PerTable, est[0].PerTable)
	}

	// A real step of each stage, counted the same way.
	was := tensor.SetHostMemAccounting(true)
	defer tensor.SetHostMemAccounting(was)
	for step := 0; step < 3; step++ {
		b, err := probed.Batch(step)
		if err != nil {
			t.Fatal(err)
		}
		tensor.ResetHostPeakMem()
		base := tensor.HostMem().InUse
		if _, err := probed.StepOn(b); err != nil {
			t.Fatal(err)
		}
		stepPeak := tensor.HostMem().PeakInUse - base
		b.Release()
		e := est[0]
		if step >= c.Curriculum[0].Until {
			e = est[1]
		}
		// The step also holds its batch (allocated before base) and the
		// optimizer's temporaries; the estimate counts the gradients of a
		// whole table per table. Within 15% either way.
		activations := e.Peak - e.Fixed
		t.Logf("step %d: %d tables of %d x %d: peak %d bytes, estimate %d", step, b.X.Shape()[0], b.Shape.Rows, b.Shape.Features, stepPeak, activations)
		if r := float64(activations) / float64(stepPeak); r < 0.85 || r > 1.15 {
			t.Errorf("step %d: estimate %d bytes is %.2fx the measured peak %d", step, activations, r, stepPeak)
		}
		if _, err := plain.Step(); err != nil {
			t.Fatal(err)
		}
	}
	assertSameBits(t, "after the estimate", stateBits(probed), stateBits(plain))
	if probed.Steps() != plain.Steps() || probed.TablesSeen() != plain.TablesSeen() {
		t.Errorf("counters differ: steps %d vs %d, tables %d vs %d", probed.Steps(), plain.Steps(), probed.TablesSeen(), plain.TablesSeen())
	}
}

// TestEstimateMemorySkipsPastStages: a run resumed past a stage's end is not
// held back by that stage's tables.
func TestEstimateMemorySkipsPastStages(t *testing.T) {
	c := trainTestConfig()
	c.Curriculum[0].Until = 2
	tr := newTestTrainer(t, c)
	stepUntil(t, tr, 2)
	est, err := tr.EstimateMemory()
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 1 || est[0].Stage != 1 {
		t.Fatalf("estimates %v after the first stage ended, want the second stage's alone", est)
	}
}

func TestFormatBytes(t *testing.T) {
	for _, c := range []struct {
		b    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.00 KiB"}, {5 << 20, "5.00 MiB"},
		{25 << 20, "25.0 MiB"}, {300 << 20, "300 MiB"}, {3 << 30, "3.00 GiB"}, {(21 << 30) + (1 << 29), "21.5 GiB"},
	} {
		if got := FormatBytes(c.b); got != c.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", c.b, got, c.want)
		}
	}
}
