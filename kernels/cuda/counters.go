package cuda

import "sync/atomic"

// counters counts a Runtime's calls into the driver that cost host time or
// order the stream, so that a training step's overhead can be read off its
// log (per step: launches, copies, synchronisations). Safe for concurrent
// use; no build tag, so that its logic is tested without a GPU.
type counters struct {
	launches, uploads, downloads, syncs atomic.Int64
}

// Counts is a snapshot of a Runtime's counters since Open.
type Counts struct {
	Launches  int64 // kernel launches
	Uploads   int64 // host-to-device copies (one per Upload call)
	Downloads int64 // device-to-host copies (each waits for the stream)
	Syncs     int64 // explicit stream synchronisations (Sync)
}

func (c *counters) snapshot() Counts {
	return Counts{Launches: c.launches.Load(), Uploads: c.uploads.Load(), Downloads: c.downloads.Load(), Syncs: c.syncs.Load()}
}

// Sub returns the counts of the interval from o to c.
func (c Counts) Sub(o Counts) Counts {
	return Counts{Launches: c.Launches - o.Launches, Uploads: c.Uploads - o.Uploads,
		Downloads: c.Downloads - o.Downloads, Syncs: c.Syncs - o.Syncs}
}
