package prior

import (
	"fmt"
	"sort"
	"sync"

	"github.com/nori-ml/nori/tensor"
)

// Generator draws the features and target of one table. It must use only r
// for randomness (so a table is a pure function of the generator's stream),
// fill every cell of X and Y with finite values, and record its parameters
// in t.Info.Params. Realism augmentations, missingness and the filter are
// applied afterwards by the pipeline, not by generators.
type Generator interface {
	// Name is the generator's key in Config.Shares and in manifests.
	Name() string
	Generate(r *tensor.RNG, rows, features int) *Table
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Generator{}
)

// Register makes a generator available to the mixture under g.Name(). It
// panics on a duplicate name; generators register from init functions.
func Register(g Generator) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[g.Name()]; dup {
		panic(fmt.Sprintf("prior: generator %q registered twice", g.Name()))
	}
	registry[g.Name()] = g
}

// Lookup returns the registered generator with the given name.
func Lookup(name string) (Generator, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	g, ok := registry[name]
	return g, ok
}

// Names returns the registered generator names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
