package nn

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate for an optimizer step: a pure function of
// the number of steps already taken (0 for the first update), so a resumed
// run continues exactly where it stopped.
type Schedule func(step int) float64

// ConstantLR returns lr at every step.
func ConstantLR(lr float64) Schedule {
	return func(int) float64 { return lr }
}

// LinearWarmup ramps linearly to peak over the first steps updates and then
// stays at peak: step s < steps gets peak*(s+1)/steps, so the first update
// already moves (a zero learning rate would waste it) and update number
// steps-1 is the first at peak. steps <= 0 means no warmup.
func LinearWarmup(peak float64, steps int) Schedule {
	return func(s int) float64 {
		if s < steps {
			return peak * float64(s+1) / float64(steps)
		}
		return peak
	}
}

// CosineDecay goes from peak at step 0 to floor at step steps along half a
// cosine, lr = floor + (peak-floor)*(1+cos(pi*s/steps))/2, and stays at floor
// afterwards.
func CosineDecay(peak, floor float64, steps int) Schedule {
	return func(s int) float64 { return cosineAt(peak, floor, s, steps) }
}

func cosineAt(peak, floor float64, s, steps int) float64 {
	if s >= steps { // also the whole of an empty decay
		return floor
	}
	if s <= 0 {
		return peak
	}
	return floor + (peak-floor)*0.5*(1+math.Cos(math.Pi*float64(s)/float64(steps)))
}

// WarmupConstantCosine is the reference model's schedule: linear warmup to
// peak over warmup steps (as LinearWarmup), constant peak until decayStart,
// then cosine decay to floor, reached at total and kept after it.
// Example (reference, tier 1): peak 2e-4, floor 1e-5, warmup 4000.
func WarmupConstantCosine(peak, floor float64, warmup, decayStart, total int) Schedule {
	if warmup < 0 || decayStart < warmup || total < decayStart {
		panic(fmt.Sprintf("nn.WarmupConstantCosine: need 0 <= warmup <= decayStart <= total, have %d, %d, %d", warmup, decayStart, total))
	}
	warm := LinearWarmup(peak, warmup)
	return func(s int) float64 {
		switch {
		case s < warmup:
			return warm(s)
		case s < decayStart:
			return peak
		default:
			return cosineAt(peak, floor, s-decayStart, total-decayStart)
		}
	}
}
