package nn

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
			t.Fatalf("%s: %.17g, want %.17g", name, got, want)
		}
	}
	c := ConstantLR(3e-4)
	for _, s := range []int{0, 1, 1000000} {
		near("constant", c(s), 3e-4)
	}

	w := LinearWarmup(1e-3, 4)
	for s, want := range []float64{2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3} {
		near("warmup", w(s), want)
	}
	near("no warmup", LinearWarmup(1e-3, 0)(0), 1e-3)

	cd := CosineDecay(1, 0.1, 100)
	near("cosine start", cd(0), 1)
	near("cosine quarter", cd(25), 0.1+0.9*0.5*(1+math.Sqrt2/2))
	near("cosine middle", cd(50), 0.55)
	near("cosine end", cd(100), 0.1)
	near("cosine after", cd(500), 0.1)

	// The reference's tier-1 schedule: peak 2e-4, floor 1e-5, warmup 4000,
	// constant until 150000, cosine to 250000.
	r := WarmupConstantCosine(2e-4, 1e-5, 4000, 150000, 250000)
	near("ref step 0", r(0), 2e-4/4000)
	near("ref mid warmup", r(1999), 1e-4)
	near("ref end warmup", r(3999), 2e-4)
	near("ref constant", r(4000), 2e-4)
	near("ref before decay", r(149999), 2e-4)
	near("ref decay start", r(150000), 2e-4)
	near("ref decay middle", r(200000), 1e-5+(2e-4-1e-5)*0.5)
	near("ref end", r(250000), 1e-5)
	near("ref after end", r(300000), 1e-5)
	// Monotone: non-decreasing in warmup, non-increasing after.
	prev, prevS := 0.0, -1
	for s := 0; s <= 260000; s += 997 {
		v := r(s)
		if (s < 4000 && v < prev) || (prevS >= 4000 && v > prev) {
			t.Fatalf("not monotone at step %d: %g after %g", s, v, prev)
		}
		prev, prevS = v, s
	}
	// Degenerate phases: no warmup, no constant phase, no decay.
	near("no phases", WarmupConstantCosine(1, 0.5, 0, 0, 0)(0), 0.5)
	near("decay only", WarmupConstantCosine(1, 0, 0, 0, 2)(1), 0.5)
	defer func() {
		if recover() == nil {
			t.Fatal("decayStart < warmup did not panic")
		}
	}()
	WarmupConstantCosine(1, 0, 10, 5, 20)
}
