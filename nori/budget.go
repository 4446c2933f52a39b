package nori

import (
	"slices"

	"github.com/nori-ml/nori/tensor"
)

// The element budget bounds the model's working set. A member's context is
// rows x width elements (width = that member's feature count); attention
// memory and time grow with it, so a context above the budget is replaced by
// a seeded random subsample of floor(budget/width) training rows (never
// fewer than minContextRows), drawn per member so the ensemble as a whole
// still sees most of the data. Query rows are independent of each other and
// go through the model in chunks whose rows x width also stays within the
// budget (at most maxQueryChunk rows), with the context's keys and values
// computed once per call and reused across chunks by the model.

// DefaultBudget is the default element budget (rows x features of one
// member's context). At the nori-6m width every element becomes half of a
// 128-wide float32 token (two features per token), 256 bytes per activation
// tensor of the row attention, so the default keeps each such tensor near
// 0.5 GB.
const DefaultBudget = 2_000_000

const (
	// minContextRows is the smallest context kept whatever the budget:
	// fewer rows would make the prediction meaningless.
	minContextRows = 16
	// maxQueryChunk caps the default query chunk: larger chunks only add
	// memory once the context's keys and values are cached.
	maxQueryChunk = 2048
	// predictBlockRows is how many query rows the ensemble processes at a
	// time (every member, then the average), bounding the memory of the
	// members' outputs (rows x quantiles each).
	predictBlockRows = 8192
)

// contextRows returns how many of n training rows a member of the given
// width keeps under budget.
func contextRows(n, width, budget int) int {
	return min(n, max(budget/max(width, 1), minContextRows))
}

// subsampleContext returns keep sorted row indices drawn without
// replacement from [0, n) with rng, or nil when keep == n (all rows).
func subsampleContext(n, keep int, rng *tensor.RNG) []int {
	if keep >= n {
		return nil
	}
	idx := rng.Perm(n)[:keep]
	slices.Sort(idx)
	return idx
}

// queryChunkRows is the query chunk for a member: the user's choice when
// set, else as many rows as the budget allows for that width (1 to
// maxQueryChunk).
func queryChunkRows(user, width, budget int) int {
	if user > 0 {
		return user
	}
	return min(max(budget/max(width, 1), 1), maxQueryChunk)
}
