package cuda

import (
	"sync"
	"testing"
)

func TestCountersConcurrentAndSub(t *testing.T) {
	var c counters
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.launches.Add(1)
				if i%10 == 0 {
					c.uploads.Add(1)
				}
				if i%100 == 0 {
					c.downloads.Add(1)
					c.syncs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	a := c.snapshot()
	if want := (Counts{Launches: 4000, Uploads: 400, Downloads: 40, Syncs: 40}); a != want {
		t.Fatalf("counts %+v, want %+v", a, want)
	}
	c.launches.Add(7)
	c.syncs.Add(2)
	if d := c.snapshot().Sub(a); d != (Counts{Launches: 7, Syncs: 2}) {
		t.Fatalf("interval %+v, want 7 launches and 2 syncs", d)
	}
}
