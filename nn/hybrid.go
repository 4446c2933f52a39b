package nn

import "fmt"

// MuonAdamW is the reference model's optimizer split: Muon for every weight
// of rank >= 2 and AdamW for the rest (biases, norm gains, scalars) and for
// any parameter that ForceAdamW selects (embedding tables and output heads
// are often kept on AdamW). Both take the same learning rate; to give them
// different ones call Muon.Step and AdamW.Step yourself.
type MuonAdamW struct {
	Muon  *Muon
	AdamW *AdamW
	all   []NamedParam
}

// NewMuonAdamW splits params between a Muon and an AdamW optimizer.
// forceAdamW may be nil.
func NewMuonAdamW(params []NamedParam, muon MuonConfig, adam AdamWConfig, forceAdamW func(name string) bool) *MuonAdamW {
	mp, ap := SplitMuon(params, forceAdamW)
	return &MuonAdamW{Muon: NewMuon(mp, muon), AdamW: NewAdamW(ap, adam), all: append([]NamedParam(nil), params...)}
}

// SplitMuon returns the parameters Muon should take (rank >= 2 and not
// forced) and those AdamW should take, each in the order of params.
func SplitMuon(params []NamedParam, forceAdamW func(name string) bool) (muon, adam []NamedParam) {
	for _, p := range params {
		if p.Var.Value.Rank() >= 2 && (forceAdamW == nil || !forceAdamW(p.Name)) {
			muon = append(muon, p)
		} else {
			adam = append(adam, p)
		}
	}
	return muon, adam
}

// Step implements Optimizer.
func (o *MuonAdamW) Step(lr float64) {
	o.Muon.Step(lr)
	o.AdamW.Step(lr)
}

// ZeroGrad implements Optimizer.
func (o *MuonAdamW) ZeroGrad() { ZeroGrad(o.all) }

// Steps implements Optimizer.
func (o *MuonAdamW) Steps() int { return o.AdamW.Steps() }

// Params implements Optimizer (in the order given to NewMuonAdamW).
func (o *MuonAdamW) Params() []NamedParam { return o.all }

// State implements Optimizer: the Muon tensors then the AdamW tensors (their
// names are prefixed "muon." and "adamw.", so they cannot collide).
func (o *MuonAdamW) State() OptimizerState {
	m, a := o.Muon.State(), o.AdamW.State()
	return OptimizerState{Step: a.Step, Tensors: append(m.Tensors, a.Tensors...)}
}

// LoadState implements Optimizer.
func (o *MuonAdamW) LoadState(st OptimizerState) error {
	if st.Step < 0 {
		return fmt.Errorf("nn.MuonAdamW.LoadState: negative step %d", st.Step)
	}
	if err := loadStateTensors("MuonAdamW.LoadState", o.State().Tensors, st.Tensors); err != nil {
		return err
	}
	o.Muon.step, o.AdamW.step = st.Step, st.Step
	return nil
}
