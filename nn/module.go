package nn

import (
	"fmt"
	"strconv"

	"github.com/nori-ml/nori/autograd"
)

// Module is anything that owns trainable parameters. VisitParams calls fn for
// every parameter with its hierarchical name: prefix joined by a dot to the
// parameter's own name ("weight") or to a child module's name and so on
// ("blocks.3.attn.qkv.weight"). The visiting order must be fixed (not map
// order): optimizers, gradient clipping and checkpoints follow it, so it
// decides the exact bits of a training run.
type Module interface {
	VisitParams(prefix string, fn func(name string, p *autograd.Var))
}

// NamedParam is a parameter with its hierarchical name.
type NamedParam struct {
	Name string
	Var  *autograd.Var
}

// Join returns prefix.name, or name alone when prefix is empty. Modules use it
// to name their parameters and children.
func Join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// Params returns the parameters of m in visiting order. A Var reached under
// two names (tied weights) is listed once, under the first name, so that an
// optimizer updates it once. Two different Vars under one name are a
// programming error and panic.
func Params(m Module) []NamedParam {
	var out []NamedParam
	seenName := map[string]bool{}
	seenVar := map[*autograd.Var]bool{}
	m.VisitParams("", func(name string, p *autograd.Var) {
		if p == nil {
			panic(fmt.Sprintf("nn.Params: parameter %q is nil", name))
		}
		if seenVar[p] {
			return
		}
		if seenName[name] {
			panic(fmt.Sprintf("nn.Params: two parameters named %q", name))
		}
		seenName[name], seenVar[p] = true, true
		out = append(out, NamedParam{Name: name, Var: p})
	})
	return out
}

// NumParams returns the number of scalar parameters of m (each tied weight
// counted once).
func NumParams(m Module) int {
	n := 0
	for _, p := range Params(m) {
		n += p.Var.Value.Numel()
	}
	return n
}

// ZeroGrad zeroes the accumulated gradients of params (keeping the buffers so
// that the next backward pass reuses them).
func ZeroGrad(params []NamedParam) {
	for _, p := range params {
		p.Var.ZeroGrad()
	}
}

// Lookup returns the parameter called name, or nil.
func Lookup(params []NamedParam, name string) *autograd.Var {
	for _, p := range params {
		if p.Name == name {
			return p.Var
		}
	}
	return nil
}

// List is a sequence of modules whose parameters are named by index:
// "0.weight", "1.weight", ... under the list's prefix.
type List []Module

// VisitParams implements Module.
func (l List) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	for i, m := range l {
		m.VisitParams(Join(prefix, strconv.Itoa(i)), fn)
	}
}

// Named is a module assembled from named children, visited in the order
// given. It lets small models (tests, examples) be built without a type of
// their own.
type Named []Child

// Child is one entry of Named.
type Child struct {
	Name   string
	Module Module
}

// VisitParams implements Module.
func (n Named) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	for _, c := range n {
		c.Module.VisitParams(Join(prefix, c.Name), fn)
	}
}
