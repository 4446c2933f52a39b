package nn

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
)

// Embedding maps integer ids to rows of a learned table [vocab, dim].
type Embedding struct {
	Weight *autograd.Var // [vocab, dim]
	Vocab  int
	Dim    int
}

// NewEmbedding returns an embedding table initialised N(0, 1) (PyTorch's
// default).
func NewEmbedding(b *Builder, vocab, dim int) *Embedding {
	return NewEmbeddingInit(b, vocab, dim, Normal(0, 1))
}

// NewEmbeddingInit returns an embedding table filled by init.
func NewEmbeddingInit(b *Builder, vocab, dim int, init Initializer) *Embedding {
	if vocab <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn.NewEmbedding: vocab %d and dim %d must be positive", vocab, dim))
	}
	return &Embedding{Weight: b.Param(init, vocab, dim), Vocab: vocab, Dim: dim}
}

// VisitParams implements Module: "weight".
func (e *Embedding) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	fn(Join(prefix, "weight"), e.Weight)
}

// Forward returns the rows of the table for ids, shape [len(ids), dim]. The
// ids may come from user data (categorical codes), so an id outside
// [0, vocab) is reported as an error rather than a panic.
func (e *Embedding) Forward(tp *autograd.Tape, ids []int) (*autograd.Var, error) {
	for i, id := range ids {
		if id < 0 || id >= e.Vocab {
			return nil, fmt.Errorf("nn.Embedding: id %d at position %d out of range [0,%d)", id, i, e.Vocab)
		}
	}
	return tp.IndexSelect(e.Weight, 0, ids), nil
}
