package bench

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// unpoisoned turns off, for one benchmark, the NaN poisoning of
// uninitialised op outputs that test binaries do (tensor.SetPoisonUninit):
// benchmarks measure what users get, where those outputs are not touched
// before their kernel writes them.
func unpoisoned(b *testing.B) {
	was := tensor.SetPoisonUninit(false)
	b.Cleanup(func() { tensor.SetPoisonUninit(was) })
}
