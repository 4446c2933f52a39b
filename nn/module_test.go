package nn

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// block is a small transformer-style block used to check hierarchical names.
type block struct {
	Norm *RMSNorm
	Attn *MultiHeadAttention
	MLP  *SwiGLUMLP
}

func (b *block) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	b.Norm.VisitParams(Join(prefix, "norm"), fn)
	b.Attn.VisitParams(Join(prefix, "attn"), fn)
	b.MLP.VisitParams(Join(prefix, "mlp"), fn)
}

func testModel(seed uint64) Module {
	b := NewBuilder(seed)
	var blocks List
	for i := 0; i < 2; i++ {
		blocks = append(blocks, &block{NewRMSNorm(b, 8, true, 1e-5), NewMultiHeadAttention(b, 8, 2), NewSwiGLUMLP(b, 8, 16)})
	}
	return Named{
		{"embed", NewEmbedding(b, 5, 8)},
		{"blocks", blocks},
		{"final", NewLayerNorm(b, 8, true, 1e-5)},
		{"head", NewLinear(b, 8, 3, true)},
	}
}

func TestParamNamesStable(t *testing.T) {
	want := []string{"embed.weight"}
	for _, i := range []string{"0", "1"} {
		p := "blocks." + i + "."
		want = append(want, p+"norm.weight", p+"attn.qkv.weight", p+"attn.out.weight",
			p+"mlp.gate.weight", p+"mlp.up.weight", p+"mlp.down.weight")
	}
	want = append(want, "final.weight", "final.bias", "head.weight", "head.bias")
	m := testModel(1)
	for rep := 0; rep < 3; rep++ {
		var got []string
		for _, p := range Params(m) {
			got = append(got, p.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("names\n%v\nwant\n%v", got, want)
		}
	}
	// 5*8 + 2*(8 + 24*8 + 8*8 + 3*16*8) + 16 + 24 + 3
	if n, w := NumParams(m), 40+2*(8+192+64+384)+16+24+3; n != w {
		t.Fatalf("NumParams %d, want %d", n, w)
	}
	if Lookup(Params(m), "blocks.1.attn.qkv.weight") == nil || Lookup(Params(m), "nope") != nil {
		t.Fatal("Lookup")
	}
}

func TestModelsWithSameSeedAreIdentical(t *testing.T) {
	a, b, c := Params(testModel(42)), Params(testModel(42)), Params(testModel(43))
	for i := range a {
		assertBits(t, a[i].Name, a[i].Var.Value, b[i].Var.Value)
	}
	// A different seed changes every random parameter (norm gains are 1).
	differ := 0
	for i := range a {
		if !reflect.DeepEqual(a[i].Var.Value.Float64s(), c[i].Var.Value.Float64s()) {
			differ++
		}
	}
	if differ != len(a)-4 { // constant: 2 RMSNorm gains, LayerNorm weight and bias
		t.Fatalf("%d of %d parameters differ between seeds", differ, len(a))
	}
}

func TestParamsTiedAndDuplicate(t *testing.T) {
	w := autograd.Param(tensor.Zeros(2, 2))
	tied := Named{{"a", &Linear{Weight: w}}, {"b", &Linear{Weight: w}}}
	ps := Params(tied)
	if len(ps) != 1 || ps[0].Name != "a.weight" {
		t.Fatalf("tied weight listed as %v", ps)
	}
	dup := Named{{"a", &Linear{Weight: w}}, {"a", &Linear{Weight: autograd.Param(tensor.Zeros(2, 2))}}}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"a.weight"`) {
			t.Fatalf("duplicate name: panic %v", r)
		}
	}()
	Params(dup)
}
