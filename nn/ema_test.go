package nn

import (
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

func TestEMA(t *testing.T) {
	for _, dt := range dtypes {
		ps := optimParams(dt, 8, []int{3, 4}, []int{4})
		e := NewEMA(ps, 0.9)
		// Host average.
		avg := make([][]float64, len(ps))
		for i, p := range ps {
			avg[i] = p.Var.Value.Float64s()
		}
		for step := 1; step <= 5; step++ {
			for i, p := range ps { // pretend an optimizer moved the weights
				p.Var.Value.CopyFrom(randn(dt, uint64(50+10*step+i), p.Var.Value.Shape()...))
				cur := p.Var.Value.Float64s()
				for j := range avg[i] {
					avg[i][j] = 0.9*avg[i][j] + 0.1*cur[j]
				}
			}
			e.Update()
		}
		if e.Updates() != 5 {
			t.Fatalf("Updates %d", e.Updates())
		}
		for i, s := range e.Shadow() {
			assertClose(t, "EMA "+dt.String()+" "+s.Name, s.Value.Float64s(), avg[i], 10*tolFor(dt))
		}
		// Swap puts the average in the parameters (same tensors) and back.
		live := make([]*tensor.Tensor, len(ps))
		ptrs := make([]*tensor.Tensor, len(ps))
		for i, p := range ps {
			live[i], ptrs[i] = p.Var.Value.Clone(), p.Var.Value
		}
		e.Swap()
		for i, p := range ps {
			if p.Var.Value != ptrs[i] {
				t.Fatal("Swap replaced a parameter tensor")
			}
			assertClose(t, "swapped in", p.Var.Value.Float64s(), avg[i], 10*tolFor(dt))
		}
		e.Swap()
		for i, p := range ps {
			assertBits(t, "swapped back", p.Var.Value, live[i])
		}
		// CopyTo another model with the same names.
		other := []NamedParam{
			{"pb", autograd.Param(tensor.New(tensor.CPU, dt, 4))},
			{"pa", autograd.Param(tensor.New(tensor.CPU, dt, 3, 4))},
		}
		e.CopyTo(other)
		assertClose(t, "CopyTo pa", other[1].Var.Value.Float64s(), avg[0], 10*tolFor(dt))
		assertClose(t, "CopyTo pb", other[0].Var.Value.Float64s(), avg[1], 10*tolFor(dt))
		// Shadow round trip.
		saved := []StateTensor{}
		for _, s := range e.Shadow() {
			saved = append(saved, StateTensor{s.Name, s.Value.Clone()})
		}
		e.Update()
		if err := e.LoadShadow(saved, 5); err != nil {
			t.Fatal(err)
		}
		for i, s := range e.Shadow() {
			assertBits(t, "LoadShadow", s.Value, saved[i].Value)
		}
		if err := e.LoadShadow(saved[:1], 5); err == nil {
			t.Fatal("LoadShadow with a missing tensor succeeded")
		}
	}
}
